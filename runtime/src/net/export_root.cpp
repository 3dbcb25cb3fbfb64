#include "net/export_root.hpp"

#include "net/protocol.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace sluice::net {
namespace {

constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;  // a FIFO must not block us

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    std::string c = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!c.empty() && c != ".") out.push_back(c);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string shown(std::string_view path) {
  std::string s(path.substr(0, 200));
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  return "'" + s + (path.size() > 200 ? "...'" : "'");
}

[[noreturn]] void refuse_errno(int err, std::string_view path) {
  switch (err) {
    case ENOENT:
    case ENOTDIR: throw ProtocolError(ErrorCode::not_found, shown(path) + ": no such file below the export root");
    case EXDEV: throw ProtocolError(ErrorCode::forbidden, shown(path) + ": resolves outside the export root");
    case ELOOP:
      throw ProtocolError(ErrorCode::forbidden, shown(path) + ": a symlink that is not followed (or a loop)");
    case EACCES:
    case EPERM: throw ProtocolError(ErrorCode::forbidden, shown(path) + ": permission denied");
    case ENXIO:
    case ENODEV: throw ProtocolError(ErrorCode::not_regular, shown(path) + ": not a regular file");
    case ENAMETOOLONG: throw ProtocolError(ErrorCode::bad_request, shown(path) + ": name too long");
    default: throw ProtocolError(ErrorCode::io, shown(path) + ": " + std::strerror(err));
  }
}

OpenedFile check_regular(UniqueFd fd, std::string_view path) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) refuse_errno(errno, path);
  if (S_ISDIR(st.st_mode)) throw ProtocolError(ErrorCode::not_regular, shown(path) + ": is a directory");
  if (!S_ISREG(st.st_mode)) throw ProtocolError(ErrorCode::not_regular, shown(path) + ": not a regular file");
  int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  return {std::move(fd), static_cast<std::uint64_t>(st.st_size)};
}

bool openat2_works(int root) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_DIRECTORY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root, ".", &how, sizeof how);
  if (fd >= 0) {
    ::close(static_cast<int>(fd));
    return true;
  }
  return false;  // ENOSYS (before 5.6), or a seccomp policy that refuses it
}

}  // namespace

ExportRoot::ExportRoot(const std::string& dir, bool use_openat2) : path_(dir) {
  root_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_) throw system_error("export root " + dir, errno);
  openat2_ = use_openat2 && openat2_works(root_.get());
}

OpenedFile ExportRoot::open(std::string_view relative) const {
  if (relative.empty()) throw ProtocolError(ErrorCode::bad_request, "the request names no file");
  if (relative.size() > kMaxPathLength)
    throw ProtocolError(ErrorCode::bad_request, "a path of " + std::to_string(relative.size()) + " bytes");
  if (relative.find('\0') != std::string_view::npos)
    throw ProtocolError(ErrorCode::bad_request, "a path with a NUL byte");
  if (relative.front() == '/')
    throw ProtocolError(ErrorCode::forbidden, shown(relative) + ": absolute paths are not served (name a file below the root)");
  std::string path(relative);
  for (const std::string& c : components(path))
    if (c == "..") throw ProtocolError(ErrorCode::forbidden, shown(relative) + ": '..' is not allowed");
  return openat2_ ? open_beneath(path) : open_walk(path);
}

OpenedFile ExportRoot::open_beneath(const std::string& path) const {
  open_how how{};
  how.flags = kOpenFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd;
  do fd = ::syscall(SYS_openat2, root_.get(), path.c_str(), &how, sizeof how);
  while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0) refuse_errno(errno, path);
  return check_regular(UniqueFd(static_cast<int>(fd)), path);
}

OpenedFile ExportRoot::open_walk(const std::string& path) const {
  std::vector<std::string> parts = components(path);
  if (parts.empty()) throw ProtocolError(ErrorCode::not_regular, shown(path) + ": is a directory");
  UniqueFd dir(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
  if (!dir) throw system_error("dup", errno);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    UniqueFd next(::openat(dir.get(), parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      int err = errno;
      struct stat st {};
      if (::fstatat(dir.get(), parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) err = ELOOP;
      refuse_errno(err, path);
    }
    dir = std::move(next);
  }
  UniqueFd fd(::openat(dir.get(), parts.back().c_str(), kOpenFlags | O_NOFOLLOW));
  if (!fd) refuse_errno(errno, path);
  return check_regular(std::move(fd), path);
}

}  // namespace sluice::net
