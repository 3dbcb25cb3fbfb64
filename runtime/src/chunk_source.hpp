// A ChunkSource delivers a file's bytes to user space in order, as a sequence of
// contiguous chunks. The user-space backends (read, uring, mmap) differ only here; record
// framing and filtering are shared (record_matcher.hpp).
#pragma once

#include <sluice/scanner.hpp>

#include "unique_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace sluice {

class ChunkSource {
 public:
  virtual ~ChunkSource() = default;

  // The next chunk of the file, in file order. An empty span means end of file.
  // The chunk stays valid (and unmodified) until the next call to next_chunk() or the
  // destruction of the source. Throws sluice::Error on I/O errors.
  virtual std::span<const char> next_chunk() = 0;

  // Bytes obtained from storage so far (for O_DIRECT this counts whole aligned blocks).
  virtual std::uint64_t bytes_read() const = 0;
};

// Each opens `path` itself and throws sluice::Error (with the path and reason) if it cannot.
std::unique_ptr<ChunkSource> make_read_source(const std::string& path, const ScanOptions& options);
std::unique_ptr<ChunkSource> make_uring_source(const std::string& path, const ScanOptions& options);
std::unique_ptr<ChunkSource> make_mmap_source(const std::string& path, const ScanOptions& options);

// Opens path read-only (O_CLOEXEC, plus extra_flags), refusing directories and other
// non-regular files with a clear message. Returns the fd and the file size.
struct OpenedFile {
  UniqueFd fd;
  std::uint64_t size;
};
OpenedFile open_regular_file(const std::string& path, int extra_flags);

}  // namespace sluice
