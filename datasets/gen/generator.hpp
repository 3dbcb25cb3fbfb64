// sluice::datasets — deterministic synthetic record generator (the engine behind sluice-gen).
//
//   sluice::datasets::GenOptions o;
//   o.records = 100000;
//   o.literal = "XQZSLUICE";
//   o.literal_selectivity = sluice::datasets::parse_fraction("1%");
//   sluice::datasets::StringSink sink;            // or FdSink, or your own ByteSink
//   sluice::datasets::GenResult r = sluice::datasets::generate(o, sink);
//   // r.literal_records lines of sink.data contain the literal, exactly.
//
// Records are `id,key,value,price,text` + terminator. Everything is a pure function of the
// options (seed included): the random numbers come from splitmix64 and a fixed integer
// derivation (no std::*_distribution), so the bytes are identical across compilers and
// standard libraries. See datasets/README.md for the format and the exactness guarantees.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::datasets {

// Invalid or contradictory options (sluice-gen exits 2 on it).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writing the output failed (sluice-gen exits 1 on it).
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An exact rational num/den in [0, 1], parsed from "0.25", ".5", "1", "12.5%".
struct Fraction {
  std::uint64_t num = 0;
  std::uint64_t den = 1;
  std::string text;  // as given, for messages

  bool is_zero() const { return num == 0; }
  // round(F * n), halves rounded up, computed exactly in integers.
  std::uint64_t of(std::uint64_t n) const;
  double as_double() const { return static_cast<double>(num) / static_cast<double>(den); }
};

// "0.01", "1", "0", ".5", "1%", "0.5%". Throws UsageError if malformed or outside 0..1.
Fraction parse_fraction(std::string_view text, std::string_view what);
// "1000", "64K", "256M", "1G", "2KiB" (K/M/G = 2^10/2^20/2^30, case-insensitive). Throws UsageError.
std::uint64_t parse_size(std::string_view text, std::string_view what);
// Plain unsigned / signed decimal integers, strictly (no suffix, no garbage). Throw UsageError.
std::uint64_t parse_u64(std::string_view text, std::string_view what);
std::int64_t parse_i64(std::string_view text, std::string_view what);
// "," ";" "|" " " "\t" (the two characters) or "tab" or a real tab. Throws UsageError.
char parse_delimiter(std::string_view text);

struct GenOptions {
  std::uint64_t seed = 1;

  // Exactly one of these: a record count, or a byte budget (records are added until the
  // output, header included, reaches at least `size` bytes; the last record completes).
  std::optional<std::uint64_t> records;
  std::optional<std::uint64_t> size;

  // Target record length, terminator included, uniform in [min_length, max_length].
  std::uint64_t min_length = 100;
  std::uint64_t max_length = 100;

  char delimiter = ',';
  bool header = false;
  bool crlf = false;
  bool trailing_newline = true;  // false: the last record has no terminator
  bool nul_bytes = false;        // sprinkle NULs into the text column of ~1/8 of the records

  // The literal is in exactly literal_selectivity.of(N) records, and in no other.
  std::string literal = "XQZSLUICE";
  Fraction literal_selectivity{1, 100, "1%"};

  // value column: uniform integers in [value_min, value_max].
  std::int64_t value_min = 0;
  std::int64_t value_max = 999999;
  // With a threshold, value_gt_records (value > T) is reported; with a fraction too, it is
  // exactly value_fraction->of(N), those values uniform in (T, max], the others in [min, T].
  std::optional<std::int64_t> value_threshold;
  std::optional<Fraction> value_fraction;

  bool allow_negative = false;  // price in [-99999.99, 99999.99] instead of [0, 99999.99]

  std::uint64_t long_records = 0;       // this many records are long_length bytes long
  std::uint64_t long_length = 200000;
};

struct GenResult {
  std::uint64_t records = 0;          // data records (the header line is not one)
  std::uint64_t bytes = 0;            // total output bytes, header included
  std::uint64_t header_bytes = 0;
  std::uint64_t literal_records = 0;  // records containing the literal
  std::uint64_t literal_bytes = 0;    // their lengths, terminators included
  bool has_threshold = false;
  std::int64_t value_threshold = 0;
  std::uint64_t value_gt_records = 0;  // records with value > threshold
  std::uint64_t long_records = 0;
  std::uint64_t nul_records = 0;      // records with at least one NUL byte
  std::uint64_t min_record_bytes = 0; // shortest and longest record, terminator included
  std::uint64_t max_record_bytes = 0;
  std::uint64_t regenerated = 0;      // records whose random part had to be redrawn (expect 0)
  std::string filler_alphabet;        // the characters the text column is made of (+ NUL)
  std::string key_alphabet;
  int excluded_byte = -1;             // literal byte kept out of the filler/key, or -1
};

// Destination of the generated bytes (called with large chunks, in order).
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(const char* data, std::size_t size) = 0;
};

// write(2) to a file descriptor, retrying short writes; throws OutputError.
class FdSink : public ByteSink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  void write(const char* data, std::size_t size) override;

 private:
  int fd_;
  std::string name_;
};

// Accumulates everything in memory (small data sets, tests, benchmarks).
class StringSink : public ByteSink {
 public:
  void write(const char* data, std::size_t size) override { data_.append(data, size); }
  const std::string& data() const { return data_; }
  std::string take() { return std::move(data_); }

 private:
  std::string data_;
};

// Throws UsageError if the options are invalid or cannot be satisfied exactly.
void validate(const GenOptions& options);

// The number of records the options produce (with `size`, the smallest count that reaches
// it). Validates first.
std::uint64_t plan_record_count(const GenOptions& options);

// Generates the whole data set into `sink`. Validates first. Deterministic.
GenResult generate(const GenOptions& options, ByteSink& sink,
                   std::size_t buffer_size = std::size_t{8} << 20);

// The header line ("id,key,value,price,text" with the delimiter and terminator), if any.
std::string header_line(const GenOptions& options);

// {"records": ..., "bytes": ..., "literal": ..., ...}: the expected results, as JSON.
std::string expectations_json(const GenOptions& options, const GenResult& result,
                              const std::string& command);

std::string json_escape(std::string_view s);

}  // namespace sluice::datasets
