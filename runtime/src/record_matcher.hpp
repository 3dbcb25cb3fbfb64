// Frames newline-separated records out of a stream of chunks and applies a filter.
// Shared by every user-space backend, and by kernel backends for the records they pass
// up unjudged. Records that straddle chunks are reassembled in an owned buffer, so a
// record may be longer than any chunk.
#pragma once

#include <sluice/filter.hpp>

#include "byte_search.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class RecordMatcher {
 public:
  RecordMatcher(const Filter& filter, bool count_input_records);

  // Appends to `out` the kept records that end in `chunk`. The views point into `chunk`
  // or into this matcher, and stay valid until the next feed()/finish() call.
  void feed(std::span<const char> chunk, std::vector<std::string_view>& out);
  // End of input: judges a last record that has no terminating newline.
  void finish(std::vector<std::string_view>& out);

  std::uint64_t records_in() const { return records_in_; }
  std::uint64_t records_out() const { return records_out_; }

 private:
  void judge(std::string_view record, std::vector<std::string_view>& out);
  // [begin, end) holds whole records, each ending with '\n' (end[-1] == '\n').
  void scan_records(const char* begin, const char* end, std::vector<std::string_view>& out);
  void scan_literal_first(const char* begin, const char* end, std::vector<std::string_view>& out);

  Filter filter_;
  std::optional<LiteralSearcher> literal_;
  bool literal_is_exact_ = false;
  bool calibrated_ = false;
  bool count_input_records_;
  std::string partial_;   // bytes of a record not yet terminated
  std::string straddler_; // the last completed partial record, handed out as a view
  std::uint64_t records_in_ = 0;
  std::uint64_t records_out_ = 0;
};

}  // namespace sluice
