// Small helpers shared by the sluice-bench sources: strings, shell quoting, files, and
// running a short metadata command (`uname`, `dpkg-query`, `git`) to capture its output.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::bench {

// A mistake in the command line or the peers table (sluice-bench exits 2).
class BenchUsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::vector<std::string> split(std::string_view text, char sep, bool keep_empty = false);
std::string trim(std::string_view text);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
bool starts_with(std::string_view text, std::string_view prefix);

// 'text' quoted for /bin/sh (single quotes, ' as '\'').
std::string shell_quote(std::string_view text);

// printf-style formatting of one double ("%.6g" by default); "" for NaN.
std::string fmt_double(double value, const char* format = "%.6g");

// The whole file, or nullopt if it cannot be read.
std::optional<std::string> read_text_file(const std::string& path);
void write_text_file(const std::string& path, std::string_view text);  // throws std::runtime_error

// Runs `sh -c command` (stdin /dev/null, stderr discarded), returns stdout without the final
// newline, or "" if it failed. For metadata only: never for measured runs.
std::string capture_command(const std::string& command);

// First match of `name` in $PATH (an absolute path), or "" if absent. A name with a '/' is
// checked as given.
std::string find_in_path(const std::string& name);

// Seconds as "1m23s" / "45s" for the progress line.
std::string human_duration(double seconds);

// UTC now as 2025-01-31T12:34:56Z.
std::string utc_timestamp();

}  // namespace sluice::bench
