// The export root of `sluice serve`: opens request paths strictly below it.
#pragma once

#include "chunk_source.hpp"
#include "unique_fd.hpp"

#include <string>
#include <string_view>

namespace sluice::net {

class ExportRoot {
 public:
  // Throws sluice::Error if `dir` is not an accessible directory.
  ExportRoot(const std::string& dir, bool use_openat2);

  // Opens a regular file named by `relative` below the root, read-only. Refuses (with
  // ProtocolError: forbidden, not_found, not_regular, bad_request) absolute paths, ".."
  // components, NUL bytes, and any path whose resolution leaves the root through a symlink.
  // With openat2 (Linux 5.6+): RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, so symlinks that stay
  // inside the root work. Without it: a component-by-component O_NOFOLLOW walk that refuses
  // every symlink.
  OpenedFile open(std::string_view relative) const;

  bool uses_openat2() const { return openat2_; }
  const std::string& path() const { return path_; }

 private:
  OpenedFile open_beneath(const std::string& relative) const;
  OpenedFile open_walk(const std::string& relative) const;

  std::string path_;
  UniqueFd root_;
  bool openat2_;
};

}  // namespace sluice::net
