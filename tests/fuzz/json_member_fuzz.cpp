// libFuzzer target for the JSON-lines primitives (filters/include/sluice/json.h, native build):
// on any record, member lookup agrees with libsluice's reader (sluice/json_value.hpp) on
// validity, absence and the value's bounds, also one level down; a string value compares
// equal to its decoded text, and contains/startswith/endswith agree with std::string on it.
// No crash, hang or out-of-bounds read (ASan, UBSan).
//
// Input: the member name, a newline, then the record. Built and run by tests/CMakeLists.txt
// (fuzz.json_member); longer runs: docs/where.md, "Fuzzing".
#include <sluice/json_value.hpp>

extern "C" {
#include <sluice/filter.h>
#include <sluice/json.h>
}

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

sluice_needle needle_of(std::string_view s) {
  sluice_needle n{};
  n.len = static_cast<sluice_u32>(s.size());
  std::memcpy(n.bytes, s.data(), s.size());
  return n;
}

// The primitive's answer for `key` in [off, end) of rec, checked against the reader's for path.
sluice_u64 check_member(const std::string& rec, sluice_u64 parent, const std::vector<std::string>& path) {
  const auto* w = reinterpret_cast<const sluice_u8*>(rec.data());
  sluice_needle key = needle_of(path.back());
  sluice_u64 v = path.size() == 1 ? sluice_json_member(w, 0, static_cast<sluice_u32>(rec.size()), &key)
                                  : sluice_json_next(w, parent, &key);
  sluice::json::Value want = sluice::json::find(rec, path);
  using Kind = sluice::json::Value::Kind;
  if (want.kind == Kind::invalid) {
    require(v == SLUICE_JSON_INVALID);
  } else if (want.kind == Kind::missing) {
    require(v == SLUICE_NO_FIELD);
  } else {
    require(v != SLUICE_NO_FIELD && v != SLUICE_JSON_INVALID);
    std::size_t s = v >> 32, e = static_cast<sluice_u32>(v);
    require(s <= e && e <= rec.size() && rec.substr(s, e - s) == want.text);
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t nl = input.find('\n');
  if (nl == std::string_view::npos || nl > SLUICE_NEEDLE_MAX) return 0;
  std::string key(input.substr(0, nl));
  std::string rec(input.substr(nl + 1));
  const auto* w = reinterpret_cast<const sluice_u8*>(rec.data());

  sluice_u64 v = check_member(rec, 0, {key});
  check_member(rec, v, {key, key});
  if (v == SLUICE_NO_FIELD || v == SLUICE_JSON_INVALID || rec[v >> 32] != '"') return 0;

  std::string text = sluice::json::decode_string(rec.substr(v >> 32, static_cast<sluice_u32>(v) - (v >> 32)));
  if (text.size() <= SLUICE_NEEDLE_MAX) {
    sluice_needle t = needle_of(text);
    require(sluice_json_cmp_string(w, v, &t) == 0);
  }
  for (std::string_view k : {"", "a", "\xc3\xa9", "\xf0\x9f\x98\x80", "ab", "\"", "\\", "\n"}) {
    sluice_needle n = needle_of(k);
    require(sluice_json_has(w, v, &n, 0) == (text.find(k) != std::string::npos));
    require(sluice_json_has(w, v, &n, 1) == text.starts_with(k));
    require(sluice_json_has(w, v, &n, 2) == text.ends_with(k));
  }
  return 0;
}
