// Rendering results for people and for scripts: one place for the JSON and text forms.
#pragma once

#include <sluice/stats.hpp>

#include <string>
#include <string_view>

namespace sluice {

// A JSON string literal (quotes included) with every control character escaped.
std::string json_quote(std::string_view text);

// {"backend":"read","bytes_read":...,"throughput_gbps":...}
std::string stats_to_json(const ScanStats& stats);
// Aligned lines for a terminal.
std::string stats_to_text(const ScanStats& stats);

}  // namespace sluice
