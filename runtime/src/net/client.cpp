// The client of `sluice serve`: RemoteScanner. TCP placements read a byte stream (the whole
// file, or what the server's sk_msg filter kept); UDP placements put datagrams back in
// order, tell filter drops (the receive program's map) from losses, re-request losses,
// and grant the server its window. Either way a RecordMatcher re-judges what arrives, so
// records the kernel passed unjudged (window boundaries, long records) come out exact.
#include <sluice/error.hpp>
#include <sluice/remote.hpp>

#include "net/aggregate_wire.hpp"
#include "net/ordered_streams.hpp"
#include "net/protocol.hpp"
#include "net/receive_program.hpp"
#include "net/socket.hpp"
#include "net_proto.h"
#include "record_matcher.hpp"
#include "resource_clock.hpp"
#include "unique_fd.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sluice {

using net::Channel;
using net::Clock;
using net::ErrorCode;
using net::FrameType;
using net::Message;
using net::ProtocolError;
using net::Tag;

namespace {

constexpr std::size_t kStreamBuffer = 1u << 20;
constexpr std::size_t kRecvBatch = 64;
constexpr std::size_t kMaxNackSeqs = 4096;

// A gap this old is a loss: 2 RTTs of the control connection (TCP_INFO), at least 1 ms.
// (A lost tail, with nothing after it to reveal the gap, is the server's to probe.)
Clock::duration loss_grace(std::chrono::microseconds rtt) {
  return std::max<Clock::duration>(std::chrono::microseconds(1000), 2 * rtt);
}

// When to ask again for a re-requested datagram: twice the smoothed time re-requests took
// to be answered (queues on a shaped link make that far longer than the connect-time RTT),
// doubled for every further attempt. Starts at 50 ms, kept within [2 ms, 2 s].
class ResendTimer {
 public:
  void sample(Clock::duration answered_after) {
    srtt_ = srtt_.count() == 0 ? answered_after : (7 * srtt_ + answered_after) / 8;
    rto_ = std::clamp<Clock::duration>(2 * srtt_, std::chrono::milliseconds(2), std::chrono::seconds(2));
  }
  Clock::duration after(unsigned attempts) const { return rto_ * (1u << std::min(attempts - 1, 6u)); }

 private:
  Clock::duration srtt_{0};
  Clock::duration rto_ = std::chrono::milliseconds(50);
};

// Few datagrams per wake-up: sleep this long before looking again, so one wake-up takes a
// batch (a filtered stream trickles in; one poll per datagram costs more than the data).
constexpr auto kCoalesce = std::chrono::microseconds(300);
constexpr int kCoalesceBelow = 16;

Clock::time_point after(double seconds) {
  return Clock::now() + std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6));
}

// Converts a ProtocolError of ours into a plain sluice::Error with context.
[[noreturn]] void fail(const std::string& what) { throw Error(what); }

}  // namespace

struct RemoteScanner::Impl {
  std::string path;
  RemoteOptions options;
  Filter filter;
  Transport transport;
  ResourceClock usage;
  UniqueFd control_fd;
  std::optional<Channel> control;
  net::SocketAddress server;
  RecordMatcher matcher;
  RemoteStats rstats;
  bool done = false;
  std::uint64_t received = 0;  // payload bytes received

  // TCP
  std::optional<net::OrderedStreams> data;  // one connection per part of the file
  std::vector<char> buffer;
  bool data_eof = false;       // every stream ended
  std::optional<Aggregator> partials;  // placement server: what its kernel aggregated
  std::uint64_t aggregate_fallbacks = 0;  // and the kept records it sent instead

  // UDP
  UniqueFd udp;
  std::uint32_t file_id = 0;
  std::uint32_t window = 0;
  std::uint32_t datagram_size = 0;
  std::unique_ptr<net::ReceiveProgram> program;
  struct Slot {
    bool present = false;
    std::uint64_t seq = 0;
    std::string payload;
    Clock::time_point nacked{};  // when seq was last re-requested
    unsigned attempts = 0;        // how often
  };
  std::vector<Slot> slots;
  std::uint64_t next_seq = 0;       // next sequence number to deliver
  std::uint64_t seen_end = 0;       // one past the highest sequence number received
  std::optional<std::uint64_t> total;  // from END: the number of datagrams
  std::uint64_t last_ack = 0;
  Clock::time_point last_ack_time{};
  std::optional<Clock::time_point> gap_since;
  int last_got = 0;  // datagrams the last receive round found
  std::vector<char> rbuf;
  std::string arena;                 // records of this batch, copied (views die per feed)
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  std::vector<std::string_view> scratch;
  Clock::time_point last_activity;
  Clock::duration grace = loss_grace(std::chrono::microseconds(1000));
  ResendTimer resend_timer;

  Impl(const std::string& p, const FilterSpec& spec, const RemoteOptions& o)
      : path(p), options(o), filter(Filter::make(spec)), transport(transport_of(o.placement, o.transport)),
        matcher(filter, o.count_input_records) {
    rstats.placement = std::string(to_string(o.placement));
    if (o.placement == Placement::client) rstats.placement.append("/").append(to_string(transport));
    if (transport == Transport::udp && o.placement != Placement::client)
      rstats.placement.append("/").append(to_string(o.mode));
    if (o.placement == Placement::server && o.transport == Transport::udp)
      throw UsageError("placement server runs over TCP only");
    if (transport == Transport::udp && (o.window < 16 || o.window > SLUICE_NET_WINDOW_MAX))
      throw UsageError("window must be 16.." + std::to_string(SLUICE_NET_WINDOW_MAX));
    server = net::resolve(o.address, false);
    control_fd = net::connect_to(server, o.timeout_seconds);
    net::set_nonblocking(control_fd.get());
    control.emplace(control_fd.get(), -1);
    Message request(FrameType::request);
    request.add(Tag::path, p)
        .add(Tag::placement, to_string(o.placement))
        .add(Tag::transport, to_string(transport))
        .add(Tag::mode, to_string(o.mode));
    if (o.streams > kMaxStreams) throw UsageError("streams: at most " + std::to_string(kMaxStreams));
    if (o.streams > 0 && transport == Transport::tcp) request.add_u64(Tag::streams, o.streams);
    net::encode_filter(request, spec);
    if (o.placement == Placement::server && o.aggregate) net::encode_aggregate_spec(request, *o.aggregate);
    if (transport == Transport::tcp) {
      start_tcp(request);
    } else {
      start_udp(request);
    }
    last_activity = Clock::now();
  }

  ~Impl() {
    // Tell the server we are leaving (it would notice anyway), then everything closes:
    // the receive program is detached before its socket goes.
    program.reset();
  }

  Message receive(FrameType type, double seconds) {
    std::optional<Message> m = control->receive(after(seconds));
    if (!m) fail(path + ": the server closed the connection");
    net::expect_type(*m, type);
    return std::move(*m);
  }

  // ---- TCP ------------------------------------------------------------------------------

  void start_tcp(Message& request) {
    control->send(request, after(options.timeout_seconds));
    Message accept = receive(FrameType::accept, options.timeout_seconds);
    rstats.file_bytes = accept.required_u64(Tag::file_size);
    rstats.server_load_seconds = static_cast<double>(accept.optional_u64(Tag::load_seconds_us).value_or(0)) / 1e6;
    std::uint64_t streams = accept.optional_u64(Tag::streams).value_or(1);
    if (streams < 1 || streams > kMaxStreams || (options.streams > 0 && streams > options.streams))
      fail(path + ": the server offered " + std::to_string(streams) + " data connections");
    rstats.streams = static_cast<unsigned>(streams);
    if (accept.optional_u64(Tag::aggregating).value_or(0) == 1) {
      if (!options.aggregate) fail(path + ": the server aggregates what was not asked for");
      partials.emplace(options.aggregate->value_fields.size());
    }
    // Every data connection at once (the server starts when all have arrived); each says
    // which part of the file it carries.
    std::vector<UniqueFd> connections;
    for (std::uint64_t i = 0; i < streams; ++i) {
      UniqueFd fd = net::connect_to(server, options.timeout_seconds);
      int size = 4 << 20;
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
      Message attach(FrameType::attach);
      attach.add(Tag::token, accept.required(Tag::token)).add_u64(Tag::stream, i);
      Channel(fd.get(), -1).send(attach, after(options.timeout_seconds));
      net::set_nonblocking(fd.get());
      connections.push_back(std::move(fd));
    }
    data.emplace(std::move(connections), received, path);
    buffer.resize(kStreamBuffer);
  }

  bool next_tcp(RecordBatch& batch) {
    while (batch.records.empty() && !done) {
      if (!data_eof) {
        std::uint64_t before = received;
        std::span<const char> bytes;
        net::OrderedStreams::Got got = data->next(bytes, buffer);
        // Activity: bytes received (read ahead too), or bytes delivered from the read-ahead.
        if (received != before || got == net::OrderedStreams::Got::data) last_activity = Clock::now();
        if (got == net::OrderedStreams::Got::data) {
          matcher.feed(bytes, batch.records);
          continue;
        }
        if (got == net::OrderedStreams::Got::end) {
          data_eof = true;
          continue;
        }
        // While the data flows, the control connection may carry an error.
        if (!pending_end) {
          bool eof = false;  // a closed control connection shows on the data connection too
          while (std::optional<Message> m = control->poll(eof)) {
            if (take_partials(*m)) continue;
            net::expect_type(*m, FrameType::end);  // an error report throws here
            pending_end = std::move(*m);
            break;
          }
        }
        data->wait(pending_end ? -1 : control_fd.get(), 100);
        check_stalled();
        continue;
      }
      // End of the data: the server's END says how many bytes it sent.
      Message end = pending_end ? std::move(*pending_end) : receive_end();
      pending_end.reset();
      std::uint64_t kept = end.required_u64(Tag::bytes_kept);
      rstats.kernel_bytes_in = end.optional_u64(Tag::kernel_bytes_in).value_or(0);
      rstats.kernel_bytes_out = options.placement == Placement::server ? kept : 0;
      rstats.boundary_bytes = end.optional_u64(Tag::boundary_bytes).value_or(0);
      aggregate_fallbacks = end.optional_u64(Tag::aggregate_fallbacks).value_or(0);
      if (received != kept)
        fail(path + ": the data connection ended after " + std::to_string(received) + " of " + std::to_string(kept) +
             " bytes");
      matcher.finish(batch.records);
      finish_transfer();
    }
    usage.stop();
    return !batch.records.empty() || !done;
  }

  std::optional<Message> pending_end;

  // A `partials` frame (the server's kernel aggregates) is merged; false for any other.
  bool take_partials(const Message& m) {
    if (m.type() != FrameType::partials) return false;
    if (!partials) fail(path + ": the server sent aggregates that were not asked for");
    net::merge_partials(m, *partials);
    return true;
  }

  // The server's END, after any partials.
  Message receive_end() {
    while (true) {
      std::optional<Message> m = control->receive(after(options.timeout_seconds));
      if (!m) fail(path + ": the server closed the connection");
      if (take_partials(*m)) continue;
      net::expect_type(*m, FrameType::end);
      return std::move(*m);
    }
  }

  void check_stalled() {
    if (Clock::now() - last_activity > std::chrono::duration<double>(options.timeout_seconds))
      fail(path + ": no data from the server for " + std::to_string(options.timeout_seconds) + " s");
  }

  // DONE, then the server's SUMMARY.
  void finish_transfer() {
    control->send(Message(FrameType::done), after(options.timeout_seconds));
    Message summary = receive(FrameType::summary, options.timeout_seconds);
    rstats.server_user_cpu_seconds = static_cast<double>(summary.optional_u64(Tag::user_cpu_us).value_or(0)) / 1e6;
    rstats.server_system_cpu_seconds = static_cast<double>(summary.optional_u64(Tag::system_cpu_us).value_or(0)) / 1e6;
    rstats.retransmitted = summary.optional_u64(Tag::retransmitted).value_or(0);
    rstats.injected_drops = summary.optional_u64(Tag::injected_drops).value_or(0);
    done = true;
  }

  // ---- UDP ------------------------------------------------------------------------------

  void start_udp(Message& request) {
    net::SocketAddress local = net::local_address(control_fd.get());
    local.set_port(0);
    udp.reset(::socket(local.family(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!udp) throw system_error("socket(UDP)", errno);
    int size = 32 << 20;
    // As root the buffer may exceed net.core.rmem_max: fewer losses in bursts.
    if (::setsockopt(udp.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
      ::setsockopt(udp.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (::bind(udp.get(), local.get(), local.length) != 0) throw system_error("binding the UDP socket", errno);
    std::uint16_t port = net::local_address(udp.get()).port();
    request.add_u64(Tag::udp_port, port)
        .add_u64(Tag::datagram_size, options.datagram_size)
        .add_u64(Tag::window, options.window);
    control->send(request, after(options.timeout_seconds));
    Message accept = receive(FrameType::accept, options.timeout_seconds);
    rstats.file_bytes = accept.required_u64(Tag::file_size);
    file_id = static_cast<std::uint32_t>(accept.required_u64(Tag::file_id));
    window = static_cast<std::uint32_t>(accept.required_u64(Tag::window));
    datagram_size = static_cast<std::uint32_t>(accept.required_u64(Tag::datagram_size));
    if (window < 1 || window > SLUICE_NET_WINDOW_MAX || datagram_size < sizeof(sluice_net_hdr) + 1 ||
        datagram_size > 65507)
      fail(path + ": the server accepted with an unusable window or datagram size");
    net::SocketAddress from = server;
    from.set_port(static_cast<std::uint16_t>(accept.required_u64(Tag::udp_source_port)));
    if (::connect(udp.get(), from.get(), from.length) != 0) throw system_error("connecting the UDP socket", errno);
    if (options.placement != Placement::client) {
      ResourceClock load;
      program = std::make_unique<net::ReceiveProgram>(options.placement, options.mode, filter, port, file_id,
                                                      udp.get(), net::local_address(control_fd.get()),
                                                      options.xdp_generic, options.tc_clsact);
      rstats.attach_mode = program->attach_mode();
      load.stop();
      ScanStats l;
      load.fill(l);
      rstats.client_load_seconds = l.wall_seconds;
      rstats.client_load_cpu_seconds = l.user_cpu_seconds + l.system_cpu_seconds;
    }
    slots.resize(window);
    grace = loss_grace(net::rtt_of(control_fd.get()));
    rbuf.resize(kRecvBatch * (datagram_size + 1));
    control->send(Message(FrameType::start), after(options.timeout_seconds));
  }

  bool resolved_by_drop(std::uint64_t seq) const { return program && program->dropped(seq); }

  void deliver(std::string_view payload) {
    scratch.clear();
    matcher.feed(std::span<const char>(payload.data(), payload.size()), scratch);
    for (std::string_view r : scratch) {
      spans.emplace_back(arena.size(), r.size());
      arena.append(r);
    }
  }

  // Delivers every datagram that is next in order, skipping those the filter dropped.
  void drain() {
    while (!total || next_seq < *total) {
      Slot& slot = slots[next_seq % window];
      if (slot.present && slot.seq == next_seq) {
        deliver(slot.payload);
        slot.present = false;
      } else if (resolved_by_drop(next_seq)) {
        ++rstats.filter_dropped;
      } else {
        break;
      }
      ++next_seq;
      gap_since.reset();
    }
  }

  // Returns the number of datagrams received.
  int receive_datagrams() {
    mmsghdr msgs[kRecvBatch];
    iovec iov[kRecvBatch];
    std::size_t stride = datagram_size + 1;
    for (std::size_t i = 0; i < kRecvBatch; ++i) {
      iov[i] = {rbuf.data() + i * stride, stride};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int total_received = 0;
    while (true) {
      int n = ::recvmmsg(udp.get(), msgs, kRecvBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED) return total_received;
        throw system_error(path + ": receiving datagrams", errno);
      }
      for (int i = 0; i < n; ++i) {
        const char* d = rbuf.data() + static_cast<std::size_t>(i) * stride;
        std::size_t len = msgs[i].msg_len;
        if (len < sizeof(sluice_net_hdr) || len > datagram_size || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) continue;
        sluice_net_hdr h;
        std::memcpy(&h, d, sizeof h);
        if (ntohs(h.magic) != SLUICE_NET_MAGIC || h.version != SLUICE_NET_VERSION || ntohl(h.file_id) != file_id)
          continue;
        std::uint64_t seq = ntohl(h.seq);
        if (seq >= next_seq + window) continue;  // not granted: not ours to believe
        seen_end = std::max(seen_end, seq + 1);  // (a probe may repeat what we have)
        if (seq < next_seq) continue;            // a duplicate
        std::string_view payload(d + sizeof h, len - sizeof h);
        ++rstats.datagrams_received;
        received += payload.size();
        last_activity = Clock::now();
        Slot& slot = slots[seq % window];
        if (slot.seq == seq && slot.attempts > 0) {  // an answer to a re-request: time it
          resend_timer.sample(last_activity - slot.nacked);
          slot.attempts = 0;
        }
        if (seq == next_seq) {
          deliver(payload);
          ++next_seq;
          gap_since.reset();
          drain();
          continue;
        }
        if (slot.present && slot.seq == seq) continue;
        slot.present = true;
        slot.seq = seq;
        slot.payload.assign(payload);
      }
      total_received += n;
      if (n < static_cast<int>(kRecvBatch)) return total_received;
    }
  }

  void handle_control() {
    bool eof = false;
    while (std::optional<Message> m = control->poll(eof)) {
      net::expect_type(*m, FrameType::end);
      total = m->required_u64(Tag::datagrams);
      rstats.datagrams = *total;
    }
    if (eof) fail(path + ": the server closed the connection mid-transfer");
  }

  // Grants the window past next_seq: clears the drop bits of the sequence numbers it opens.
  // Acknowledges often enough that the server's congestion window (at least 64 datagrams)
  // never waits on us: every 32 datagrams (fewer for small windows), and at least every
  // 2 ms while anything is unacknowledged.
  void maybe_ack(bool force) {
    if (next_seq == last_ack) return;
    auto now = Clock::now();
    std::uint64_t every = std::clamp<std::uint32_t>(window / 16, 1, 32);
    if (!force && next_seq - last_ack < every && now - last_ack_time < std::chrono::milliseconds(2)) return;
    if (program) program->clear_dropped(last_ack + window, next_seq + window);
    Message ack(FrameType::ack);
    ack.add_u64(Tag::seq, next_seq);
    control->send(ack, after(options.timeout_seconds));
    last_ack = next_seq;
    last_ack_time = now;
  }

  // Sequence numbers below what the server is known to have sent, neither received nor
  // dropped by the filter for timers.grace: re-request them.
  void maybe_nack() {
    std::uint64_t known = std::max(seen_end, total.value_or(0));
    if (next_seq >= known) {
      gap_since.reset();
      return;
    }
    auto now = Clock::now();
    if (!gap_since) {
      gap_since = now;
      return;
    }
    if (now - *gap_since < grace) return;
    std::string list;
    std::uint64_t limit = std::min<std::uint64_t>(known, next_seq + window);
    for (std::uint64_t s = next_seq; s < limit && list.size() / 4 < kMaxNackSeqs; ++s) {
      Slot& slot = slots[s % window];
      if (slot.present && slot.seq == s) continue;
      if (resolved_by_drop(s)) continue;
      if (slot.seq != s) {  // the slot remembers when s was asked for (present stays false)
        slot.seq = s;
        slot.present = false;
        slot.attempts = 0;
      }
      if (slot.attempts > 0 && now - slot.nacked < resend_timer.after(slot.attempts)) continue;
      if (slot.attempts == 0) ++rstats.lost;  // distinct sequence numbers re-requested
      ++slot.attempts;
      slot.nacked = now;
      std::uint32_t be = htonl(static_cast<std::uint32_t>(s));
      list.append(reinterpret_cast<const char*>(&be), 4);
    }
    if (list.empty()) return;
    Message nack(FrameType::nack);
    nack.add(Tag::seqs, list);
    control->send(nack, after(options.timeout_seconds));
  }

  bool next_udp(RecordBatch& batch) {
    arena.clear();
    spans.clear();
    while (spans.empty() && !done) {
      if (last_got > 0 && last_got < kCoalesceBelow && !gap_since) std::this_thread::sleep_for(kCoalesce);
      int got = receive_datagrams();
      last_got = got;
      drain();  // the filter may have dropped what is next
      handle_control();
      if (total && next_seq >= *total) {
        maybe_ack(true);
        scratch.clear();
        matcher.finish(scratch);
        for (std::string_view r : scratch) {
          spans.emplace_back(arena.size(), r.size());
          arena.append(r);
        }
        if (program) {
          sluice_net_recv_stats k = program->stats();
          rstats.kernel_bytes_in = k.bytes_in;
          rstats.kernel_bytes_out = k.bytes_out;
        }
        finish_transfer();
        break;
      }
      maybe_ack(false);
      if (!spans.empty()) break;
      maybe_nack();
      if (got > 0) continue;
      pollfd pfd[2] = {{udp.get(), POLLIN, 0}, {control_fd.get(), POLLIN, 0}};
      int rc = ::poll(pfd, 2, gap_since ? 1 : 20);
      if (rc == 0) {
        maybe_ack(true);  // idle: make sure the server knows everything we have
        check_stalled();
      }
    }
    batch.records.clear();
    for (auto [off, len] : spans) batch.records.emplace_back(arena.data() + off, len);
    usage.stop();
    return !batch.records.empty() || !done;
  }

  bool next(RecordBatch& batch) {
    batch.records.clear();
    if (done) return false;
    try {
      return transport == Transport::tcp ? next_tcp(batch) : next_udp(batch);
    } catch (const ProtocolError& e) {
      throw Error(path + ": " + e.what());
    }
  }
};

RemoteScanner::RemoteScanner(const std::string& path, const FilterSpec& filter, const RemoteOptions& options) {
  try {
    impl_ = std::make_unique<Impl>(path, filter, options);
  } catch (const RemoteError&) {
    throw;
  } catch (const ProtocolError& e) {
    throw Error(path + ": " + e.what());
  }
}

RemoteScanner::~RemoteScanner() = default;
RemoteScanner::RemoteScanner(RemoteScanner&&) noexcept = default;
RemoteScanner& RemoteScanner::operator=(RemoteScanner&&) noexcept = default;

bool RemoteScanner::next(RecordBatch& batch) { return impl_->next(batch); }

ScanStats RemoteScanner::stats() const {
  const Impl& i = *impl_;
  ScanStats s;
  s.backend = "remote:" + i.rstats.placement;
  s.bytes_read = i.rstats.file_bytes;
  s.bytes_delivered = i.received;
  s.records_out = i.matcher.records_out();
  if (i.options.count_input_records && i.options.placement == Placement::client) s.records_in = i.matcher.records_in();
  s.kernel_filter_bytes = i.rstats.kernel_bytes_in;
  if (i.partials) {
    s.aggregation = "server kernel";
    s.kernel_aggregated_records = i.partials->records();
    s.kernel_aggregate_fallbacks = i.aggregate_fallbacks;
    s.records_out += i.partials->records();  // kept, counted where they were aggregated
  } else if (i.options.aggregate) {
    s.aggregation = "user space";
  }
  s.boundary_bytes = i.rstats.boundary_bytes;
  s.windows = i.rstats.datagrams;
  i.usage.fill(s);
  return s;
}

RemoteStats RemoteScanner::remote_stats() const { return impl_->rstats; }

const Aggregator* RemoteScanner::kernel_aggregates() const {
  return impl_->partials && impl_->done ? &*impl_->partials : nullptr;
}

namespace {
class RemoteBackend final : public Backend {
 public:
  RemoteBackend(const std::string& path, const FilterSpec& filter, const RemoteOptions& options)
      : scanner_(path, filter, options) {}
  bool next(RecordBatch& batch) override { return scanner_.next(batch); }
  ScanStats stats() const override { return scanner_.stats(); }

 private:
  RemoteScanner scanner_;
};
}  // namespace

std::unique_ptr<Backend> make_remote_backend(const std::string& path, const FilterSpec& filter,
                                             const RemoteOptions& options) {
  return std::make_unique<RemoteBackend>(path, filter, options);
}

}  // namespace sluice
