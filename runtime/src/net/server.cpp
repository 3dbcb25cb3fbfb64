// `sluice serve`: one thread accepts; one thread per connection reads its first message and
// either serves a request (a session) or hands a data connection to the session waiting for
// it. Every socket a thread blocks on is registered, so stop() can shut them all down; every
// kernel object (BPF programs, maps, sockmap entries, attachments) belongs to a session's
// stack and is released when the session unwinds, whatever ends it.
#include <sluice/bpf_program.hpp>
#include <sluice/remote.hpp>

#include "chunk_source.hpp"
#include "bpf/kernel_aggregate.hpp"
#include "net/aggregate_wire.hpp"
#include "net/datagram.hpp"
#include "net/export_root.hpp"
#include "net/protocol.hpp"
#include "bpf/sk_msg_attach.hpp"
#include "net/socket.hpp"
#include "record_split.hpp"
#include "net_proto.h"
#include "sk_msg_filter.h"
#include "unique_fd.hpp"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace sluice {

using net::Channel;
using net::Clock;
using net::ErrorCode;
using net::FrameType;
using net::Message;
using net::ProtocolError;
using net::Tag;

namespace {

constexpr std::size_t kBatch = 32;                 // datagrams per sendmmsg
constexpr std::uint32_t kMinDatagram = 64;
constexpr std::uint32_t kDefaultDatagram = 1472;   // a 1500-byte MTU, IPv4
constexpr std::uint32_t kMaxWindow = std::min<std::uint32_t>(SLUICE_NET_WINDOW_MAX, 65536);
constexpr std::size_t kClientChunk = 4u << 20;     // sendfile per call, placement client

Clock::time_point after(double seconds) {
  return Clock::now() + std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6));
}

struct ThreadCpu {
  timeval user{}, system{};
  static ThreadCpu now() {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return {u.ru_utime, u.ru_stime};
  }
  static std::uint64_t us(const timeval& t) {
    return static_cast<std::uint64_t>(t.tv_sec) * 1000000u + static_cast<std::uint64_t>(t.tv_usec);
  }
};

void block_sigpipe() {
  // A write to a closed connection raises SIGPIPE in this thread (sendfile has no
  // MSG_NOSIGNAL): keep it blocked; the call fails with EPIPE instead.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
}

// The kernel refused (verifier, attachment): the client hears the reason.
[[noreturn]] void kernel_failure(const Error& e) { throw ProtocolError(ErrorCode::kernel, e.what()); }

}  // namespace

namespace net {

// Verified sk_msg programs of finished transfers, detached, counters zeroed, kept for a
// later request with the same filter and parameters (the key): it skips the verifier.
// Sessions take a program out for their own use; nothing is shared while attached.
class ProgramPool {
 public:
  explicit ProgramPool(std::size_t capacity) : capacity_(capacity) {}
  std::unique_ptr<LoadedFilterObject> take(const std::string& key) {
    std::lock_guard lock(mutex_);
    for (auto it = idle_.begin(); it != idle_.end(); ++it)
      if (it->first == key) {
        std::unique_ptr<LoadedFilterObject> object = std::move(it->second);
        idle_.erase(it);
        return object;
      }
    return nullptr;
  }
  void give(std::string key, std::unique_ptr<LoadedFilterObject> object) {
    if (capacity_ == 0 || !zero_counters(*object)) return;  // destroyed here
    std::lock_guard lock(mutex_);
    idle_.emplace_front(std::move(key), std::move(object));
    while (idle_.size() > capacity_) idle_.pop_back();  // least recently used goes
  }

 private:
  static bool zero_counters(const LoadedFilterObject& object) {
    int cpus = libbpf_num_possible_cpus();
    std::vector<sluice_sk_msg_stats> zeros(static_cast<std::size_t>(cpus > 0 ? cpus : 1));
    std::uint32_t key = 0;
    return bpf_map_update_elem(object.map_fd("stats"), &key, zeros.data(), BPF_ANY) == 0;
  }
  std::size_t capacity_;
  std::mutex mutex_;
  std::list<std::pair<std::string, std::unique_ptr<LoadedFilterObject>>> idle_;
};

// The server's shared state (Server::Impl is this; sessions see it under this name).
struct ServerState {
  ServeOptions options;
  net::ExportRoot root;
  net::SocketAddress bound;
  UniqueFd listener;
  UniqueFd stop_event;

  struct Pending {
    net::SocketAddress peer;
    std::vector<UniqueFd> fds;  // the transfer's data connections, by stream index
    std::size_t attached = 0;
    bool ready() const { return attached == fds.size(); }
  };
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };

  mutable std::mutex mutex;
  std::condition_variable changed;
  std::set<int> live;                     // sockets to shut down on stop
  std::map<std::string, Pending> pending; // data connections awaited, by token
  std::list<Worker> workers;
  unsigned handlers = 0;
  ServerCounters counters;
  bool stopping = false;
  ProgramPool programs;

  explicit ServerState(const ServeOptions& o)
      : options(o), root(o.root, o.use_openat2), programs(o.program_cache) {}

  // One line per event: what a client sent (paths, filter names) cannot forge log lines.
  void log(const std::string& line) const {
    if (!options.log) return;
    std::string clean;
    for (char c : line) {
      if (c == '\n') clean += " | ";
      else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) clean += '?';
      else clean += c;
    }
    options.log(clean);
  }
  bool stop_requested() const {
    std::lock_guard lock(mutex);
    return stopping;
  }

  // A socket registered for the time of a scope.
  class LiveSocket {
   public:
    LiveSocket(ServerState& impl, int fd) : impl_(impl), fd_(fd) {
      std::lock_guard lock(impl_.mutex);
      impl_.live.insert(fd_);
      if (impl_.stopping) ::shutdown(fd_, SHUT_RDWR);
    }
    ~LiveSocket() {
      std::lock_guard lock(impl_.mutex);
      impl_.live.erase(fd_);
    }
    LiveSocket(const LiveSocket&) = delete;
    LiveSocket& operator=(const LiveSocket&) = delete;

   private:
    ServerState& impl_;
    int fd_;
  };

  void accept_one();
  void handle_connection(UniqueFd fd);
  void handle_attach(UniqueFd& fd, const Message& m, const net::SocketAddress& peer);
  void reap(bool all);
};

}  // namespace net

struct Server::Impl : net::ServerState {
  using ServerState::ServerState;
};

// ---- a session: one request -------------------------------------------------------------

namespace {

// One data connection of a TCP transfer: its part of the file and, when the server filters,
// its own program (per-CPU scratch maps are not shared between streams that run at once).
struct DataStream {
  ByteRange range;
  std::unique_ptr<LoadedFilterObject> object;
  bool cached = false;  // the program came from the pool (no verifier run for this request)
  UniqueFd socket;
  std::uint64_t sent = 0;
};

// Whether a TCP transfer still moves, seen by all its sending threads: a send that returns
// bytes, or the bytes its data connections hold unacknowledged changing (the client reads
// what was sent: a stream that sent everything still drains while a later one waits).
class TransferProgress {
 public:
  TransferProgress(const std::vector<DataStream>& streams, double idle_seconds)
      : streams_(streams),
        idle_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(idle_seconds))) {}
  void sent() {
    std::lock_guard lock(mutex_);
    moved_ = Clock::now();
  }
  // True when nothing moved for the idle timeout (looks at the send queues first).
  bool idle() {
    std::lock_guard lock(mutex_);
    std::uint64_t queued = unacknowledged();
    if (queued != queued_) {
      queued_ = queued;
      moved_ = Clock::now();
    }
    return Clock::now() - moved_ > idle_;
  }

 private:
  std::uint64_t unacknowledged() const {
    std::uint64_t total = 0;
    for (const DataStream& st : streams_) {
      int queued = 0;
      if (st.socket && ::ioctl(st.socket.get(), SIOCOUTQ, &queued) == 0) total += static_cast<std::uint64_t>(queued);
    }
    return total;
  }
  const std::vector<DataStream>& streams_;
  const Clock::duration idle_;
  std::mutex mutex_;
  Clock::time_point moved_ = Clock::now();
  std::uint64_t queued_ = 0;
};

class Session {
 public:
  Session(net::ServerState& impl, Channel& control, const net::SocketAddress& peer)
      : impl_(impl), control_(control), peer_(peer) {}

  // Serves `request`; throws ProtocolError/Error for a refusal or a failure.
  void serve(const Message& request);
  bool accepted() const { return accepted_; }
  const std::string& describe() const { return what_; }

 private:
  void serve_tcp(const Message& request, bool filter_on_server);
  unsigned stream_count(const Message& request, bool filter_on_server) const;
  std::string load_programs(std::vector<DataStream>& streams, const std::optional<HostSetting>& aggregate);
  void send_streams(std::vector<DataStream>& streams);
  Message transfer_end(const std::vector<DataStream>& streams, bool filter_on_server) const;
  std::uint64_t send_partials(const std::vector<DataStream>& streams, const AggregateSpec& aggregate);
  void send_part(DataStream& stream, TransferProgress& progress);
  void add_cpu(Message& m) const;
  // How often a waiting stream or the wait for DONE looks at the transfer's progress: a
  // quarter of the idle timeout, at most a second, so progress is never seen too late.
  double progress_interval() const { return std::min(1.0, impl_.options.idle_timeout_seconds / 4); }
  void add_helper_cpu(const ThreadCpu& start);
  void serve_udp(const Message& request);
  std::vector<UniqueFd> await_data_connections(const std::string& token);
  void finish(Message end, const std::vector<DataStream>& streams);

  net::ServerState& impl_;
  Channel& control_;
  net::SocketAddress peer_;
  std::string path_;
  OpenedFile file_{};
  std::optional<Filter> filter_;
  Placement placement_ = Placement::server;
  bool accepted_ = false;
  std::string what_;
  ThreadCpu cpu_start_{};                       // this thread's, from the start of the transfer
  std::atomic<std::uint64_t> helper_user_us_{0};  // and the CPU of its other sending threads
  std::atomic<std::uint64_t> helper_system_us_{0};
};

void Session::serve(const Message& request) {
  path_ = std::string(request.required(Tag::path));
  Placement placement;
  Transport transport;
  try {
    placement = parse_placement(request.required(Tag::placement));
    std::optional<std::string_view> t = request.optional(Tag::transport);
    transport = t ? parse_transport(*t) : transport_of(placement);
    if (std::optional<std::string_view> mode = request.optional(Tag::mode)) parse_receive_mode(*mode);
  } catch (const UsageError& e) {
    throw ProtocolError(ErrorCode::unknown_placement, e.what());
  }
  if (transport != transport_of(placement, transport))
    throw ProtocolError(ErrorCode::unknown_placement, "placement " + std::string(to_string(placement)) +
                                                          " does not run over " + std::string(to_string(transport)));
  placement_ = placement;
  FilterSpec spec = net::decode_filter(request);
  file_ = impl_.root.open(path_);
  filter_.emplace(Filter::make(spec));
  std::string shown = path_.substr(0, 200);
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // one log line per event
  what_ = peer_.to_string() + " " + std::string(to_string(placement)) + "/" + std::string(to_string(transport)) +
          " " + filter_->name() + " '" + shown + "' (" + std::to_string(file_.size) + " bytes)";
  cpu_start_ = ThreadCpu::now();
  if (transport == Transport::tcp)
    serve_tcp(request, placement == Placement::server);
  else
    serve_udp(request);
}

std::vector<UniqueFd> Session::await_data_connections(const std::string& token) {
  std::unique_lock lock(impl_.mutex);
  auto deadline = after(impl_.options.request_timeout_seconds);
  auto it = impl_.pending.find(token);
  while (!it->second.ready() && !impl_.stopping) {
    if (impl_.changed.wait_until(lock, deadline) == std::cv_status::timeout && !it->second.ready()) break;
  }
  bool ready = it->second.ready();
  std::vector<UniqueFd> fds = std::move(it->second.fds);
  impl_.pending.erase(it);
  if (impl_.stopping) throw ProtocolError(ErrorCode::unavailable, "the server is shutting down");
  if (!ready) throw ProtocolError(ErrorCode::timeout, "the data connections did not arrive in time");
  return fds;
}

// How many data connections a TCP transfer uses: the client's wish within the server's
// bound; by default, when the server filters, one per CPU (at most 2, for files of 64 MiB a
// stream: the sk_msg scan runs in the sending thread's context, so streams spread it over
// the CPUs), and one when it only sends (the network is then the bound).
unsigned Session::stream_count(const Message& request, bool filter_on_server) const {
  std::uint64_t wanted = request.optional_u64(Tag::streams).value_or(0);
  if (wanted > kMaxStreams)
    throw ProtocolError(ErrorCode::bad_parameter, "streams " + std::to_string(wanted) + " is outside 0.." +
                                                      std::to_string(kMaxStreams));
  unsigned n = wanted > 0 ? static_cast<unsigned>(wanted) : filter_on_server ? automatic_stream_count(file_.size) : 1;
  return std::clamp(n, 1u, std::max(1u, impl_.options.max_streams));
}

// Every stream's program, from the pool or loaded, the loads at the same time (each is a
// verifier run, on its own CPU). The verifier thus runs before any data is sent. Programs
// that aggregate are never pooled (their partials would need clearing): always loaded.
std::string Session::load_programs(std::vector<DataStream>& streams, const std::optional<HostSetting>& aggregate) {
  std::vector<char> sample(static_cast<std::size_t>(std::min<std::uint64_t>(file_.size, 64 * 1024)));
  ssize_t n = sample.empty() ? 0 : ::pread(file_.fd.get(), sample.data(), sample.size(), 0);
  sample.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  Filter tuned = filter_->tuned_for(sample);
  std::string key = "sk_msg_filter/" + tuned.name() + "/";
  key.append(reinterpret_cast<const char*>(tuned.params().data()), tuned.params().size());
  std::vector<HostSetting> settings{{"sluice_pass_to_peer", 1}, {"sluice_count_records", 0}};
  if (aggregate) settings.push_back(*aggregate);
  std::vector<std::exception_ptr> errors(streams.size());
  std::vector<std::thread> loaders;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (!aggregate) streams[i].object = impl_.programs.take(key);
    streams[i].cached = streams[i].object != nullptr;
    if (streams[i].cached) continue;
    loaders.emplace_back([&, i] {
      ThreadCpu start = ThreadCpu::now();
      try {
        streams[i].object = std::make_unique<LoadedFilterObject>("sk_msg_filter", tuned, settings);
      } catch (...) {
        errors[i] = std::current_exception();
      }
      add_helper_cpu(start);
    });
  }
  for (std::thread& t : loaders) t.join();
  for (const std::exception_ptr& e : errors) {
    if (!e) continue;
    try {
      std::rethrow_exception(e);
    } catch (const Error& error) {
      kernel_failure(error);
    }
  }
  return key;
}

void Session::serve_tcp(const Message& request, bool filter_on_server) {
  std::vector<ByteRange> parts = split_at_records(file_, *filter_, stream_count(request, filter_on_server));
  std::vector<DataStream> streams(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) streams[i].range = parts[i];
  // Aggregates the client wants from the server's kernel, when the kernel can compute them.
  std::optional<AggregateSpec> aggregate = filter_on_server ? net::decode_aggregate_spec(request) : std::nullopt;
  std::optional<HostSetting> in_kernel =
      aggregate ? kernel_aggregate_setting(*aggregate, filter_->framing()) : std::nullopt;
  std::string program_key;
  if (filter_on_server) program_key = load_programs(streams, in_kernel);

  std::string token = net::random_token();
  {
    std::lock_guard lock(impl_.mutex);
    net::ServerState::Pending& pending = impl_.pending[token];
    pending.peer = peer_;
    pending.fds.resize(streams.size());
  }
  Message accept(FrameType::accept);
  accept.add(Tag::token, token).add_u64(Tag::file_size, file_.size).add_u64(Tag::streams, streams.size());
  if (filter_on_server) accept.add_u64(Tag::aggregating, in_kernel ? 1 : 0);
  // Loads that ran for this request (programs from the pool cost none: fields absent).
  double load_seconds = 0;
  std::optional<std::uint64_t> verified;
  for (const DataStream& st : streams)
    if (st.object && !st.cached) {
      load_seconds = std::max(load_seconds, st.object->load_info().load_seconds);  // they ran in parallel
      verified = st.object->load_info().verified_instructions;
    }
  if (verified) {
    accept.add_u64(Tag::load_seconds_us, static_cast<std::uint64_t>(load_seconds * 1e6));
    accept.add_u64(Tag::verified_insns, *verified);
  }
  try {
    control_.send(accept, after(impl_.options.request_timeout_seconds));
  } catch (...) {
    std::lock_guard lock(impl_.mutex);
    impl_.pending.erase(token);
    throw;
  }
  accepted_ = true;
  std::vector<UniqueFd> sockets = await_data_connections(token);
  for (std::size_t i = 0; i < streams.size(); ++i) streams[i].socket = std::move(sockets[i]);
  send_streams(streams);
  Message end = transfer_end(streams, filter_on_server);
  if (in_kernel) end.add_u64(Tag::aggregate_fallbacks, send_partials(streams, *aggregate));
  // Detached and empty: a later request with the same filter may reuse them.
  for (DataStream& st : streams)
    if (st.object && !in_kernel) impl_.programs.give(program_key, std::move(st.object));
  finish(std::move(end), streams);
}

// END of a TCP transfer: what was sent and, when the server filtered, what its kernel kept.
Message Session::transfer_end(const std::vector<DataStream>& streams, bool filter_on_server) const {
  std::uint64_t sent = 0, kept = 0, kernel_in = 0, boundary = 0;
  for (const DataStream& st : streams) {
    sent += st.sent;
    if (!st.object) {
      kept += st.sent;
      continue;
    }
    sluice_sk_msg_stats k = read_sk_msg_stats(st.object->map_fd("stats"));
    if (k.errors > 0)
      throw ProtocolError(ErrorCode::kernel, "the kernel could not remove dropped records from " +
                                                 std::to_string(k.errors) + " window(s); the data sent is unusable");
    kept += k.bytes_kept;
    kernel_in += k.bytes_in;
    boundary += k.boundary_bytes;
  }
  Message end(FrameType::end);
  end.add_u64(Tag::bytes_sent, sent).add_u64(Tag::bytes_kept, kept);
  if (filter_on_server) end.add_u64(Tag::kernel_bytes_in, kernel_in).add_u64(Tag::boundary_bytes, boundary);
  return end;
}

// The kernel's partial aggregates, sent before END (the records they hold were never sent);
// returns how many kept records the kernel sent instead of aggregating them.
std::uint64_t Session::send_partials(const std::vector<DataStream>& streams, const AggregateSpec& aggregate) {
  std::uint64_t delivered_instead = 0;
  Aggregator partials(aggregate.value_fields.size());
  for (const DataStream& st : streams) {
    partials.merge(read_kernel_aggregates(*st.object, aggregate));
    delivered_instead += fallbacks(read_kernel_aggregate_stats(*st.object));
  }
  for (const Message& frame : net::encode_partials(partials))
    control_.send(frame, after(impl_.options.idle_timeout_seconds));
  return delivered_instead;
}

// Every stream sends at the same time, stream 0 from this thread. The client reads them in
// order, so a later stream may wait for the ones before it: the transfer is idle only when
// no stream moves. The first failure ends every stream (the client cannot use the rest).
void Session::send_streams(std::vector<DataStream>& streams) {
  TransferProgress progress(streams, impl_.options.idle_timeout_seconds);
  std::mutex failure_mutex;
  std::exception_ptr failure;
  auto run = [&](std::size_t i) {
    ThreadCpu start = ThreadCpu::now();
    try {
      send_part(streams[i], progress);
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      for (DataStream& other : streams) ::shutdown(other.socket.get(), SHUT_RDWR);
    }
    if (i > 0) add_helper_cpu(start);
  };
  std::vector<std::thread> helpers;
  for (std::size_t i = 1; i < streams.size(); ++i) helpers.emplace_back(run, i);
  run(0);
  for (std::thread& t : helpers) t.join();
  if (failure) std::rethrow_exception(failure);
}

// One data connection: its part of the file with sendfile, through its sk_msg program when
// the server filters. Everything attached is detached before the FIN.
void Session::send_part(DataStream& st, TransferProgress& progress) {
  int fd = st.socket.get();
  net::ServerState::LiveSocket live(impl_, fd);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  // Short waits, so a stream queued behind the earlier ones looks at the transfer's progress
  // (and a blocked send returns what it sent so far: progress is seen at most `wait` late).
  double wait = progress_interval();
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(wait);
  tv.tv_usec = static_cast<suseconds_t>((wait - static_cast<double>(tv.tv_sec)) * 1e6);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  std::unique_ptr<SkMsgAttachment> attachment;
  std::unique_ptr<SockmapEntry> entry;
  if (st.object) {
    try {
      // Attach before inserting: a socket picks up the map's programs when it is added.
      attachment = std::make_unique<SkMsgAttachment>(st.object->program_fd("sluice_sk_msg"), st.object->map_fd("sock_in"));
      entry = std::make_unique<SockmapEntry>(st.object->map_fd("sock_in"), fd);
    } catch (const Error& e) {
      kernel_failure(e);
    }
  }
  off_t offset = static_cast<off_t>(st.range.begin);
  const std::uint64_t end = std::min(st.range.end, file_.size);
  const std::size_t chunk = st.object ? SLUICE_SK_MSG_SEND_CHUNK : kClientChunk;
  while (static_cast<std::uint64_t>(offset) < end) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(end - static_cast<std::uint64_t>(offset), chunk));
    ssize_t n = ::sendfile(fd, file_.fd.get(), &offset, want);
    if (n > 0) {
      st.sent += static_cast<std::uint64_t>(n);
      progress.sent();
      continue;
    }
    if (n == 0) break;  // the file shrank: what there was is what is sent
    if (errno == EINTR) continue;
    if (impl_.stop_requested()) throw ProtocolError(ErrorCode::unavailable, "the server is shutting down");
    if (errno == EAGAIN) {
      if (progress.idle()) throw ProtocolError(ErrorCode::timeout, "the client stopped reading");
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET) throw ProtocolError(ErrorCode::io, "the client went away mid-stream");
    throw ProtocolError(ErrorCode::io, std::string("sending the file: ") + std::strerror(errno));
  }
  // Out of the sockmap and detached before the connection ends; then FIN.
  entry.reset();
  attachment.reset();
  ::shutdown(fd, SHUT_WR);
}

// END, then wait for the client's DONE, then the summary. The client may still be reading
// what the data connections hold (a slow consumer, a later stream behind an earlier one):
// while those queues shrink, it is not idle.
void Session::finish(Message end, const std::vector<DataStream>& streams) {
  add_cpu(end);
  control_.send(end, after(impl_.options.idle_timeout_seconds));
  TransferProgress progress(streams, impl_.options.idle_timeout_seconds);
  const double wait = progress_interval();
  while (true) {
    std::optional<Message> m;
    try {
      m = control_.receive(after(wait));
    } catch (const ProtocolError& e) {
      if (e.code() != ErrorCode::timeout) throw;
      if (progress.idle()) throw ProtocolError(ErrorCode::timeout, "the client did not confirm the end of the transfer");
      continue;
    }
    if (!m) throw ProtocolError(ErrorCode::io, "the client closed the connection before confirming");
    if (m->type() == FrameType::done) break;
    if (m->type() == FrameType::ack || m->type() == FrameType::nack) continue;  // late, harmless
    net::expect_type(*m, FrameType::done);
  }
  Message summary(FrameType::summary);
  add_cpu(summary);
  control_.send(summary, after(impl_.options.request_timeout_seconds));
}

// The CPU a helper thread of this session spent since `start` (call from that thread).
void Session::add_helper_cpu(const ThreadCpu& start) {
  ThreadCpu stop = ThreadCpu::now();
  helper_user_us_ += ThreadCpu::us(stop.user) - ThreadCpu::us(start.user);
  helper_system_us_ += ThreadCpu::us(stop.system) - ThreadCpu::us(start.system);
}

void Session::add_cpu(Message& m) const {
  ThreadCpu now = ThreadCpu::now();
  m.add_u64(Tag::user_cpu_us, ThreadCpu::us(now.user) - ThreadCpu::us(cpu_start_.user) + helper_user_us_.load());
  m.add_u64(Tag::system_cpu_us,
            ThreadCpu::us(now.system) - ThreadCpu::us(cpu_start_.system) + helper_system_us_.load());
}

void Session::serve_udp(const Message& request) {
  std::uint64_t port = request.required_u64(Tag::udp_port);
  if (port == 0 || port > 65535) throw ProtocolError(ErrorCode::bad_parameter, "UDP port out of range");
  std::uint64_t size = request.optional_u64(Tag::datagram_size).value_or(kDefaultDatagram);
  if (size < kMinDatagram || size > impl_.options.max_datagram_size)
    throw ProtocolError(ErrorCode::bad_parameter, "datagram size " + std::to_string(size) + " is outside " +
                                                      std::to_string(kMinDatagram) + ".." +
                                                      std::to_string(impl_.options.max_datagram_size));
  std::uint64_t window = request.optional_u64(Tag::window).value_or(2048);
  if (window < 16 || window > kMaxWindow)
    throw ProtocolError(ErrorCode::bad_parameter, "window " + std::to_string(window) + " is outside 16.." +
                                                      std::to_string(kMaxWindow));
  const std::uint32_t datagram_size = static_cast<std::uint32_t>(size);
  const std::uint32_t capacity = datagram_size - static_cast<std::uint32_t>(sizeof(sluice_net_hdr));

  // Datagrams go only to the address the request came from: never a reflector.
  net::SocketAddress local = net::local_address(control_.fd());
  net::SocketAddress to = peer_;
  to.set_port(static_cast<std::uint16_t>(port));
  local.set_port(0);
  UniqueFd udp(::socket(local.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!udp) throw system_error("socket(UDP)", errno);
  // A small send buffer: sendmmsg blocks while the first hop's queue (a qdisc, tbf) holds
  // this much of ours, instead of the qdisc dropping what overflows it.
  int sndbuf = 128 << 10;  // the kernel doubles it
  ::setsockopt(udp.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (::bind(udp.get(), local.get(), local.length) != 0 || ::connect(udp.get(), to.get(), to.length) != 0)
    throw system_error("UDP socket to " + to.to_string(), errno);
  std::uint32_t file_id = net::random_u32();

  Message accept(FrameType::accept);
  accept.add_u64(Tag::file_id, file_id)
      .add_u64(Tag::file_size, file_.size)
      .add_u64(Tag::udp_source_port, net::local_address(udp.get()).port())
      .add_u64(Tag::window, window)
      .add_u64(Tag::datagram_size, datagram_size);
  control_.send(accept, after(impl_.options.request_timeout_seconds));
  accepted_ = true;
  // The client loads and attaches its receive program, then says start.
  std::optional<Message> start = control_.receive(after(impl_.options.request_timeout_seconds));
  if (!start) throw ProtocolError(ErrorCode::io, "the client closed the connection before start");
  net::expect_type(*start, FrameType::start);
  cpu_start_ = ThreadCpu::now();

  net::DatagramPacker packer(file_.fd.get(), file_.size, capacity);
  std::vector<net::DatagramSpan> ring(window);
  std::vector<std::string> buffers(kBatch, std::string(datagram_size, '\0'));
  std::deque<std::uint32_t> resend;
  std::vector<char> queued(window, 0);  // seq % window is in `resend` already
  std::string reread;
  std::uint64_t next_seq = 0, acked = 0, bytes_sent = 0, retransmitted = 0, injected = 0, counter = 0;
  const std::uint64_t drop_every = impl_.options.drop_every;
  bool packed_all = false, end_sent = false;
  auto last_progress = Clock::now();
  // Tail-loss probe: when the server waits (window full, or all sent) and nothing moves for
  // a few round trips, it sends the highest sequence number again. The client learns how
  // far the server got and re-requests the gaps, also a lost tail nothing came after.
  auto last_motion = Clock::now();
  const auto probe_after = std::max<Clock::duration>(std::chrono::milliseconds(20), 4 * net::rtt_of(control_.fd()));
  // Congestion window in datagrams (Reno-like): slow start from 64, additive increase per
  // acknowledged window, halved on a loss report at most once per window sent. The client's
  // window stays the upper bound (its receive buffer).
  double cwnd = 64, ssthresh = static_cast<double>(window);
  std::uint64_t sent_since_cut = 0;
  auto limit = [&] { return acked + std::min<std::uint64_t>(window, static_cast<std::uint64_t>(cwnd)); };

  auto fill_header = [&](std::string& buf, std::uint64_t seq, std::uint8_t flags) {
    sluice_net_hdr h{};
    h.magic = htons(SLUICE_NET_MAGIC);
    h.version = SLUICE_NET_VERSION;
    h.flags = flags;
    h.file_id = htonl(file_id);
    h.seq = htonl(static_cast<std::uint32_t>(seq));
    std::memcpy(buf.data(), &h, sizeof h);
  };
  // Sends buffers[0, count) with their lengths; the fault injection discards some.
  std::vector<std::size_t> lengths(kBatch);
  auto send_batch = [&](std::size_t count) {
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    std::size_t n = 0;
    for (std::size_t i = 0; i < count; ++i) {
      ++counter;
      if (drop_every && counter % drop_every == 0) {
        ++injected;
        continue;
      }
      iov[n] = {buffers[i].data(), lengths[i]};
      msgs[n] = {};
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
      ++n;
    }
    std::size_t done = 0;
    while (done < n) {
      int rc = ::sendmmsg(udp.get(), msgs + done, static_cast<unsigned>(n - done), 0);
      if (rc > 0) {
        done += static_cast<std::size_t>(rc);
        continue;
      }
      if (rc < 0 && errno == EINTR) continue;
      // ECONNREFUSED (an ICMP error from an earlier datagram), ENOBUFS: this one is lost;
      // the client re-requests it. Whether the client is still there, the control
      // connection tells.
      if (rc < 0 && (errno == ECONNREFUSED || errno == ENOBUFS || errno == EAGAIN)) {
        ++done;
        continue;
      }
      throw ProtocolError(ErrorCode::io, std::string("sending datagrams: ") + std::strerror(errno));
    }
  };

  while (true) {
    bool eof = false;
    bool finished = false;
    while (std::optional<Message> m = control_.poll(eof)) {
      if (m->type() == FrameType::ack) {
        std::uint64_t seq = m->required_u64(Tag::seq);
        if (seq > acked && seq <= next_seq) {
          double k = static_cast<double>(seq - acked);
          cwnd = std::min<double>(window, cwnd < ssthresh ? cwnd + k : cwnd + k / cwnd);
          acked = seq;
          last_progress = last_motion = Clock::now();
        }
      } else if (m->type() == FrameType::nack) {
        std::string_view list = m->required(Tag::seqs);
        if (list.size() % 4 != 0) throw ProtocolError(ErrorCode::bad_request, "a NACK list of odd length");
        for (std::size_t i = 0; i < list.size(); i += 4) {
          std::uint32_t s;
          std::memcpy(&s, list.data() + i, 4);
          s = ntohl(s);
          // Only what was sent and not yet acknowledged, each at most once in the queue:
          // a client repeating NACKs cannot grow it beyond a window.
          if (s >= acked && s < next_seq && !queued[s % window]) {
            queued[s % window] = 1;
            resend.push_back(s);
          }
        }
        if (!list.empty() && static_cast<double>(sent_since_cut) >= cwnd) {  // a loss: back off
          ssthresh = std::max(64.0, cwnd / 2);
          cwnd = ssthresh;
          sent_since_cut = 0;
        }
        last_progress = Clock::now();
      } else if (m->type() == FrameType::done) {
        finished = true;
        break;
      } else {
        net::expect_type(*m, FrameType::ack);
      }
    }
    if (finished) break;
    if (eof) throw ProtocolError(ErrorCode::io, "the client went away mid-stream");
    if (impl_.stop_requested()) throw ProtocolError(ErrorCode::unavailable, "the server is shutting down");

    if (!resend.empty()) {
      std::size_t k = 0;
      while (k < kBatch && !resend.empty()) {
        std::uint32_t s = resend.front();
        resend.pop_front();
        queued[s % window] = 0;
        if (s < acked) continue;
        const net::DatagramSpan& span = ring[s % window];
        packer.reread(span, reread);
        std::string& buf = buffers[k];
        fill_header(buf, s, static_cast<std::uint8_t>(span.flags | SLUICE_NET_RETRANSMIT));
        std::memcpy(buf.data() + sizeof(sluice_net_hdr), reread.data(), reread.size());
        lengths[k] = sizeof(sluice_net_hdr) + reread.size();
        ++k;
      }
      retransmitted += k;
      send_batch(k);
      last_motion = Clock::now();
      continue;
    }
    if (!packed_all && next_seq < limit()) {
      std::size_t k = 0;
      while (k < kBatch && next_seq + k < limit()) {
        net::DatagramSpan span;
        std::string_view payload;
        if (!packer.next(span, payload)) {
          packed_all = true;
          break;
        }
        ring[(next_seq + k) % window] = span;
        std::string& buf = buffers[k];
        fill_header(buf, next_seq + k, span.flags);
        std::memcpy(buf.data() + sizeof(sluice_net_hdr), payload.data(), payload.size());
        lengths[k] = sizeof(sluice_net_hdr) + payload.size();
        bytes_sent += payload.size();
        ++k;
      }
      send_batch(k);
      next_seq += k;
      sent_since_cut += k;
      last_motion = Clock::now();
      if (next_seq > 0xffffffffull) throw ProtocolError(ErrorCode::too_large, "more than 2^32 datagrams");
      continue;
    }
    if (packed_all && !end_sent) {
      Message end(FrameType::end);
      end.add_u64(Tag::datagrams, next_seq).add_u64(Tag::bytes_sent, bytes_sent);
      add_cpu(end);
      control_.send(end, after(impl_.options.idle_timeout_seconds));
      end_sent = true;
      continue;
    }
    // Window full, or everything sent: wait for the client.
    if (next_seq > acked && Clock::now() - last_motion > probe_after) {
      if (!queued[(next_seq - 1) % window]) resend.push_back(static_cast<std::uint32_t>(next_seq - 1));
      queued[(next_seq - 1) % window] = 1;
      last_motion = Clock::now();
      continue;
    }
    pollfd pfd[2] = {{control_.fd(), POLLIN, 0}, {impl_.stop_event.get(), POLLIN, 0}};
    int rc = ::poll(pfd, 2, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(probe_after).count()));
    if (rc < 0 && errno != EINTR) throw system_error("poll", errno);
    if (Clock::now() - last_progress > std::chrono::duration<double>(impl_.options.idle_timeout_seconds))
      throw ProtocolError(ErrorCode::timeout, "the client made no progress for " +
                                                  std::to_string(impl_.options.idle_timeout_seconds) + " s");
  }
  Message summary(FrameType::summary);
  summary.add_u64(Tag::retransmitted, retransmitted).add_u64(Tag::injected_drops, injected);
  add_cpu(summary);
  control_.send(summary, after(impl_.options.request_timeout_seconds));
}

}  // namespace

// ---- connections ---------------------------------------------------------------------------

void net::ServerState::handle_attach(UniqueFd& fd, const Message& m, const net::SocketAddress& peer) {
  std::string token(m.required(Tag::token));
  std::uint64_t index = m.optional_u64(Tag::stream).value_or(0);
  std::lock_guard lock(mutex);
  auto it = pending.find(token);
  if (it == pending.end() || !it->second.peer.same_host(peer) || index >= it->second.fds.size() ||
      it->second.fds[index])
    throw ProtocolError(ErrorCode::bad_request, "no transfer waits for this data connection");
  it->second.fds[index] = std::move(fd);
  ++it->second.attached;
  changed.notify_all();
}

void net::ServerState::handle_connection(UniqueFd fd) {
  block_sigpipe();
  net::SocketAddress peer;
  try {
    peer = net::peer_address(fd.get());
  } catch (const Error&) {
    return;  // already gone
  }
  std::optional<LiveSocket> live(std::in_place, *this, fd.get());
  Channel control(fd.get(), stop_event.get());
  bool session = false;
  std::optional<Session> s;
  try {
    std::optional<Message> first = control.receive(after(options.request_timeout_seconds));
    if (!first) return;  // connected and left
    if (first->type() == FrameType::attach) {
      live.reset();
      handle_attach(fd, *first, peer);  // takes fd only if it is awaited
      return;
    }
    net::expect_type(*first, FrameType::request);
    {
      std::lock_guard lock(mutex);
      if (counters.active >= options.max_clients)
        throw ProtocolError(ErrorCode::busy, "the server serves " + std::to_string(options.max_clients) +
                                                 " clients at a time; try again later");
      ++counters.active;
      session = true;
    }
    s.emplace(*this, control, peer);
    s->serve(*first);
    log("done " + s->describe());
    std::lock_guard lock(mutex);
    ++counters.requests;
    ++counters.completed;
  } catch (const Error& e) {
    ErrorCode code = ErrorCode::internal;
    if (const auto* p = dynamic_cast<const ProtocolError*>(&e)) code = p->code();
    else if (dynamic_cast<const RemoteError*>(&e)) code = ErrorCode::io;  // the client reported an error
    bool accepted = s && s->accepted();
    log(std::string(accepted ? "failed " : "refused ") + (s && !s->describe().empty() ? s->describe() : peer.to_string()) +
        ": " + std::string(net::to_string(code)) + ": " + e.what());
    try {
      if (fd) control.send(net::error_message(code, e.what()), after(1));
    } catch (const Error&) {
      // the client is gone, or does not read: nothing more to tell it
    }
    std::lock_guard lock(mutex);
    if (accepted) {
      ++counters.requests;
      ++counters.failed;
    } else {
      ++counters.refused;
    }
  } catch (const std::exception& e) {
    log("internal error serving " + peer.to_string() + ": " + e.what());
    std::lock_guard lock(mutex);
    ++counters.failed;
  }
  if (session) {
    std::lock_guard lock(mutex);
    --counters.active;
  }
}

void net::ServerState::accept_one() {
  UniqueFd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!fd) {
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // out of resources: back off
    return;
  }
  std::lock_guard lock(mutex);
  ++counters.connections;
  // Connections still reading their first message (or handing over data) count too.
  if (handlers >= 2 * options.max_clients + 4) {
    ++counters.refused;
    std::string busy = net::error_message(ErrorCode::busy, "too many connections").encode();
    ssize_t ignored = ::send(fd.get(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
    return;
  }
  ++handlers;
  auto finished = std::make_shared<std::atomic<bool>>(false);
  workers.push_back({std::thread([this, finished, f = std::move(fd)]() mutable {
                       handle_connection(std::move(f));
                       std::lock_guard lock(mutex);
                       --handlers;
                       finished->store(true);
                       changed.notify_all();
                     }),
                     finished});
}

void net::ServerState::reap(bool all) {
  std::list<Worker> done;
  {
    std::lock_guard lock(mutex);
    for (auto it = workers.begin(); it != workers.end();) {
      if (all || it->finished->load()) {
        auto next = std::next(it);
        done.splice(done.end(), workers, it);
        it = next;
      } else {
        ++it;
      }
    }
  }
  for (Worker& w : done) w.thread.join();
}

Server::Server(const ServeOptions& options) : impl_(std::make_unique<Impl>(options)) {
  if (options.max_clients == 0) throw UsageError("max clients must be at least 1");
  impl_->bound = net::resolve(options.listen, true);
  impl_->listener = net::listen_on(impl_->bound, 64);
  impl_->bound = net::local_address(impl_->listener.get());
  impl_->stop_event.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!impl_->stop_event) throw system_error("eventfd", errno);
}

Server::~Server() {
  stop();
  if (impl_) impl_->reap(true);
}

std::string Server::address() const { return impl_->bound.to_string(); }
std::uint16_t Server::port() const { return impl_->bound.port(); }

void Server::stop() {
  std::uint64_t one = 1;
  ssize_t ignored = ::write(impl_->stop_event.get(), &one, sizeof one);
  (void)ignored;
}

ServerCounters Server::counters() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counters;
}

void Server::run() {
  Impl& impl = *impl_;
  impl.log("serving " + impl.root.path() + " on " + address() +
           (impl.root.uses_openat2() ? "" : " (no openat2: symlinks are refused)"));
  while (true) {
    pollfd pfd[2] = {{impl.listener.get(), POLLIN, 0}, {impl.stop_event.get(), POLLIN, 0}};
    int n = ::poll(pfd, 2, 1000);
    if (n < 0 && errno != EINTR) throw system_error("poll", errno);
    if (pfd[1].revents & POLLIN) break;
    if (pfd[0].revents & POLLIN) impl.accept_one();
    impl.reap(false);
  }
  // Stop: no new connections; every blocked session wakes up (its sockets shut down, the
  // stop event readable), unwinds and releases its kernel objects.
  impl.listener.reset();
  {
    std::unique_lock lock(impl.mutex);
    impl.stopping = true;
    for (int fd : impl.live) ::shutdown(fd, SHUT_RDWR);
    for (auto& [token, p] : impl.pending)
      for (UniqueFd& fd : p.fds)
        if (fd) ::shutdown(fd.get(), SHUT_RDWR);
    impl.changed.notify_all();
    impl.changed.wait(lock, [&] { return impl.handlers == 0; });
  }
  impl.reap(true);
  impl.log("stopped");
}

}  // namespace sluice
