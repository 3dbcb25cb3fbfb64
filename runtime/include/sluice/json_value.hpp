// JSON-lines values in user space (docs/where.md, "JSON lines"): the record is one JSON object;
// a path (.user.id) names a member of it and of the objects inside. Used by the --where
// reference interpreter and by --select; written independently of the filters' byte-level
// state machine (filters/include/sluice/json.h) so that tests can hold one against the other.
//
// A record is valid when it is one JSON object (RFC 8259) in UTF-8, blanks (space, tab, CR,
// LF) around it, containers nested at most kMaxDepth deep, and no unpaired surrogate escape.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace sluice::json {

inline constexpr unsigned kMaxDepth = 64;  // SLUICE_JSON_DEPTH_MAX

struct Value {
  enum class Kind { invalid, missing, null, boolean, number, string, object, array };
  Kind kind = Kind::missing;
  std::string_view text;  // the raw token text (strings with their quotes); empty if none
};

// The value at `path` (keys compared as decoded text; of duplicate keys the last one wins):
// Kind::invalid when the record is not valid, Kind::missing when a member is absent or a
// step of the path is not an object. An empty path gives the record's object itself.
Value find(std::string_view record, std::span<const std::string> path);

// True if the record is valid (see above).
bool valid_object(std::string_view record);

// The text of a string token (with its quotes) from a valid record, escapes decoded to UTF-8.
std::string decode_string(std::string_view token);

}  // namespace sluice::json
