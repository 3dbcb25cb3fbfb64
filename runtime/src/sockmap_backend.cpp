// Data path:  file --sendfile/splice--> sender TCP socket --sk_msg filter--> receiver's
// ingress queue --recv--> RecordMatcher (re-judges what arrives) --> batches.
//
// The sender runs in its own thread, kept at most kMaxInFlight bytes ahead of the receiver
// (the ingress queue is charged to TCP memory: unbounded queues end in ENOMEM). The kernel
// counts the bytes it redirects; the scan is complete when the sender is done and the
// receiver has read exactly that many bytes, so no byte can go missing unnoticed.
#include "sockmap_backend.hpp"

#include <sluice/bpf_program.hpp>
#include <sluice/error.hpp>

#include "bpf/kernel_aggregate.hpp"
#include "bpf/sk_msg_attach.hpp"
#include "chunk_source.hpp"
#include "record_matcher.hpp"
#include "record_split.hpp"
#include "resource_clock.hpp"
#include "sk_msg_filter.h"
#include "unique_fd.hpp"
#include "uring_ring.hpp"

#include <arpa/inet.h>
#include <liburing.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace sluice {
namespace {

constexpr std::uint64_t kMaxInFlight = 16u << 20;  // kept bytes redirected but not yet read
constexpr std::size_t kReceiveBuffer = 1u << 20;
constexpr int kReceiverBufferBytes = 8 << 20;

// A TCP connection over loopback whose two ends this process owns.
struct LoopbackPair {
  UniqueFd sender;
  UniqueFd receiver;
};

LoopbackPair connect_loopback() {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener) throw system_error("sockmap: socket", errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener.get(), 4) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw system_error("sockmap: loopback listener (is the lo interface up?)", errno);
  LoopbackPair pair;
  pair.sender.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!pair.sender) throw system_error("sockmap: socket", errno);
  if (::connect(pair.sender.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw system_error("sockmap: connect over loopback", errno);
  sockaddr_in mine{};
  len = sizeof mine;
  ::getsockname(pair.sender.get(), reinterpret_cast<sockaddr*>(&mine), &len);
  // Accept only our own connection: another process could race us to the port.
  for (int attempt = 0; attempt < 16; ++attempt) {
    sockaddr_in peer{};
    len = sizeof peer;
    UniqueFd accepted(::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
    if (!accepted) throw system_error("sockmap: accept", errno);
    if (peer.sin_port == mine.sin_port && peer.sin_addr.s_addr == mine.sin_addr.s_addr) {
      pair.receiver = std::move(accepted);
      break;
    }
  }
  if (!pair.receiver) throw Error("sockmap: could not accept our own loopback connection");
  int size = kReceiverBufferBytes;
  ::setsockopt(pair.receiver.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return pair;
}

// The first 64 KiB of the file: which bytes are rare decides how the BPF scan probes.
std::vector<char> sample_of(const OpenedFile& file) {
  std::vector<char> sample(static_cast<std::size_t>(std::min<std::uint64_t>(file.size, 64 * 1024)));
  ssize_t n = sample.empty() ? 0 : ::pread(file.fd.get(), sample.data(), sample.size(), 0);
  sample.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return sample;
}

// The host's settings: input record counting, and the aggregates when the kernel does them.
std::vector<HostSetting> host_settings(const ScanOptions& options, const std::optional<HostSetting>& aggregate) {
  std::vector<HostSetting> settings{{"sluice_count_records", options.count_input_records ? 1u : 0u}};
  if (aggregate) settings.push_back(*aggregate);
  return settings;
}

// One stream: a loopback pair with its own sk_msg program, fed [range) of the file.
class SockmapBackend final : public Backend {
 public:
  SockmapBackend(const std::string& path, const Filter& filter, const ScanOptions& options, ByteRange range = {})
      : options_(options),
        file_(open_regular_file(path, 0)),
        begin_(std::min(range.begin, file_.size)),
        end_(std::max(begin_, std::min(range.end, file_.size))),
        path_(path),
        kernel_aggregate_(options.aggregate ? kernel_aggregate_setting(*options.aggregate, filter.framing()) : std::nullopt),
        object_("sk_msg_filter", filter.tuned_for(sample_of(file_)), host_settings(options, kernel_aggregate_)),
        stats_fd_(object_.map_fd("stats")),
        matcher_(filter, false),
        buffer_(kReceiveBuffer) {
    if (options.collect_bpf_stats) {
      bpf_stats_.reset(bpf_enable_stats(BPF_STATS_RUN_TIME));
      // Without it, run counts stay 0 and are reported as such; the scan itself works.
    }
    pair_ = connect_loopback();
    // Attach before inserting: a socket picks up the map's programs when it is added.
    attachment_ = std::make_unique<SkMsgAttachment>(object_.program_fd("sluice_sk_msg"), object_.map_fd("sock_in"));
    receiver_entry_ = std::make_unique<SockmapEntry>(object_.map_fd("sock_out"), pair_.receiver.get());
    sender_entry_ = std::make_unique<SockmapEntry>(object_.map_fd("sock_in"), pair_.sender.get());
    if (end_ > begin_) {
      ::pread(file_.fd.get(), &last_byte_, 1, static_cast<off_t>(end_ - 1));
    }
    if (options.driver == SockmapDriver::uring) recv_ring_ = std::make_unique<UringRing>(4, path + ": sockmap");
    sender_ = std::thread([this] { send_file(); });
  }

  ~SockmapBackend() override {
    {
      std::lock_guard lock(mutex_);
      abort_ = true;
    }
    progress_.notify_all();
    // Unblocks a sendfile waiting for socket memory.
    ::shutdown(pair_.sender.get(), SHUT_RDWR);
    if (sender_.joinable()) sender_.join();
    // Remaining members release the sockmap entries, the attachment, sockets and the
    // BPF object, in that order.
  }
  SockmapBackend(const SockmapBackend&) = delete;
  SockmapBackend& operator=(const SockmapBackend&) = delete;

  bool next(RecordBatch& batch) override {
    batch.records.clear();
    if (done_) return false;
    while (batch.records.empty() && !done_) {
      ssize_t n = receive_some();
      if (n > 0) {
        {
          std::lock_guard lock(mutex_);
          received_ += static_cast<std::uint64_t>(n);
        }
        progress_.notify_all();
        matcher_.feed(std::span<const char>(buffer_.data(), static_cast<std::size_t>(n)), batch.records);
        continue;
      }
      // Nothing arrived for a moment: is the scan complete?
      if (sender_finished()) {
        sluice_sk_msg_stats k = read_sk_msg_stats(stats_fd_);
        if (k.errors > 0)
          throw Error(path_ + ": sockmap: the kernel could not remove dropped records from " +
                      std::to_string(k.errors) + " window(s) (bpf_msg_pop_data failed); results discarded");
        std::uint64_t received = received_bytes();
        if (received == k.bytes_kept) {
          matcher_.finish(batch.records);
          if (aggregating_in_kernel()) kernel_partials_ = read_kernel_aggregates(object_, *options_.aggregate);
          done_ = true;
          break;
        }
        if (received > k.bytes_kept)
          throw Error(path_ + ": sockmap: received more bytes than the filter kept (" + std::to_string(received) +
                      " > " + std::to_string(k.bytes_kept) + ")");
      }
    }
    usage_.stop();
    return !batch.records.empty() || !done_;
  }

  // Bytes received into buffer_ (> 0), or 0 when nothing arrived within a short wait.
  // Bug C: even a blocking recv() on a sockmap receiver may report EAGAIN, so both paths
  // treat "nothing now" as a reason to wait and look again, never as an end.
  ssize_t receive_some() {
    if (recv_ring_) return receive_some_uring();
    while (true) {
      ssize_t n = ::recv(pair_.receiver.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
      if (n > 0) return n;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        throw system_error(path_ + ": sockmap: receiving filtered data", errno);
      pollfd pfd{pair_.receiver.get(), POLLIN, 0};
      ::poll(&pfd, 1, 20);
      return 0;
    }
  }

  // IORING_OP_RECV linked to a 20 ms timeout.
  ssize_t receive_some_uring() {
    io_uring* ring = recv_ring_->get();
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    io_uring_prep_recv(sqe, pair_.receiver.get(), buffer_.data(), buffer_.size(), 0);
    sqe->flags |= IOSQE_IO_LINK;
    io_uring_sqe_set_data64(sqe, 1);
    __kernel_timespec timeout{0, 20'000'000};
    sqe = io_uring_get_sqe(ring);
    io_uring_prep_link_timeout(sqe, &timeout, 0);
    io_uring_sqe_set_data64(sqe, 2);
    int rc = io_uring_submit_and_wait(ring, 2);
    if (rc < 0 && rc != -EINTR) throw system_error(path_ + ": sockmap: io_uring_submit", -rc);
    ssize_t received = 0;
    for (int seen = 0; seen < 2;) {
      io_uring_cqe* cqe = nullptr;
      rc = io_uring_wait_cqe(ring, &cqe);
      if (rc == -EINTR) continue;
      if (rc < 0) throw system_error(path_ + ": sockmap: io_uring_wait_cqe", -rc);
      if (io_uring_cqe_get_data64(cqe) == 1) {
        int res = cqe->res;
        if (res > 0)
          received = res;
        else if (res != -ECANCELED && res != -EAGAIN && res != -EINTR && res != 0)
          throw system_error(path_ + ": sockmap: io_uring receive", -res);
      }
      io_uring_cqe_seen(ring, cqe);
      ++seen;
    }
    return received;
  }

  ScanStats stats() const override {
    ScanStats s;
    s.backend = "sockmap";
    sluice_sk_msg_stats k = read_sk_msg_stats(stats_fd_);
    {
      std::lock_guard lock(mutex_);
      s.bytes_read = sent_;
    }
    s.bytes_delivered = received_bytes();
    s.kernel_filter_bytes = k.bytes_in;
    s.windows = k.runs;
    s.boundary_bytes = k.boundary_bytes;
    s.records_out = matcher_.records_out();
    if (aggregating_in_kernel()) {
      sluice_agg_stats a = read_kernel_aggregate_stats(object_);
      s.aggregation = "kernel";
      s.kernel_aggregated_records = a.aggregated;
      s.kernel_aggregate_fallbacks = fallbacks(a);
      s.records_out += a.aggregated;  // kept, counted where they were aggregated
    } else if (options_.aggregate) {
      s.aggregation = "user space";
    }
    if (options_.count_input_records) {
      s.records_in = k.newlines + (end_ > begin_ && last_byte_ != '\n' ? 1 : 0);
      s.records_in_counted = true;
    }
    if (bpf_stats_) {
      bpf_prog_info info{};
      std::uint32_t len = sizeof info;
      if (bpf_obj_get_info_by_fd(object_.program_fd("sluice_sk_msg"), &info, &len) == 0) {
        s.bpf_run_count = info.run_cnt;
        s.bpf_run_time_ns = info.run_time_ns;
      }
    }
    usage_.fill(s);
    return s;
  }

  const Aggregator* kernel_aggregates() const override {
    return kernel_partials_ ? &*kernel_partials_ : nullptr;
  }

 private:
  bool aggregating_in_kernel() const { return kernel_aggregate_.has_value(); }

  bool sender_finished() {
    std::lock_guard lock(mutex_);
    if (!send_error_message_.empty()) throw Error(send_error_message_);
    if (send_error_ != 0)
      throw system_error(path_ + ": sockmap: feeding the file to the kernel filter", send_error_);
    return send_done_;
  }
  std::uint64_t received_bytes() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

  // Waits until the receiver has caught up enough; false when the scan is aborted.
  bool wait_for_room() {
    std::unique_lock lock(mutex_);
    while (!abort_) {
      std::uint64_t kept;
      try {
        lock.unlock();
        kept = read_sk_msg_stats(stats_fd_).bytes_kept;
        lock.lock();
      } catch (const Error&) {
        lock.lock();
        return false;
      }
      if (kept - received_ <= kMaxInFlight) return true;
      progress_.wait_for(lock, std::chrono::milliseconds(20));
    }
    return false;
  }

  bool aborted() const {
    std::lock_guard lock(mutex_);
    return abort_;
  }

  // Takes mutex_: never call it with the lock held.
  void finish_sending(int error, std::string message = {}) {
    {
      std::lock_guard lock(mutex_);
      send_error_ = error;
      send_error_message_ = std::move(message);
      send_done_ = true;
    }
    progress_.notify_all();
  }

  // IORING_OP_SPLICE file -> pipe linked to pipe -> socket, one window-sized message a
  // pair, kBatch pairs linked into one chain per submission (the splices run in io_uring's
  // workers; one round trip per pair would cost more than the data).
  void send_file_uring() {
    constexpr unsigned kBatch = 8;
    UringRing ring(2 * kBatch, path_ + ": sockmap");
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw system_error(path_ + ": sockmap: pipe", errno);
    UniqueFd pipe_read(fds[0]), pipe_write(fds[1]);
    ::fcntl(pipe_write.get(), F_SETPIPE_SZ, 64 * 1024);
    auto splice_op = [&](int in, std::int64_t in_off, int out, unsigned len, std::uint64_t tag, bool link) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring.get());
      io_uring_prep_splice(sqe, in, in_off, out, -1, len, 0);
      if (link) sqe->flags |= IOSQE_IO_LINK;
      io_uring_sqe_set_data64(sqe, tag);
    };
    auto complete = [&](unsigned count, std::vector<int>& results) {
      int rc = io_uring_submit_and_wait(ring.get(), count);
      if (rc < 0) throw system_error(path_ + ": sockmap: io_uring_submit", -rc);
      for (unsigned seen = 0; seen < count;) {
        io_uring_cqe* cqe = nullptr;
        rc = io_uring_wait_cqe(ring.get(), &cqe);
        if (rc == -EINTR) continue;
        if (rc < 0) throw system_error(path_ + ": sockmap: io_uring_wait_cqe", -rc);
        results[io_uring_cqe_get_data64(cqe)] = cqe->res;
        io_uring_cqe_seen(ring.get(), cqe);
        ++seen;
      }
    };
    auto fail_unless_aborted = [&](const char* what, int err) {
      std::lock_guard lock(mutex_);
      if (!abort_) throw system_error(path_ + ": sockmap: " + what, err);
    };
    std::uint64_t offset = begin_;
    std::vector<int> results(2 * kBatch);
    while (offset < end_) {
      if (!wait_for_room()) return finish_sending(0);
      std::vector<unsigned> lens;
      for (std::uint64_t o = offset; o < end_ && lens.size() < kBatch; o += lens.back())
        lens.push_back(static_cast<unsigned>(std::min<std::uint64_t>(end_ - o, SLUICE_SK_MSG_SEND_CHUNK)));
      std::uint64_t o = offset;
      for (std::size_t i = 0; i < lens.size(); ++i) {
        splice_op(file_.fd.get(), static_cast<std::int64_t>(o), pipe_write.get(), lens[i], 2 * i, true);
        splice_op(pipe_read.get(), -1, pair_.sender.get(), lens[i], 2 * i + 1, i + 1 < lens.size());
        o += lens[i];
      }
      std::fill(results.begin(), results.end(), 0);
      complete(static_cast<unsigned>(2 * lens.size()), results);
      // Pairs complete in order; the first short or failed one breaks the chain and the
      // rest report -ECANCELED. Account for what moved, drain the pipe, go on from there.
      bool shrank = false;
      for (std::size_t i = 0; i < lens.size(); ++i) {
        int into_pipe = results[2 * i], out_of_pipe = results[2 * i + 1];
        if (into_pipe == -ECANCELED) break;
        if (into_pipe < 0) fail_unless_aborted("splice from the file", -into_pipe);
        if (into_pipe <= 0) {
          shrank = into_pipe == 0;
          break;
        }
        if (out_of_pipe < 0 && out_of_pipe != -ECANCELED) fail_unless_aborted("splice into the socket", -out_of_pipe);
        std::uint64_t left = static_cast<std::uint64_t>(into_pipe) - static_cast<std::uint64_t>(std::max(out_of_pipe, 0));
        while (left > 0) {
          std::vector<int> drained(1);
          splice_op(pipe_read.get(), -1, pair_.sender.get(), static_cast<unsigned>(left), 0, false);
          complete(1, drained);
          if (drained[0] <= 0) {
            fail_unless_aborted("splice into the socket", drained[0] < 0 ? -drained[0] : EIO);
            return finish_sending(0);
          }
          left -= static_cast<std::uint64_t>(drained[0]);
        }
        offset += static_cast<std::uint64_t>(into_pipe);
        add_sent(static_cast<std::uint64_t>(into_pipe));
        if (static_cast<unsigned>(into_pipe) < lens[i]) break;
      }
      if (aborted()) return finish_sending(0);
      if (shrank) break;  // the file shrank under us
    }
    finish_sending(0);
  }

  void send_file() {
    // A write to a shut-down socket raises SIGPIPE in this thread: keep it pending instead.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    if (options_.driver == SockmapDriver::uring) {
      try {
        send_file_uring();
      } catch (const Error& e) {
        finish_sending(EIO, e.what());
      }
      return;
    }
    off_t offset = static_cast<off_t>(begin_);
    std::vector<char> staging;
    if (options_.driver == SockmapDriver::write) staging.resize(4u << 20);
    while (static_cast<std::uint64_t>(offset) < end_) {
      if (!wait_for_room()) return finish_sending(0);
      std::size_t want = static_cast<std::size_t>(
          std::min<std::uint64_t>(end_ - static_cast<std::uint64_t>(offset), SLUICE_SK_MSG_SEND_CHUNK));
      ssize_t n;
      if (options_.driver == SockmapDriver::write) {
        // Large messages of several windows each: exercises apply_bytes chaining.
        want = static_cast<std::size_t>(std::min<std::uint64_t>(end_ - static_cast<std::uint64_t>(offset), staging.size()));
        n = ::pread(file_.fd.get(), staging.data(), want, offset);
        if (n > 0) {
          std::size_t done = 0;
          while (done < static_cast<std::size_t>(n)) {
            ssize_t w = ::send(pair_.sender.get(), staging.data() + done, static_cast<std::size_t>(n) - done, MSG_NOSIGNAL);
            if (w < 0) {
              if (errno == EINTR) continue;
              return finish_sending(errno);
            }
            done += static_cast<std::size_t>(w);
          }
          offset += n;
          add_sent(static_cast<std::uint64_t>(n));
          continue;
        }
      } else {
        n = ::sendfile(pair_.sender.get(), file_.fd.get(), &offset, want);
        if (n > 0) {
          add_sent(static_cast<std::uint64_t>(n));
          continue;
        }
      }
      if (n == 0) break;  // the file shrank under us: send what there was
      if (errno == EINTR || errno == EAGAIN) continue;
      int error = errno;
      if (aborted()) return finish_sending(0);
      return finish_sending(error);
    }
    finish_sending(0);
  }

  void add_sent(std::uint64_t n) {
    std::lock_guard lock(mutex_);
    sent_ += n;
  }

  ScanOptions options_;
  OpenedFile file_;
  std::uint64_t begin_, end_;  // the part of the file this stream sends
  std::string path_;
  ResourceClock usage_;
  std::optional<HostSetting> kernel_aggregate_;  // set when the kernel aggregates
  LoadedFilterObject object_;
  int stats_fd_;
  UniqueFd bpf_stats_;
  LoopbackPair pair_;
  std::unique_ptr<SkMsgAttachment> attachment_;
  std::unique_ptr<SockmapEntry> receiver_entry_;
  std::unique_ptr<SockmapEntry> sender_entry_;
  RecordMatcher matcher_;
  std::vector<char> buffer_;
  std::unique_ptr<UringRing> recv_ring_;  // the uring driver receives with io_uring too
  char last_byte_ = '\n';
  std::optional<Aggregator> kernel_partials_;  // read when the scan is complete

  mutable std::mutex mutex_;
  std::condition_variable progress_;
  std::uint64_t received_ = 0;
  std::uint64_t sent_ = 0;
  bool send_done_ = false;
  int send_error_ = 0;
  std::string send_error_message_;
  bool abort_ = false;
  bool done_ = false;
  std::thread sender_;
};

// Several streams over consecutive parts of the file, each with its own sender thread: the
// kernel's work (copying the file into socket memory, the BPF scan) runs in the sender's
// context, so it spreads over the CPUs. Their records come out in file order: a later
// stream runs ahead until its flow-control window of unread output is full, and is read
// when the streams before it are done.
class SockmapStreams final : public Backend {
 public:
  SockmapStreams(const std::string& path, const Filter& filter, const ScanOptions& options,
                 const std::vector<ByteRange>& parts) {
    for (const ByteRange& part : parts) streams_.push_back(std::make_unique<SockmapBackend>(path, filter, options, part));
  }

  bool next(RecordBatch& batch) override {
    batch.records.clear();
    while (current_ < streams_.size()) {
      if (streams_[current_]->next(batch)) {
        usage_.stop();
        return true;
      }
      ++current_;
    }
    if (!merged_partials_) merge_partials();
    usage_.stop();
    return false;
  }

  ScanStats stats() const override {
    ScanStats total;
    for (const auto& stream : streams_) total += stream->stats();
    total.backend = "sockmap";
    usage_.fill(total);  // the streams ran at the same time: their clocks overlap
    return total;
  }

  const Aggregator* kernel_aggregates() const override {
    return partials_ ? &*partials_ : nullptr;
  }

 private:
  void merge_partials() {
    merged_partials_ = true;
    for (const auto& stream : streams_)
      if (const Aggregator* a = stream->kernel_aggregates()) {
        if (partials_) partials_->merge(*a);
        else partials_ = *a;
      }
  }

  ResourceClock usage_;
  std::vector<std::unique_ptr<SockmapBackend>> streams_;
  std::size_t current_ = 0;
  bool merged_partials_ = false;
  std::optional<Aggregator> partials_;
};

}  // namespace

std::unique_ptr<Backend> make_sockmap_backend(const std::string& path, const Filter& filter,
                                              const ScanOptions& options) {
  unsigned streams = options.sockmap_streams;
  if (streams == 1) return std::make_unique<SockmapBackend>(path, filter, options);
  OpenedFile file = open_regular_file(path, 0);
  if (streams == 0) streams = automatic_stream_count(file.size);
  if (streams <= 1) return std::make_unique<SockmapBackend>(path, filter, options);
  std::vector<ByteRange> parts = split_at_records(file, filter, streams);
  if (parts.size() == 1) return std::make_unique<SockmapBackend>(path, filter, options);
  return std::make_unique<SockmapStreams>(path, filter, options, parts);
}

}  // namespace sluice
