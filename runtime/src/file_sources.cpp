// The read(2) and mmap(2) chunk sources, and opening files with clear errors.
#include <sluice/error.hpp>

#include "chunk_source.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>

namespace sluice {

OpenedFile open_regular_file(const std::string& path, int extra_flags) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | extra_flags));
  if (!fd) {
    int err = errno;
    if (err == EINVAL && (extra_flags & O_DIRECT))
      throw Error(path + ": this file system does not support O_DIRECT (--direct)");
    throw system_error(path, err);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw system_error(path, errno);
  if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory");
  if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
  return {std::move(fd), static_cast<std::uint64_t>(st.st_size)};
}

namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// read(2) into one reused, page-aligned buffer: one syscall per chunk, none per record.
class ReadSource final : public ChunkSource {
 public:
  ReadSource(const std::string& path, const ScanOptions& options)
      : path_(path), file_(open_regular_file(path, 0)), size_(std::max<std::size_t>(options.buffer_size, 64 * 1024)) {
    void* mem = nullptr;
    if (posix_memalign(&mem, 4096, size_) != 0) throw Error(path + ": cannot allocate the read buffer");
    buffer_.reset(static_cast<char*>(mem));
    ::posix_fadvise(file_.fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  }

  std::span<const char> next_chunk() override {
    while (true) {
      ssize_t n = ::read(file_.fd.get(), buffer_.get(), size_);
      if (n >= 0) {
        bytes_read_ += static_cast<std::uint64_t>(n);
        return {buffer_.get(), static_cast<std::size_t>(n)};
      }
      if (errno != EINTR) throw system_error(path_ + ": read", errno);
    }
  }

  std::uint64_t bytes_read() const override { return bytes_read_; }

 private:
  std::string path_;
  OpenedFile file_;
  std::size_t size_;
  std::unique_ptr<char, FreeDeleter> buffer_;
  std::uint64_t bytes_read_ = 0;
};

// The whole file mapped read-only and handed out in chunks of the buffer size, so a batch
// stays bounded. The file must not shrink during the scan (SIGBUS), as for any mmap reader.
class MmapSource final : public ChunkSource {
 public:
  MmapSource(const std::string& path, const ScanOptions& options)
      : file_(open_regular_file(path, 0)), chunk_(std::max<std::size_t>(options.buffer_size, 64 * 1024)) {
    if (file_.size == 0) return;
    void* p = ::mmap(nullptr, file_.size, PROT_READ, MAP_PRIVATE, file_.fd.get(), 0);
    if (p == MAP_FAILED) throw system_error(path + ": mmap", errno);
    base_ = static_cast<const char*>(p);
    ::madvise(p, file_.size, MADV_SEQUENTIAL);
  }
  ~MmapSource() override {
    if (base_) ::munmap(const_cast<char*>(base_), file_.size);
  }
  MmapSource(const MmapSource&) = delete;
  MmapSource& operator=(const MmapSource&) = delete;

  std::span<const char> next_chunk() override {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_, file_.size - offset_));
    std::span<const char> chunk(base_ + offset_, n);
    offset_ += n;
    return chunk;
  }

  std::uint64_t bytes_read() const override { return offset_; }

 private:
  OpenedFile file_;
  std::size_t chunk_;
  const char* base_ = nullptr;
  std::uint64_t offset_ = 0;
};

}  // namespace

std::unique_ptr<ChunkSource> make_read_source(const std::string& path, const ScanOptions& options) {
  return std::make_unique<ReadSource>(path, options);
}

std::unique_ptr<ChunkSource> make_mmap_source(const std::string& path, const ScanOptions& options) {
  return std::make_unique<MmapSource>(path, options);
}

}  // namespace sluice
