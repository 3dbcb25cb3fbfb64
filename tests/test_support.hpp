// Helpers shared by the test programs.
#pragma once

#include <sluice/scanner.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::test {

// A scratch directory under the build tree (not /tmp: the root file system supports
// O_DIRECT, tmpfs does not), removed with everything in it.
class TempDir {
 public:
  explicit TempDir(std::string_view tag)
      : path_(std::filesystem::current_path() / (std::string(tag) + "." + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes a file into the directory and returns its path.
  std::string write(const std::string& name, const std::string& data) const {
    std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// CI sets SLUICE_REQUIRE_KERNEL=1: there, a missing kernel capability fails the test
// instead of skipping it.
inline bool kernel_required() {
  const char* v = std::getenv("SLUICE_REQUIRE_KERNEL");
  return v && std::string_view(v) == "1";
}

// The records a scanner (Scanner, RemoteScanner: anything with next(RecordBatch&)) returns,
// each followed by '\n' as `sluice scan` prints them.
struct Records {
  std::string text;
  std::size_t count = 0;
};
template <class RecordSource>
Records drain(RecordSource& source) {
  RecordBatch batch;
  Records out;
  while (source.next(batch))
    for (std::string_view record : batch.records) {
      out.text.append(record);
      out.text += '\n';
      ++out.count;
    }
  return out;
}

// The records of a whole scan of `path` with `filter` in `backend`, one string each.
inline std::vector<std::string> scan_records(const std::string& path, const Filter& filter, BackendKind backend) {
  ScanOptions options;
  options.backend = backend;
  Scanner scanner(path, filter, options);
  std::vector<std::string> out;
  Records records = drain(scanner);
  std::string_view text = records.text;
  for (std::size_t start = 0, nl; (nl = text.find('\n', start)) != std::string_view::npos; start = nl + 1)
    out.emplace_back(text.substr(start, nl - start));
  return out;
}

}  // namespace sluice::test

// Skip when the kernel cannot do what the test needs, unless CI demands it.
#define SLUICE_REQUIRE_OR_SKIP(condition, why)                                   \
  do {                                                                           \
    if (!(condition)) {                                                          \
      if (::sluice::test::kernel_required()) FAIL() << "required: " << (why);    \
      GTEST_SKIP() << (why);                                                     \
    }                                                                            \
  } while (0)
