// Network read paths (docs/network.md): `sluice serve` in one network namespace, the client
// in another, joined by a veth pair the test creates and deletes.
//  - every placement and mode returns exactly what the local read backend returns, on
//    generated files at 0%, 1% and 100% selectivity, with records longer than a datagram
//    (and than an sk_msg window), without a trailing newline, and empty;
//  - injected datagram loss (the server's fault injection) is recovered exactly;
//  - hostile requests get the right error and the server keeps serving.
#include "test_support.hpp"

#include <sluice/error.hpp>
#include <sluice/aggregate.hpp>
#include <sluice/format.hpp>
#include <sluice/remote.hpp>
#include <sluice/scanner.hpp>

#include "generator.hpp"
#include "net/aggregate_wire.hpp"
#include "net/protocol.hpp"
#include "net/socket.hpp"
#include "unique_fd.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sluice {
namespace {

namespace fs = std::filesystem;
using net::ErrorCode;
using net::FrameType;
using net::Message;
using net::Tag;

constexpr const char* kServerAddr = "10.211.0.1";
constexpr const char* kClientAddr = "10.211.0.2";

int sh(const std::string& command) {
  int rc = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Two network namespaces joined by a veth pair; the calling thread moves into the client's,
// and returns to its own at the end.
class Namespaces {
 public:
  Namespaces() {
    std::string id = std::to_string(::getpid());
    server_ = "sluice-nt-s" + id;
    client_ = "sluice-nt-c" + id;
    std::string vs = "slnts" + id, vc = "slntc" + id;  // interface names: at most 15 bytes
    ok_ = sh("ip netns add " + server_) == 0 && sh("ip netns add " + client_) == 0 &&
          sh("ip link add " + vs + " netns " + server_ + " type veth peer name " + vc + " netns " + client_) == 0 &&
          sh("ip -n " + server_ + " addr add " + kServerAddr + "/24 dev " + vs) == 0 &&
          sh("ip -n " + client_ + " addr add " + kClientAddr + "/24 dev " + vc) == 0 &&
          sh("ip -n " + server_ + " link set lo up") == 0 && sh("ip -n " + client_ + " link set lo up") == 0 &&
          sh("ip -n " + server_ + " link set " + vs + " up") == 0 &&
          sh("ip -n " + client_ + " link set " + vc + " up") == 0;
    if (!ok_) return;
    home_.reset(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    server_fd_.reset(::open(("/run/netns/" + server_).c_str(), O_RDONLY | O_CLOEXEC));
    client_fd_.reset(::open(("/run/netns/" + client_).c_str(), O_RDONLY | O_CLOEXEC));
    ok_ = home_ && server_fd_ && client_fd_ && ::setns(client_fd_.get(), CLONE_NEWNET) == 0;
  }
  ~Namespaces() {
    if (home_) ::setns(home_.get(), CLONE_NEWNET);
    sh("ip netns del " + server_);
    sh("ip netns del " + client_);
  }
  bool ok() const { return ok_; }
  int server_fd() const { return server_fd_.get(); }
  const std::string& server_name() const { return server_; }
  const std::string& client_name() const { return client_; }

 private:
  std::string server_, client_;
  UniqueFd home_, server_fd_, client_fd_;
  bool ok_ = false;
};

// `sluice serve` in a thread inside the server namespace (its sessions' threads too).
class ServerThread {
 public:
  ServerThread(const Namespaces& ns, ServeOptions o) {
    o.listen = std::string(kServerAddr) + ":0";
    o.log = [this](const std::string& line) {
      std::lock_guard lock(log_mutex_);
      log_ += line + "\n";
    };
    std::promise<void> ready;
    auto started = ready.get_future();
    thread_ = std::thread([&, o] {
      try {
        if (::setns(ns.server_fd(), CLONE_NEWNET) != 0) throw system_error("setns", errno);
        server_.emplace(o);
        address_ = server_->address();
        ready.set_value();
      } catch (...) {
        ready.set_exception(std::current_exception());
        return;
      }
      server_->run();
    });
    started.get();
  }
  ~ServerThread() {
    if (server_) server_->stop();
    thread_.join();
  }
  const std::string& address() const { return address_; }
  Server& server() { return *server_; }
  std::string log() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }

 private:
  std::thread thread_;
  std::optional<Server> server_;
  std::string address_;
  std::mutex log_mutex_;
  std::string log_;
};

class TempDir {
 public:
  TempDir() : path_(fs::current_path() / ("net_test." + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_ / "root" / "sub");
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path root() const { return path_ / "root"; }
  fs::path path() const { return path_; }
  std::string write(const std::string& name, const std::string& data) const {
    std::ofstream(root() / name, std::ios::binary) << data;
    return name;
  }

 private:
  fs::path path_;
};

std::string generate(datasets::GenOptions o) {
  datasets::StringSink sink;
  datasets::generate(o, sink);
  return sink.take();
}

using Output = test::Records;

Output local_scan(const fs::path& path, const FilterSpec& spec) {
  ScanOptions o;
  o.backend = BackendKind::read;
  Scanner scanner(path.string(), Filter::make(spec), o);
  return test::drain(scanner);
}

Output remote_scan(const std::string& name, const FilterSpec& spec, const RemoteOptions& o,
                   RemoteStats* stats = nullptr) {
  RemoteScanner scanner(name, spec, o);
  Output out = test::drain(scanner);
  if (stats) *stats = scanner.remote_stats();
  return out;
}

bool can_make_namespaces(std::string& why) {
  if (::geteuid() != 0) {
    why = "needs root (network namespaces, BPF)";
    return false;
  }
  if (sh("ip -V") != 0) {
    why = "needs iproute2 (ip)";
    return false;
  }
  return true;
}

#define REQUIRE_NAMESPACES(ns)                                                   \
  do {                                                                           \
    std::string why;                                                             \
    SLUICE_REQUIRE_OR_SKIP(can_make_namespaces(why), why);                       \
    SLUICE_REQUIRE_OR_SKIP((ns).ok(), "could not create namespaces and a veth pair"); \
  } while (0)

// ---- every placement, byte for byte -------------------------------------------------------

struct Config {
  const char* name;
  Placement placement;
  Transport transport;
  ReceiveMode mode;
  bool xdp_generic = false;
  bool tc_clsact = false;
};

const Config kConfigs[] = {
    {"server", Placement::server, Transport::tcp, ReceiveMode::drop},
    {"client_tcp", Placement::client, Transport::tcp, ReceiveMode::drop},
    {"client_udp", Placement::client, Transport::udp, ReceiveMode::drop},
    {"xdp_drop", Placement::xdp, Transport::udp, ReceiveMode::drop},
    {"xdp_trim", Placement::xdp, Transport::udp, ReceiveMode::trim},
    {"xdp_generic_trim", Placement::xdp, Transport::udp, ReceiveMode::trim, true},
    {"tc_drop", Placement::tc, Transport::udp, ReceiveMode::drop},
    {"tc_trim", Placement::tc, Transport::udp, ReceiveMode::trim},
    {"tc_clsact_trim", Placement::tc, Transport::udp, ReceiveMode::trim, false, true},
    {"sockfilter_drop", Placement::sockfilter, Transport::udp, ReceiveMode::drop},
    {"sockfilter_trim", Placement::sockfilter, Transport::udp, ReceiveMode::trim},
};

RemoteOptions options_for(const Config& c, const std::string& address) {
  RemoteOptions o;
  o.address = address;
  o.placement = c.placement;
  o.transport = c.transport;
  o.mode = c.mode;
  o.xdp_generic = c.xdp_generic;
  o.tc_clsact = c.tc_clsact;
  o.timeout_seconds = 10;
  return o;
}

struct Case {
  std::string file;
  FilterSpec spec;
  std::string label;
};

// The test files: 0%, 1% (with records longer than an sk_msg window), 100% (lengths from
// 50 bytes to twice a datagram), no trailing newline, empty.
std::vector<Case> make_cases(const TempDir& dir) {
  std::vector<Case> cases;
  FilterSpec literal = FixedStringSpec{{"XQZSLUICE"}};
  auto gen = [&](const std::string& name, const char* sel, auto&& tweak) {
    datasets::GenOptions o;
    o.seed = 77;
    o.size = 2u << 20;
    o.literal_selectivity = datasets::parse_fraction(sel, "selectivity");
    tweak(o);
    return dir.write(name, generate(o));
  };
  std::string zero = gen("zero.csv", "0", [](auto&) {});
  std::string one = gen("one.csv", "1%", [](datasets::GenOptions& o) {
    o.long_records = 4;
    o.long_length = 70000;
    o.value_threshold = 990000;
  });
  std::string all = gen("all.csv", "100%", [](datasets::GenOptions& o) {
    o.min_length = 50;
    o.max_length = 3000;
    o.trailing_newline = false;
  });
  cases.push_back({zero, literal, "0%"});
  cases.push_back({one, literal, "1% literal"});
  cases.push_back({one, ColumnCompareSpec{3, CompareOp::gt, ValueType::integer, "990000", ','}, "1% column"});
  cases.push_back({one, FixedStringSpec{{"xqzsluice"}, true, false}, "1% ignore-case"});
  cases.push_back({all, literal, "100% long records"});
  cases.push_back({all, KeepNoneSpec{}, "keep-none"});
  cases.push_back({dir.write("tail.csv", "a\nXQZSLUICE b\n" + std::string(5000, 'c') + "XQZSLUICE"), literal,
                   "no trailing newline"});
  cases.push_back({dir.write("empty.csv", ""), literal, "empty"});
  return cases;
}

// The remote scan of a case prints exactly what the local read backend prints.
::testing::AssertionResult same_as_local(const TempDir& dir, const Case& c, const RemoteOptions& o,
                                         ServerThread& server, RemoteStats& rs) {
  Output want = local_scan(dir.root() / c.file, c.spec);
  Output got;
  try {
    got = remote_scan(c.file, c.spec, o, &rs);
  } catch (const Error& e) {
    return ::testing::AssertionFailure() << c.label << ": " << e.what() << "\nserver log:\n" << server.log();
  }
  if (got.count != want.count)
    return ::testing::AssertionFailure() << c.label << ": " << got.count << " records, the read backend "
                                         << want.count;
  if (got.text != want.text) return ::testing::AssertionFailure() << c.label << ": the records differ";
  return ::testing::AssertionSuccess();
}

class NetPlacement : public ::testing::TestWithParam<Config> {};

TEST_P(NetPlacement, MatchesTheReadBackend) {
  Namespaces ns;
  REQUIRE_NAMESPACES(ns);
  TempDir dir;
  ServeOptions so;
  so.root = dir.root().string();
  ServerThread server(ns, so);
  RemoteOptions o = options_for(GetParam(), server.address());
  for (const Case& c : make_cases(dir)) {
    RemoteStats rs;
    ASSERT_TRUE(same_as_local(dir, c, o, server, rs));
    if (GetParam().placement == Placement::xdp) {
      EXPECT_EQ(rs.attach_mode, GetParam().xdp_generic ? "xdp generic" : "xdp native");
    }
    if (GetParam().placement == Placement::tc) {
      EXPECT_EQ(rs.attach_mode, GetParam().tc_clsact ? "tc clsact" : "tc tcx");
    }
  }
  // The kernel placements deliver much less than the file at 1%.
  if (GetParam().placement != Placement::client) {
    RemoteStats rs;
    remote_scan("one.csv", FixedStringSpec{{"XQZSLUICE"}}, o, &rs);
    EXPECT_GT(rs.kernel_bytes_in, 0u);
    EXPECT_LT(rs.kernel_bytes_out, rs.kernel_bytes_in / 2) << "the filter let through too much";
    if (GetParam().placement != Placement::server) {
      EXPECT_GT(rs.filter_dropped, 0u);
    }
  }
  EXPECT_EQ(server.server().counters().failed, 0u) << server.log();
}

INSTANTIATE_TEST_SUITE_P(Net, NetPlacement, ::testing::ValuesIn(kConfigs),
                         [](const ::testing::TestParamInfo<Config>& info) { return std::string(info.param.name); });

// A finished transfer's verified program serves the next identical request without the
// verifier; with the cache off, every request loads.
TEST(NetServer, IdenticalRequestsReuseTheVerifiedProgram) {
  Namespaces ns;
  REQUIRE_NAMESPACES(ns);
  TempDir dir;
  std::vector<Case> cases = make_cases(dir);
  for (unsigned cache : {8u, 0u}) {
    ServeOptions so;
    so.root = dir.root().string();
    so.program_cache = cache;
    ServerThread server(ns, so);
    RemoteOptions o = options_for(kConfigs[0], server.address());
    Output want = local_scan(dir.root() / cases[1].file, cases[1].spec);
    for (int round = 0; round < 4; ++round) {
      // Rounds 2 and 3 use two data connections: two programs, the first from the pool.
      o.streams = round < 2 ? 1 : 2;
      RemoteStats rs;
      Output got = remote_scan(cases[1].file, cases[1].spec, o, &rs);
      ASSERT_TRUE(got.text == want.text) << "cache " << cache << " round " << round;
      ASSERT_EQ(rs.streams, o.streams);
      if (round == 0 || round == 2 || cache == 0) {  // round 2: the second program is new
        EXPECT_GT(rs.server_load_seconds, 0) << "cache " << cache << " round " << round;
      } else {
        EXPECT_EQ(rs.server_load_seconds, 0) << "round " << round << ": the program was loaded again";
      }
      EXPECT_EQ(rs.kernel_bytes_in, std::filesystem::file_size(dir.root() / cases[1].file)) << "counters not reset";
    }
    // Another filter is another program.
    RemoteStats rs;
    remote_scan(cases[2].file, cases[2].spec, o, &rs);
    EXPECT_GT(rs.server_load_seconds, 0);
  }
}

// ---- aggregates in the server's kernel ------------------------------------------------------

// Adds each record's group key and value columns (lines split on ',').
void aggregate_into(Aggregator& agg, const std::string& text, const AggregateSpec& spec) {
  RecordLayout layout;
  layout.delimiter = spec.delimiter;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string_view record(text.data() + start, nl - start);
    start = nl + 1;
    std::string key = spec.group_field ? field_value(record, layout, *spec.group_field).value_or("") : "";
    std::vector<std::optional<std::string>> owned;
    for (std::uint32_t f : spec.value_fields) owned.push_back(field_value(record, layout, f));
    std::vector<std::optional<std::string_view>> values(owned.begin(), owned.end());
    agg.add(key, values);
  }
}

// The partials' encoding: many groups over several frames (each within the frame limit),
// negative and scaled decimals, cells without numbers; malformed groups are refused.
TEST(NetWire, PartialAggregatesRoundTrip) {
  Aggregator a(2);
  for (int i = 0; i < 3000; ++i) {
    std::string key = "group-" + std::to_string(i % 1500) + std::string(static_cast<std::size_t>(i % 40), 'k');
    std::string v = std::to_string(i * 7 - 10000) + "." + std::to_string(i % 1000);
    std::optional<std::string_view> values[] = {v, i % 3 ? std::optional<std::string_view>("n/a") : std::nullopt};
    a.add(key, values);
  }
  std::vector<net::Message> frames = net::encode_partials(a);
  ASSERT_GT(frames.size(), 1u);
  Aggregator b(2);
  for (const net::Message& f : frames) {
    ASSERT_LE(f.encode().size(), net::kFrameHeaderSize + net::kMaxFrameBody);
    net::merge_partials(net::Message::decode(f.type(), f.encode().substr(net::kFrameHeaderSize)), b);
  }
  ASSERT_EQ(b.groups().size(), a.groups().size());
  EXPECT_EQ(b.records(), a.records());
  for (const auto& [key, g] : a.groups()) {
    const AggregateGroup& h = b.groups().at(key);
    EXPECT_EQ(h.count, g.count);
    EXPECT_EQ(compare(h.cells[0].sum, g.cells[0].sum), 0) << key;
    EXPECT_EQ(compare(*h.cells[0].min, *g.cells[0].min), 0) << key;
    EXPECT_EQ(compare(*h.cells[0].max, *g.cells[0].max), 0) << key;
    EXPECT_EQ(h.cells[1].numbers, 0u);
    EXPECT_FALSE(h.cells[1].min.has_value());
  }
  // Cut short, or more columns than the client asked for.
  net::Message cut(net::FrameType::partials);
  cut.add(net::Tag::group, frames[0].all(net::Tag::group)[0].substr(0, 20));
  Aggregator c(2);
  EXPECT_THROW(net::merge_partials(cut, c), net::ProtocolError);
  Aggregator one(1);
  EXPECT_THROW(net::merge_partials(frames[0], one), net::ProtocolError);
}

// Placement server with aggregates: the server's kernel counts and sums what it keeps and
// sends back partials instead of records; with the records it could not aggregate (window
// boundaries), the client's result equals the local read backend's, exactly.
TEST(NetServer, AggregatesInTheServersKernel) {
  Namespaces ns;
  REQUIRE_NAMESPACES(ns);
  TempDir dir;
  datasets::GenOptions g;
  g.seed = 9;
  g.size = 4u << 20;
  g.literal_selectivity = datasets::parse_fraction("10%", "selectivity");
  std::string file = dir.write("agg.csv", generate(g));
  FilterSpec filter = FixedStringSpec{{"XQZSLUICE"}};
  Output kept = local_scan(dir.root() / file, filter);
  ServeOptions so;
  so.root = dir.root().string();
  ServerThread server(ns, so);
  const AggregateSpec specs[] = {{',', std::nullopt, {}}, {',', 2u, {3u, 4u}}, {',', 1u, {3u}}};
  for (const AggregateSpec& spec : specs) {
    for (unsigned streams : {1u, 2u}) {
      SCOPED_TRACE(std::to_string(spec.value_fields.size()) + " columns, " + std::to_string(streams) + " streams");
      Aggregator want(spec.value_fields.size());
      aggregate_into(want, kept.text, spec);
      RemoteOptions o = options_for(kConfigs[0], server.address());
      o.streams = streams;
      o.aggregate = spec;
      RemoteScanner scanner(file, filter, o);
      Output delivered = test::drain(scanner);
      const Aggregator* in_kernel = scanner.kernel_aggregates();
      ASSERT_NE(in_kernel, nullptr) << server.log();
      EXPECT_LT(delivered.count, kept.count / 4) << "the kernel aggregated too little";
      EXPECT_EQ(scanner.stats().kernel_aggregated_records, in_kernel->records());
      Aggregator got(spec.value_fields.size());
      aggregate_into(got, delivered.text, spec);
      got.merge(*in_kernel);
      ASSERT_EQ(got.records(), kept.count);
      ASSERT_EQ(got.groups().size(), want.groups().size());
      for (const auto& [key, w] : want.groups()) {
        const AggregateGroup& h = got.groups().at(key);
        EXPECT_EQ(h.count, w.count) << key;
        for (std::size_t c = 0; c < w.cells.size(); ++c) {
          EXPECT_EQ(h.cells[c].numbers, w.cells[c].numbers) << key;
          EXPECT_EQ(compare(h.cells[c].sum, w.cells[c].sum), 0) << key << ": " << to_string(h.cells[c].sum);
          ASSERT_EQ(h.cells[c].min.has_value(), w.cells[c].min.has_value());
          if (w.cells[c].min) {
            EXPECT_EQ(compare(*h.cells[c].min, *w.cells[c].min), 0) << key;
            EXPECT_EQ(compare(*h.cells[c].max, *w.cells[c].max), 0) << key;
          }
        }
      }
    }
  }
  // Other placements aggregate on the client: nothing comes back from a kernel.
  RemoteOptions client = options_for(kConfigs[1], server.address());
  client.aggregate = specs[0];
  RemoteScanner scanner(file, filter, client);
  EXPECT_EQ(test::drain(scanner).count, kept.count);
  EXPECT_EQ(scanner.kernel_aggregates(), nullptr);
  EXPECT_EQ(server.server().counters().failed, 0u) << server.log();
}

// ---- several data connections (TCP placements) ---------------------------------------------

// Streams carry consecutive parts of the file, cut after a newline; the client reads them
// in order. Byte-identical to the read backend for every count, with long records at the
// cuts and one record spanning several of them.
TEST(NetStreams, SeveralDataConnectionsMatchTheReadBackend) {
  Namespaces ns;
  REQUIRE_NAMESPACES(ns);
  TempDir dir;
  std::vector<Case> cases = make_cases(dir);
  datasets::GenOptions g;
  g.seed = 5;
  g.size = 1u << 20;
  g.literal_selectivity = datasets::parse_fraction("10%", "selectivity");
  std::string body = generate(g);
  // A 600 kB record from 20 % to 80 % of the file: every cut of 2..5 parts but the first
  // lands inside it.
  std::string spanning = body.substr(0, 300000);
  spanning.resize(spanning.rfind('\n') + 1);
  spanning += "XQZSLUICE" + std::string(600000, 's') + "\n" + body.substr(0, 600000);
  cases.push_back({dir.write("spanning.csv", spanning), FixedStringSpec{{"XQZSLUICE"}}, "a record across the cuts"});
  ServeOptions so;
  so.root = dir.root().string();
  so.max_streams = 5;
  ServerThread server(ns, so);
  for (const Config& c : {kConfigs[0], kConfigs[1]}) {
    for (unsigned streams : {2u, 3u, 5u}) {
      RemoteOptions o = options_for(c, server.address());
      o.streams = streams;
      for (const Case& k : cases) {
        RemoteStats rs;
        ASSERT_TRUE(same_as_local(dir, k, o, server, rs)) << c.name << ", " << streams << " streams";
        EXPECT_GE(rs.streams, 1u);
        EXPECT_LE(rs.streams, streams);
        if (k.label == "1% literal") {
          EXPECT_EQ(rs.streams, streams) << "a 2 MiB file of short records cuts evenly";
        }
        if (c.placement == Placement::server && std::filesystem::file_size(dir.root() / k.file) > 0) {
          EXPECT_EQ(rs.kernel_bytes_in, std::filesystem::file_size(dir.root() / k.file)) << k.label;
        }
      }
    }
  }
  // The server holds a request to its own bound; without a wish, placement server takes
  // one stream for a small file, as does placement client.
  ServeOptions capped = so;
  capped.max_streams = 2;
  ServerThread small(ns, capped);
  RemoteOptions o = options_for(kConfigs[0], small.address());
  o.streams = 5;
  RemoteStats rs;
  EXPECT_TRUE(remote_scan("one.csv", FixedStringSpec{{"XQZSLUICE"}}, o, &rs).text ==
              local_scan(dir.root() / "one.csv", FixedStringSpec{{"XQZSLUICE"}}).text);
  EXPECT_EQ(rs.streams, 2u);
  o.streams = 0;
  remote_scan("one.csv", FixedStringSpec{{"XQZSLUICE"}}, o, &rs);
  EXPECT_EQ(rs.streams, 1u);
  EXPECT_EQ(server.server().counters().failed, 0u) << server.log();
}

// A later stream waits, blocked, while the client reads the ones before it. That is not
// idleness: with an idle timeout shorter than that wait, the transfer still completes.
TEST(NetStreams, ALaterStreamMayWaitLongerThanTheIdleTimeout) {
  Namespaces ns;
  REQUIRE_NAMESPACES(ns);
  TempDir dir;
  datasets::GenOptions g;
  g.size = 48u << 20;  // a part larger than what socket buffers hold
  g.literal_selectivity = datasets::parse_fraction("100%", "selectivity");
  std::string file = dir.write("all.csv", generate(g));
  ServeOptions so;
  so.root = dir.root().string();
  so.idle_timeout_seconds = 0.5;
  ServerThread server(ns, so);
  RemoteOptions o = options_for(kConfigs[1], server.address());  // client: the whole file crosses
  o.streams = 2;
  RemoteScanner scanner(file, FixedStringSpec{{"XQZSLUICE"}}, o);
  Output got;
  RecordBatch batch;
  auto t0 = std::chrono::steady_clock::now();
  while (scanner.next(batch)) {
    for (std::string_view r : batch.records) {
      got.text.append(r);
      got.text += '\n';
    }
    if (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2))  // a slow consumer, for 2 s
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << "the consumer was not slow enough";
  EXPECT_EQ(scanner.remote_stats().streams, 2u);
  EXPECT_TRUE(got.text == local_scan(dir.root() / file, FixedStringSpec{{"XQZSLUICE"}}).text);
  EXPECT_EQ(server.server().counters().failed, 0u) << server.log();
}

// ---- loss recovery -------------------------------------------------------------------------

TEST(NetLoss, InjectedLossIsRecoveredExactly) {
  Namespaces ns;
  REQUIRE_NAMESPACES(ns);
  TempDir dir;
  ServeOptions so;
  so.root = dir.root().string();
  so.drop_every = 13;  // every 13th datagram sent, retransmissions included, is discarded
  ServerThread server(ns, so);
  std::vector<Case> cases = make_cases(dir);
  for (const Config& c : kConfigs) {
    if (c.transport != Transport::udp) continue;
    RemoteOptions o = options_for(c, server.address());
    for (std::size_t i : {1u, 4u}) {  // 1% literal, 100% long records
      const Case& k = cases[i];
      RemoteStats rs;
      Output got = remote_scan(k.file, k.spec, o, &rs);
      Output want = local_scan(dir.root() / k.file, k.spec);
      ASSERT_TRUE(got.text == want.text) << c.name << " " << k.label;
      // (injected drops count retransmissions dropped again; `lost` counts each sequence
      // number re-requested once)
      EXPECT_GT(rs.injected_drops, 0u) << c.name;
      EXPECT_GT(rs.lost, 0u) << c.name;
      EXPECT_GE(rs.retransmitted, rs.lost) << c.name;
    }
  }
}

// A window smaller than the loss pattern's period and tiny datagrams: many rounds of
// re-requests and window advances.
TEST(NetLoss, SmallWindowAndDatagramsUnderLoss) {
  Namespaces ns;
  REQUIRE_NAMESPACES(ns);
  TempDir dir;
  ServeOptions so;
  so.root = dir.root().string();
  so.drop_every = 5;
  ServerThread server(ns, so);
  datasets::GenOptions g;
  g.seed = 5;
  g.size = 256u << 10;
  g.long_records = 2;
  g.long_length = 5000;
  std::string file = dir.write("small.csv", generate(g));
  FilterSpec spec = FixedStringSpec{{"XQZSLUICE"}};
  RemoteOptions o = options_for(kConfigs[4], server.address());  // xdp trim
  o.window = 16;
  o.datagram_size = 200;
  RemoteStats rs;
  Output got = remote_scan(file, spec, o, &rs);
  EXPECT_TRUE(got.text == local_scan(dir.root() / file, spec).text);
  EXPECT_GT(rs.retransmitted, 0u);
}

// ---- hostile requests ----------------------------------------------------------------------

// A raw client: sends bytes, returns the first message back (nullopt: closed without one).
std::optional<Message> exchange(const std::string& address, const std::string& bytes, double timeout = 5) {
  UniqueFd fd = net::connect_to(net::resolve(address, false), 5);
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  net::set_nonblocking(fd.get());
  net::Channel ch(fd.get(), -1);
  try {
    return ch.receive(net::Clock::now() + std::chrono::milliseconds(static_cast<int>(timeout * 1000)));
  } catch (const Error&) {
    return std::nullopt;
  }
}

Message request(const std::string& path, const FilterSpec& spec, const char* placement = "client") {
  Message m(FrameType::request);
  m.add(Tag::path, path).add(Tag::placement, placement);
  net::encode_filter(m, spec);
  return m;
}

std::string error_of(const std::optional<Message>& m) {
  if (!m) return "(no reply)";
  if (m->type() != FrameType::error) return "(reply " + std::string(net::to_string(m->type())) + ")";
  return std::string(net::to_string(static_cast<ErrorCode>(m->required_u64(Tag::error_code))));
}

#define EXPECT_REFUSED(reply, code) EXPECT_EQ(error_of(reply), net::to_string(code))

class NetHostile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!can_make_namespaces(why)) {
      if (test::kernel_required()) FAIL() << why;
      GTEST_SKIP() << why;
    }
    ns_.emplace();
    if (!ns_->ok()) {
      if (test::kernel_required()) FAIL() << "could not create namespaces";
      GTEST_SKIP() << "could not create namespaces";
    }
    dir_.emplace();
    datasets::GenOptions o;
    o.size = 1u << 20;
    dir_->write("data.csv", generate(o));
    datasets::GenOptions big;
    big.size = 48u << 20;
    big.literal_selectivity = datasets::parse_fraction("100%", "selectivity");
    dir_->write("big.csv", generate(big));
    std::ofstream(dir_->path() / "outside.csv") << "secret XQZSLUICE\n";
    fs::create_symlink("../outside.csv", dir_->root() / "escape.csv");
    fs::create_symlink("/etc/passwd", dir_->root() / "absolute.csv");
    fs::create_symlink("../../outside.csv", dir_->root() / "sub" / "escape2.csv");
    fs::create_symlink("data.csv", dir_->root() / "inside.csv");
    ::mkfifo((dir_->root() / "fifo").c_str(), 0600);
  }
  void start(ServeOptions so = {}) {
    so.root = dir_->root().string();
    so.request_timeout_seconds = 0.5;
    so.idle_timeout_seconds = 3;
    server_.emplace(*ns_, so);
  }
  // The server still serves a normal request correctly.
  void expect_still_serving() {
    RemoteOptions o;
    o.address = server_->address();
    o.placement = Placement::client;
    Output got = remote_scan("data.csv", FixedStringSpec{{"XQZSLUICE"}}, o);
    EXPECT_TRUE(got.text == local_scan(dir_->root() / "data.csv", FixedStringSpec{{"XQZSLUICE"}}).text);
  }
  std::string addr() { return server_->address(); }

  std::optional<Namespaces> ns_;
  std::optional<TempDir> dir_;
  std::optional<ServerThread> server_;
};

TEST_F(NetHostile, PathsOutsideTheRootAreRefused) {
  start();
  FilterSpec f = FixedStringSpec{{"x"}};
  EXPECT_REFUSED(exchange(addr(), request("../outside.csv", f).encode()), ErrorCode::forbidden);
  EXPECT_REFUSED(exchange(addr(), request("sub/../../outside.csv", f).encode()), ErrorCode::forbidden);
  EXPECT_REFUSED(exchange(addr(), request("/etc/passwd", f).encode()), ErrorCode::forbidden);
  EXPECT_REFUSED(exchange(addr(), request("escape.csv", f).encode()), ErrorCode::forbidden);
  EXPECT_REFUSED(exchange(addr(), request("absolute.csv", f).encode()), ErrorCode::forbidden);
  EXPECT_REFUSED(exchange(addr(), request("sub/escape2.csv", f).encode()), ErrorCode::forbidden);
  EXPECT_REFUSED(exchange(addr(), request("missing.csv", f).encode()), ErrorCode::not_found);
  EXPECT_REFUSED(exchange(addr(), request("sub", f).encode()), ErrorCode::not_regular);
  EXPECT_REFUSED(exchange(addr(), request("fifo", f).encode()), ErrorCode::not_regular);  // and never blocks
  EXPECT_REFUSED(exchange(addr(), request(std::string("data.csv\0x", 10), f).encode()), ErrorCode::bad_request);
  // A symlink that stays inside the root is followed (openat2 RESOLVE_BENEATH).
  RemoteOptions o;
  o.address = addr();
  o.placement = Placement::client;
  EXPECT_EQ(remote_scan("inside.csv", FixedStringSpec{{"XQZSLUICE"}}, o).text,
            local_scan(dir_->root() / "data.csv", FixedStringSpec{{"XQZSLUICE"}}).text);
  try {
    remote_scan("escape.csv", FixedStringSpec{{"x"}}, o);
    ADD_FAILURE() << "an escaping symlink was served";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.code_name(), "forbidden");
  }
  expect_still_serving();
}

TEST_F(NetHostile, WithoutOpenat2EverySymlinkIsRefused) {
  ServeOptions so;
  so.use_openat2 = false;
  start(so);
  FilterSpec f = FixedStringSpec{{"x"}};
  EXPECT_REFUSED(exchange(addr(), request("inside.csv", f).encode()), ErrorCode::forbidden);
  EXPECT_REFUSED(exchange(addr(), request("escape.csv", f).encode()), ErrorCode::forbidden);
  EXPECT_REFUSED(exchange(addr(), request("sub/escape2.csv", f).encode()), ErrorCode::forbidden);
  EXPECT_REFUSED(exchange(addr(), request("../outside.csv", f).encode()), ErrorCode::forbidden);
  EXPECT_REFUSED(exchange(addr(), request("sub", f).encode()), ErrorCode::not_regular);
  expect_still_serving();
}

TEST_F(NetHostile, FiltersAndParametersAreValidated) {
  start();
  Message unknown(FrameType::request);
  unknown.add(Tag::path, "data.csv").add(Tag::placement, "server").add(Tag::filter, "bpf_bytecode").add(Tag::value, "\x18\x00");
  EXPECT_REFUSED(exchange(addr(), unknown.encode()), ErrorCode::unknown_filter);
  std::vector<std::string> nine(9, "p");
  EXPECT_REFUSED(exchange(addr(), request("data.csv", FixedStringSpec{nine}).encode()), ErrorCode::bad_parameter);
  EXPECT_REFUSED(exchange(addr(), request("data.csv", FixedStringSpec{{std::string(200, 'x')}}).encode()),
                 ErrorCode::bad_parameter);
  EXPECT_REFUSED(exchange(addr(), request("data.csv", FixedStringSpec{}).encode()), ErrorCode::bad_parameter);
  EXPECT_REFUSED(exchange(addr(), request("data.csv", ColumnCompareSpec{3, CompareOp::gt, ValueType::integer, "1x", ','}).encode()),
                 ErrorCode::bad_parameter);
  Message column0 = request("data.csv", ColumnCompareSpec{});
  Message zero(FrameType::request);
  for (const net::Field& f : column0.fields())
    if (f.tag == static_cast<std::uint8_t>(Tag::column)) zero.add_u64(Tag::column, 0);
    else zero.add(static_cast<Tag>(f.tag), f.value);
  EXPECT_REFUSED(exchange(addr(), zero.encode()), ErrorCode::bad_parameter);
  Message flag = request("data.csv", FixedStringSpec{{"x"}});
  flag.add_u64(Tag::invert, 7);  // and given twice
  EXPECT_REFUSED(exchange(addr(), flag.encode()), ErrorCode::bad_request);
  EXPECT_REFUSED(exchange(addr(), request("data.csv", KeepAllSpec{}, "gpu").encode()), ErrorCode::unknown_placement);
  Message server_udp = request("data.csv", KeepAllSpec{}, "server");
  server_udp.add(Tag::transport, "udp");
  EXPECT_REFUSED(exchange(addr(), server_udp.encode()), ErrorCode::unknown_placement);
  Message bad_udp = request("data.csv", KeepAllSpec{}, "xdp");
  bad_udp.add_u64(Tag::udp_port, 9).add_u64(Tag::datagram_size, 10);
  EXPECT_REFUSED(exchange(addr(), bad_udp.encode()), ErrorCode::bad_parameter);
  expect_still_serving();
}

TEST_F(NetHostile, MalformedMessagesAreRefused) {
  start();
  std::string good = request("data.csv", FixedStringSpec{{"x"}}).encode();
  // HTTP, or any other protocol: bad magic.
  EXPECT_REFUSED(exchange(addr(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ErrorCode::bad_request);
  // A future version.
  std::string v9 = good;
  v9[1] = 9;
  EXPECT_REFUSED(exchange(addr(), v9), ErrorCode::unsupported_version);
  // Oversized: the header announces 10 MB.
  std::string huge = good.substr(0, 4) + std::string("\x00\x98\x96\x80", 4);
  EXPECT_REFUSED(exchange(addr(), huge), ErrorCode::too_large);
  // Truncated: half a message, then silence (the request timeout answers).
  EXPECT_REFUSED(exchange(addr(), good.substr(0, good.size() / 2)), ErrorCode::timeout);
  // Truncated and closed at once: nobody to answer, the server must simply go on.
  {
    UniqueFd fd = net::connect_to(net::resolve(addr(), false), 5);
    ::send(fd.get(), good.data(), 5, MSG_NOSIGNAL);
  }
  // A field running past the end of the body.
  std::string cut = good;
  cut[5] = 0, cut[6] = 0, cut[7] = 4;  // body length 4: one field header and a cut value
  cut.resize(8 + 4);
  cut[8] = 1, cut[9] = 0, cut[10] = 9;
  EXPECT_REFUSED(exchange(addr(), cut), ErrorCode::bad_request);
  // Missing path, unknown critical field, wrong first message.
  Message nopath(FrameType::request);
  nopath.add(Tag::placement, "client").add(Tag::filter, "keep_all");
  EXPECT_REFUSED(exchange(addr(), nopath.encode()), ErrorCode::bad_request);
  Message critical = request("data.csv", KeepAllSpec{});
  critical.add(static_cast<Tag>(0x50), "?");
  EXPECT_REFUSED(exchange(addr(), critical.encode()), ErrorCode::bad_request);
  Message optional = request("data.csv", KeepNoneSpec{});
  optional.add(static_cast<Tag>(0x90), "ignored");
  std::optional<Message> reply = exchange(addr(), optional.encode());
  ASSERT_TRUE(reply && reply->type() == FrameType::accept) << error_of(reply);
  EXPECT_REFUSED(exchange(addr(), Message(FrameType::done).encode()), ErrorCode::bad_request);
  // A data connection with a token nobody waits for.
  Message attach(FrameType::attach);
  attach.add(Tag::token, "0123456789abcdef");
  EXPECT_REFUSED(exchange(addr(), attach.encode()), ErrorCode::bad_request);
  // More streams than any server grants.
  Message many = request("data.csv", KeepAllSpec{});
  many.add_u64(Tag::streams, kMaxStreams + 1);
  EXPECT_REFUSED(exchange(addr(), many.encode()), ErrorCode::bad_parameter);
  // Aggregates: a field cut short, a newline delimiter.
  Message agg = request("data.csv", KeepAllSpec{}, "server");
  agg.add(Tag::aggregate, std::string(",\0\0", 3));
  EXPECT_REFUSED(exchange(addr(), agg.encode()), ErrorCode::bad_parameter);
  Message newline = request("data.csv", KeepAllSpec{}, "server");
  newline.add(Tag::aggregate, std::string("\n\xff\xff\xff\xff", 5));
  EXPECT_REFUSED(exchange(addr(), newline.encode()), ErrorCode::bad_parameter);
  expect_still_serving();
}

// Data connections of a transfer with several streams: an index out of range, the same
// index twice, or too few connections get errors; the server goes on serving.
TEST_F(NetHostile, DataConnectionsMustMatchTheTransfer) {
  start();
  UniqueFd control = net::connect_to(net::resolve(addr(), false), 5);
  Message r = request("data.csv", KeepAllSpec{});
  r.add_u64(Tag::streams, 2);
  std::string bytes = r.encode();
  ASSERT_EQ(::send(control.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  net::set_nonblocking(control.get());
  net::Channel ch(control.get(), -1);
  std::optional<Message> accept = ch.receive(net::Clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE(accept && accept->type() == FrameType::accept) << error_of(accept);
  ASSERT_EQ(accept->required_u64(Tag::streams), 2u);
  std::string token(accept->required(Tag::token));
  Message beyond(FrameType::attach);
  beyond.add(Tag::token, token).add_u64(Tag::stream, 2);
  EXPECT_REFUSED(exchange(addr(), beyond.encode(), 1), ErrorCode::bad_request);
  Message first(FrameType::attach);
  first.add(Tag::token, token).add_u64(Tag::stream, 0);
  UniqueFd data = net::connect_to(net::resolve(addr(), false), 5);
  std::string f = first.encode();
  ASSERT_EQ(::send(data.get(), f.data(), f.size(), MSG_NOSIGNAL), static_cast<ssize_t>(f.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_REFUSED(exchange(addr(), first.encode(), 1), ErrorCode::bad_request);  // stream 0 again
  // Stream 1 never comes: the request times out with an error on the control connection.
  std::optional<Message> reply = ch.receive(net::Clock::now() + std::chrono::seconds(5));
  EXPECT_REFUSED(reply, ErrorCode::timeout);
  expect_still_serving();
}

TEST_F(NetHostile, BusyServerSaysSo) {
  ServeOptions so;
  so.max_clients = 1;
  start(so);
  // One request holds the only slot: accepted, its data connection never comes.
  UniqueFd holder = net::connect_to(net::resolve(addr(), false), 5);
  std::string held = request("data.csv", KeepAllSpec{}).encode();
  ASSERT_EQ(::send(holder.get(), held.data(), held.size(), MSG_NOSIGNAL), static_cast<ssize_t>(held.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_REFUSED(exchange(addr(), request("data.csv", KeepAllSpec{}).encode()), ErrorCode::busy);
  holder.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the holder's session times out
  expect_still_serving();
}

TEST_F(NetHostile, ClientsThatDisconnectMidStream) {
  start();
  std::uint64_t failed_before = server_->server().counters().failed;
  std::vector<RemoteOptions> clients;
  for (const Config& c : {kConfigs[0], kConfigs[1], kConfigs[2], kConfigs[4]}) clients.push_back(options_for(c, addr()));
  clients.push_back(clients[0]);
  clients.back().streams = 3;  // three sending threads, each blocked on its own connection
  for (const RemoteOptions& o : clients) {
    RemoteScanner scanner("big.csv", KeepAllSpec{}, o);
    RecordBatch batch;
    ASSERT_TRUE(scanner.next(batch)) << to_string(o.placement) << " " << o.streams << " streams";
    // Destroyed mid-file: sockets close, the receive program detaches.
  }
  // Each session notices (EPIPE, or EOF on the control connection) and ends as failed.
  for (int i = 0; i < 100 && server_->server().counters().failed < failed_before + clients.size(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(server_->server().counters().failed, failed_before + clients.size()) << server_->log();
  EXPECT_EQ(server_->server().counters().active, 0u);
  expect_still_serving();
  // A client that vanishes right after its request.
  {
    UniqueFd fd = net::connect_to(net::resolve(addr(), false), 5);
    std::string r = request("big.csv", KeepAllSpec{}, "server").encode();
    ::send(fd.get(), r.data(), r.size(), MSG_NOSIGNAL);
  }
  expect_still_serving();
}

TEST_F(NetHostile, StopEndsEverySessionAndReleasesItsKernelObjects) {
  start();
  RemoteOptions o = options_for(kConfigs[0], addr());  // server placement: sk_msg loaded
  RemoteScanner scanner("big.csv", KeepAllSpec{}, o);
  RecordBatch batch;
  ASSERT_TRUE(scanner.next(batch));
  o.streams = 3;  // and a transfer whose later streams wait, blocked, behind the first
  RemoteScanner three("big.csv", KeepAllSpec{}, o);
  RecordBatch other;
  ASSERT_TRUE(three.next(other));
  auto t0 = std::chrono::steady_clock::now();
  server_.reset();  // stop() + run() returns when every session has unwound
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  // The client sees the end as an error, not as a short but "complete" file.
  EXPECT_THROW(
      {
        while (scanner.next(batch)) {
        }
      },
      Error);
  EXPECT_THROW(
      {
        while (three.next(other)) {
        }
      },
      Error);
}

}  // namespace
}  // namespace sluice
