// libFuzzer target for CSV framing (RFC 4180 quote parity) in the RecordMatcher: the input is
// cut into chunks at places the input itself chooses, fed to a matcher that keeps every
// record, and the records must equal those of a byte-at-a-time reference framer (a '\n'
// outside double quotes ends a record; each '"' toggles). No crash, hang or leak (ASan, UBSan).
// A second pass with a drop-all filter must keep nothing and count the same records.
//
// Built with clang-19 -fsanitize=fuzzer,address,undefined (tests/CMakeLists.txt); ctest runs
// it for a few seconds (fuzz.csv_framing). Longer runs: docs/where.md, "Fuzzing".
#include "record_matcher.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

std::vector<std::string> reference_records(std::string_view data) {
  std::vector<std::string> out;
  std::string record;
  bool quoted = false;
  for (char c : data) {
    if (c == '\n' && !quoted) {
      out.push_back(record);
      record.clear();
      continue;
    }
    if (c == '"') quoted = !quoted;
    record += c;
  }
  if (!record.empty()) out.push_back(record);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte seeds the chunk sizes (1..64 bytes, or the whole rest).
  std::uint32_t seed = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> want = reference_records(text);

  sluice::Filter keep = sluice::Filter::make(sluice::KeepAllSpec{}).with_framing(sluice::Framing::csv);
  sluice::Filter drop = sluice::Filter::make(sluice::KeepNoneSpec{}).with_framing(sluice::Framing::csv);
  sluice::RecordMatcher keeper(keep, true), dropper(drop, true);
  std::vector<std::string> got;
  std::vector<std::string_view> batch, none;
  std::size_t at = 0;
  while (at < text.size()) {
    seed = seed * 1103515245u + 12345u;
    std::size_t n = (seed >> 16) % 8 == 0 ? text.size() - at : 1 + (seed >> 16) % 64;
    if (n > text.size() - at) n = text.size() - at;
    std::span<const char> chunk(text.data() + at, n);
    batch.clear();
    keeper.feed(chunk, batch);
    for (std::string_view r : batch) got.emplace_back(r);  // views live until the next feed
    dropper.feed(chunk, none);
    at += n;
  }
  batch.clear();
  keeper.finish(batch);
  for (std::string_view r : batch) got.emplace_back(r);
  dropper.finish(none);
  require(got == want);
  require(none.empty());
  require(keeper.records_in() == want.size() && dropper.records_in() == want.size());
  return 0;
}
