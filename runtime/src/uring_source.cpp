// io_uring chunk source: queue_depth reads of buffer_size in flight into registered
// buffers, delivered in file order. With --direct the file is opened O_DIRECT and the
// buffers are 4 KiB aligned, so reads bypass the page cache.
#include <sluice/error.hpp>

#include "chunk_source.hpp"
#include "uring_ring.hpp"

#include <fcntl.h>
#include <liburing.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <vector>

namespace sluice {
namespace {

constexpr std::size_t kAlignment = 4096;

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};


class UringSource final : public ChunkSource {
 public:
  UringSource(const std::string& path, const ScanOptions& options)
      : path_(path),
        file_(open_regular_file(path, options.direct ? O_DIRECT : 0)),
        chunk_((std::max<std::size_t>(options.buffer_size, 64 * 1024) + kAlignment - 1) / kAlignment * kAlignment),
        depth_(std::clamp(options.queue_depth, 1u, 64u)),
        ring_owner_(depth_, path),
        ring_(*ring_owner_.get()) {
    slots_.resize(depth_);
    buffers_.resize(depth_);
    std::vector<iovec> iov(depth_);
    for (unsigned i = 0; i < depth_; ++i) {
      void* mem = nullptr;
      if (posix_memalign(&mem, kAlignment, chunk_) != 0) throw Error(path + ": cannot allocate io_uring buffers");
      buffers_[i].reset(static_cast<char*>(mem));
      slots_[i].buffer = buffers_[i].get();
      iov[i] = {mem, chunk_};
    }
    int rc = io_uring_register_buffers(&ring_, iov.data(), depth_);
    if (rc < 0) throw system_error(path + ": io_uring_register_buffers", -rc);
    for (unsigned i = 0; i < depth_ && next_offset_ < file_.size; ++i) submit(i);
    flush();
  }

  ~UringSource() override {
    // Buffers must outlive every read the kernel still has in flight.
    while (in_flight_ > 0) {
      io_uring_cqe* cqe = nullptr;
      if (io_uring_wait_cqe(&ring_, &cqe) < 0) break;
      io_uring_cqe_seen(&ring_, cqe);
      --in_flight_;
    }
  }
  UringSource(const UringSource&) = delete;
  UringSource& operator=(const UringSource&) = delete;

  std::span<const char> next_chunk() override {
    if (delivered_) {
      // The caller is done with the previous chunk: reuse its buffer for the next range.
      unsigned prev = (head_ + depth_ - 1) % depth_;
      if (next_offset_ < file_.size && !eof_) {
        submit(prev);
        flush();
      }
    }
    Slot& s = slots_[head_];
    if (!s.pending) return {};
    while (!s.complete) reap();
    if (s.result < 0) throw system_error(path_ + ": io_uring read", -s.result);
    s.pending = false;
    s.complete = false;
    delivered_ = true;
    head_ = (head_ + 1) % depth_;
    if (s.result == 0) eof_ = true;  // the file shrank under us: stop here
    return {s.buffer, static_cast<std::size_t>(s.filled)};
  }

  std::uint64_t bytes_read() const override { return bytes_read_; }

 private:
  struct Slot {
    char* buffer = nullptr;
    std::uint64_t offset = 0;
    std::size_t length = 0;  // bytes requested for the chunk
    std::size_t filled = 0;  // bytes read so far
    int result = 0;
    bool pending = false;
    bool complete = false;
  };

  void submit(unsigned index) {
    Slot& s = slots_[index];
    s.offset = next_offset_;
    s.length = chunk_;
    s.filled = 0;
    s.pending = true;
    s.complete = false;
    next_offset_ += chunk_;
    queue_read(index);
  }

  void queue_read(unsigned index) {
    Slot& s = slots_[index];
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) throw Error(path_ + ": io_uring submission queue full");
    io_uring_prep_read_fixed(sqe, file_.fd.get(), s.buffer + s.filled, static_cast<unsigned>(s.length - s.filled),
                             s.offset + s.filled, static_cast<int>(index));
    io_uring_sqe_set_data64(sqe, index);
    ++in_flight_;
  }

  void flush() {
    int rc = io_uring_submit(&ring_);
    if (rc < 0) throw system_error(path_ + ": io_uring_submit", -rc);
  }

  void reap() {
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_wait_cqe(&ring_, &cqe);
    if (rc == -EINTR) return;
    if (rc < 0) throw system_error(path_ + ": io_uring_wait_cqe", -rc);
    unsigned index = static_cast<unsigned>(io_uring_cqe_get_data64(cqe));
    int res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    --in_flight_;
    Slot& s = slots_[index];
    if (res > 0) {
      s.filled += static_cast<std::size_t>(res);
      bytes_read_ += static_cast<std::uint64_t>(res);
      std::uint64_t end = std::min<std::uint64_t>(s.offset + s.length, file_.size);
      if (s.offset + s.filled < end && !direct_short_read(res)) {
        queue_read(index);  // a short read before the end of the range: read the rest
        flush();
        return;
      }
      s.result = res;
    } else {
      s.result = res;  // 0: end of file, < 0: error
    }
    s.complete = true;
  }

  // O_DIRECT reads are whole blocks; a short one means end of file.
  bool direct_short_read(int res) const { return (static_cast<std::size_t>(res) % kAlignment) != 0; }

  std::string path_;
  OpenedFile file_;
  std::size_t chunk_;
  unsigned depth_;
  std::vector<std::unique_ptr<char, FreeDeleter>> buffers_;  // declared before the ring:
  UringRing ring_owner_;                                       // torn down after it
  io_uring& ring_;
  std::vector<Slot> slots_;
  unsigned head_ = 0;
  unsigned in_flight_ = 0;
  std::uint64_t next_offset_ = 0;
  std::uint64_t bytes_read_ = 0;
  bool delivered_ = false;
  bool eof_ = false;
};

}  // namespace

std::unique_ptr<ChunkSource> make_uring_source(const std::string& path, const ScanOptions& options) {
  return std::make_unique<UringSource>(path, options);
}

}  // namespace sluice
