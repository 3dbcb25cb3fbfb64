#include "record_matcher.hpp"

#include <sluice/error.hpp>

#include <cstring>
#include <limits>

namespace sluice {

RecordMatcher::RecordMatcher(const Filter& filter, bool count_input_records)
    : filter_(filter), count_input_records_(count_input_records) {
  if (!filter_.required_literal().empty()) {
    literal_.emplace(filter_.required_literal());
    literal_is_exact_ = filter_.literal_is_exact();
  }
}

void RecordMatcher::judge(std::string_view record, std::vector<std::string_view>& out) {
  if (record.size() > std::numeric_limits<std::uint32_t>::max())
    throw Error("a record of " + std::to_string(record.size()) +
                " bytes is longer than the 4 GiB a filter can judge");
  if (filter_.keep(record)) {
    out.push_back(record);
    ++records_out_;
  }
}

void RecordMatcher::scan_records(const char* begin, const char* end, std::vector<std::string_view>& out) {
  const char* p = begin;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    judge(std::string_view(p, nl - p), out);
    ++records_in_;
    p = nl + 1;
  }
}

void RecordMatcher::scan_literal_first(const char* begin, const char* end,
                                       std::vector<std::string_view>& out) {
  if (count_input_records_) records_in_ += count_byte(begin, end - begin, '\n');
  const char* p = begin;  // always the start of a record
  while (p < end) {
    const char* hit = literal_->find(p, end);
    if (!hit) break;
    // The literal holds no '\n', so the whole hit lies inside one record.
    const void* prev_nl = memrchr(p, '\n', hit - p);
    const char* start = prev_nl ? static_cast<const char*>(prev_nl) + 1 : p;
    const char* stop = static_cast<const char*>(std::memchr(hit, '\n', end - hit));
    std::string_view record(start, stop - start);
    if (literal_is_exact_) {
      out.push_back(record);
      ++records_out_;
    } else {
      judge(record, out);
    }
    p = stop + 1;
  }
}

void RecordMatcher::feed(std::span<const char> chunk, std::vector<std::string_view>& out) {
  const char* begin = chunk.data();
  const char* end = begin + chunk.size();
  if (begin == end) return;
  if (literal_ && !calibrated_) {
    literal_->calibrate(chunk.first(std::min<std::size_t>(chunk.size(), 256 * 1024)));
    calibrated_ = true;
  }
  if (!partial_.empty()) {
    // Complete the record that started in an earlier chunk.
    const char* nl = static_cast<const char*>(std::memchr(begin, '\n', chunk.size()));
    if (!nl) {
      partial_.append(begin, end);
      return;
    }
    partial_.append(begin, nl);
    straddler_.swap(partial_);
    partial_.clear();
    judge(straddler_, out);
    ++records_in_;
    begin = nl + 1;
  }
  const char* last_nl = begin < end ? static_cast<const char*>(memrchr(begin, '\n', end - begin)) : nullptr;
  if (!last_nl) {
    partial_.assign(begin, end);
    return;
  }
  if (literal_)
    scan_literal_first(begin, last_nl + 1, out);
  else
    scan_records(begin, last_nl + 1, out);
  partial_.assign(last_nl + 1, end);
}

void RecordMatcher::finish(std::vector<std::string_view>& out) {
  if (partial_.empty()) return;
  straddler_.swap(partial_);
  partial_.clear();
  judge(straddler_, out);
  ++records_in_;
}

}  // namespace sluice
