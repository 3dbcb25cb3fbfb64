#include "record_matcher.hpp"

#include <sluice/error.hpp>

#include <cstring>
#include <limits>

namespace sluice {

const char* find_csv_record_end(const char* p, const char* end, bool& in_quotes) {
  const char* newline = nullptr;  // the next '\n' at or after p, once searched for
  while (p < end) {
    if (in_quotes) {
      const char* quote = static_cast<const char*>(std::memchr(p, '"', end - p));
      if (!quote) return nullptr;
      in_quotes = false;
      p = quote + 1;
      continue;
    }
    if (!newline || newline < p) {
      newline = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (!newline) newline = end;
    }
    const char* quote = static_cast<const char*>(std::memchr(p, '"', newline - p));
    if (!quote) return newline == end ? nullptr : newline;
    in_quotes = true;
    p = quote + 1;
  }
  return nullptr;
}

RecordMatcher::RecordMatcher(const Filter& filter, bool count_input_records)
    : filter_(filter),
      framing_(filter.framing()),
      record_size_(filter.record_size()),
      count_input_records_(count_input_records) {
  if (framing_ == Framing::fixed && record_size_ == 0) throw UsageError("fixed-size records need a record size > 0");
  // Literal-first search finds a record's bounds around a hit by its newlines, which only
  // lines framing allows: CSV and fixed-size records are judged one by one.
  if (framing_ == Framing::lines && !filter_.required_literal().empty()) {
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

void RecordMatcher::judge_straddler(std::vector<std::string_view>& out) {
  straddler_.swap(partial_);
  partial_.clear();
  judge(straddler_, out);
  ++records_in_;
}

void RecordMatcher::feed(std::span<const char> chunk, std::vector<std::string_view>& out) {
  const char* begin = chunk.data();
  const char* end = begin + chunk.size();
  if (begin == end) return;
  if (literal_ && !calibrated_) {
    literal_->calibrate(chunk.first(std::min<std::size_t>(chunk.size(), 256 * 1024)));
    calibrated_ = true;
  }
  switch (framing_) {
    case Framing::lines: return feed_lines(begin, end, out);
    case Framing::csv: return feed_csv(begin, end, out);
    case Framing::fixed: return feed_fixed(begin, end, out);
  }
}

void RecordMatcher::feed_csv(const char* begin, const char* end, std::vector<std::string_view>& out) {
  // A record that began in an earlier chunk (possibly empty so far: it began at this chunk's
  // start only if partial_ is empty and the state is outside quotes, handled below alike).
  bool in_quotes = partial_in_quotes_;
  if (!partial_.empty() || in_quotes) {
    const char* stop = find_csv_record_end(begin, end, in_quotes);
    if (!stop) {
      partial_.append(begin, end);
      partial_in_quotes_ = in_quotes;
      return;
    }
    partial_.append(begin, stop);
    partial_in_quotes_ = false;
    judge_straddler(out);
    begin = stop + 1;
  }
  while (begin < end) {
    in_quotes = false;
    const char* stop = find_csv_record_end(begin, end, in_quotes);
    if (!stop) {
      partial_.assign(begin, end);
      partial_in_quotes_ = in_quotes;
      return;
    }
    judge(std::string_view(begin, stop - begin), out);
    ++records_in_;
    begin = stop + 1;
  }
}

void RecordMatcher::feed_fixed(const char* begin, const char* end, std::vector<std::string_view>& out) {
  if (!partial_.empty()) {
    std::size_t take = std::min<std::size_t>(record_size_ - partial_.size(), end - begin);
    partial_.append(begin, take);
    begin += take;
    if (partial_.size() < record_size_) return;
    judge_straddler(out);
  }
  for (; static_cast<std::size_t>(end - begin) >= record_size_; begin += record_size_) {
    judge(std::string_view(begin, record_size_), out);
    ++records_in_;
  }
  partial_.assign(begin, end);
}

void RecordMatcher::feed_lines(const char* begin, const char* end, std::vector<std::string_view>& out) {
  if (!partial_.empty()) {
    // Complete the record that started in an earlier chunk.
    const char* nl = static_cast<const char*>(std::memchr(begin, '\n', end - begin));
    if (!nl) {
      partial_.append(begin, end);
      return;
    }
    partial_.append(begin, nl);
    judge_straddler(out);
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
  if (framing_ == Framing::fixed)
    throw UsageError("the input ends " + std::to_string(partial_.size()) + " bytes into a record of " +
                     std::to_string(record_size_) + " bytes: its size is not a multiple of the record size (after " +
                     std::to_string(records_in_) + " whole records)");
  // CSV: a last record without a newline (or with an unterminated quote) is still a record.
  partial_in_quotes_ = false;
  judge_straddler(out);
}

}  // namespace sluice
