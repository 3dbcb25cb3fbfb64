#include "pagecache.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace sluice::bench {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

class Fd {
 public:
  Fd(const std::string& path, int flags) : fd_(::open(path.c_str(), flags | O_CLOEXEC)) {
    if (fd_ < 0) fail("cannot open", path);
  }
  ~Fd() { ::close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Residency residency(const std::string& path) {
  Fd fd(path, O_RDONLY);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) fail("cannot stat", path);
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  Residency r;
  auto size = static_cast<std::uint64_t>(st.st_size);
  r.total_pages = (size + page - 1) / page;
  if (size == 0) return r;
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (map == MAP_FAILED) fail("cannot mmap", path);
  std::vector<unsigned char> vec(r.total_pages);
  int rc = ::mincore(map, size, vec.data());
  int err = errno;
  ::munmap(map, size);
  errno = err;
  if (rc != 0) fail("mincore failed on", path);
  for (unsigned char v : vec) r.resident_pages += v & 1;
  return r;
}

Residency evict(const std::string& path, int attempts) {
  Residency r;
  for (int i = 0; i < attempts; ++i) {
    {
      Fd fd(path, O_RDONLY);
      ::fdatasync(fd.get());  // dirty pages cannot be dropped
      if (int rc = ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED); rc != 0) {
        errno = rc;
        fail("posix_fadvise(DONTNEED) failed on", path);
      }
    }
    r = residency(path);
    if (r.resident_pages == 0) break;
    ::usleep(20000);  // writeback or a concurrent reader: try again
  }
  return r;
}

Residency make_resident(const std::string& path) {
  {
    Fd fd(path, O_RDONLY);
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    std::vector<char> buf(std::size_t{1} << 20);
    while (true) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot read", path);
      if (n == 0) break;
    }
  }
  return residency(path);
}

bool filesystem_supports_cold(const std::string& dir, std::string& fs_name) {
  struct statfs s{};
  if (::statfs(dir.c_str(), &s) != 0) {
    fs_name = "unknown";
    return false;
  }
  switch (static_cast<unsigned long>(s.f_type)) {
    case EXT4_SUPER_MAGIC: fs_name = "ext4"; return true;  // also ext2/ext3 (same magic)
    case XFS_SUPER_MAGIC: fs_name = "xfs"; return true;
    case BTRFS_SUPER_MAGIC: fs_name = "btrfs"; return true;
    case TMPFS_MAGIC: fs_name = "tmpfs"; return false;
    case RAMFS_MAGIC: fs_name = "ramfs"; return false;
    case OVERLAYFS_SUPER_MAGIC: fs_name = "overlayfs"; return true;
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(s.f_type));
      fs_name = buf;
      return true;
    }
  }
}

}  // namespace sluice::bench
