// Page-cache state of a data file: measure it (mincore), empty it (posix_fadvise DONTNEED),
// fill it (read the file). Cold-cache runs are only as cold as mincore says, so every run
// records the residency it started from.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::bench {

struct Residency {
  std::uint64_t resident_pages = 0;
  std::uint64_t total_pages = 0;
  double fraction() const { return total_pages ? double(resident_pages) / double(total_pages) : 1.0; }
};

// mincore() over a read-only mapping of the file (mapping faults nothing in). Throws on error.
Residency residency(const std::string& path);

// fdatasync + POSIX_FADV_DONTNEED, repeated up to `attempts` times until mincore reports no
// resident page. Returns the residency after the last attempt (resident_pages == 0 on success).
Residency evict(const std::string& path, int attempts = 5);

// Reads the whole file (1 MiB read()s into one buffer) so that it is resident; returns the
// residency afterwards.
Residency make_resident(const std::string& path);

// True if `dir` is on a file system that can evict and do O_DIRECT (not tmpfs/ramfs); sets
// `fs_name` to a short name of the file system type ("ext4", "tmpfs", "0x...").
bool filesystem_supports_cold(const std::string& dir, std::string& fs_name);

}  // namespace sluice::bench
