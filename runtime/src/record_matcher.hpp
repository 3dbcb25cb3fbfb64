// Frames records out of a stream of chunks and applies a filter. The framing is the
// filter's (Filter::framing()): newline-separated lines, CSV (a '\n' outside double quotes
// ends a record) or fixed-size records. Shared by every user-space backend, and by kernel
// backends for the records they pass up unjudged. Records that straddle chunks are
// reassembled in an owned buffer, so a record may be longer than any chunk.
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

// Framing::csv: the first '\n' in [p, end) outside double quotes, or nullptr. `in_quotes` is
// the quote state at p on entry and at the returned newline (false) or at end on return. A
// '"' toggles the state, so a doubled quote toggles twice (RFC 4180).
const char* find_csv_record_end(const char* p, const char* end, bool& in_quotes);

class RecordMatcher {
 public:
  RecordMatcher(const Filter& filter, bool count_input_records);

  // Appends to `out` the kept records that end in `chunk`. The views point into `chunk`
  // or into this matcher, and stay valid until the next feed()/finish() call.
  void feed(std::span<const char> chunk, std::vector<std::string_view>& out);
  // End of input: judges a last record that has no terminating newline.
  // Throws UsageError when fixed-size input ends inside a record (never a silent truncation).
  void finish(std::vector<std::string_view>& out);

  std::uint64_t records_in() const { return records_in_; }
  std::uint64_t records_out() const { return records_out_; }

 private:
  void judge(std::string_view record, std::vector<std::string_view>& out);
  // [begin, end) holds whole records, each ending with '\n' (end[-1] == '\n').
  void scan_records(const char* begin, const char* end, std::vector<std::string_view>& out);
  void scan_literal_first(const char* begin, const char* end, std::vector<std::string_view>& out);
  void feed_lines(const char* begin, const char* end, std::vector<std::string_view>& out);
  void feed_csv(const char* begin, const char* end, std::vector<std::string_view>& out);
  void feed_fixed(const char* begin, const char* end, std::vector<std::string_view>& out);
  void judge_straddler(std::vector<std::string_view>& out);

  Filter filter_;
  Framing framing_;
  std::size_t record_size_;  // Framing::fixed
  bool partial_in_quotes_ = false;  // Framing::csv: partial_ ends inside double quotes
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
