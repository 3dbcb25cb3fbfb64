#include <sluice/report.hpp>

#include <cstdint>
#include <cstdio>

namespace sluice {

// Invalid UTF-8 becomes U+FFFD, so the output is valid JSON whatever the bytes (paths may be
// anything).
std::string json_quote(std::string_view s) {
  std::string out;
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // Multi-byte sequence: validate (no overlongs, no surrogates, <= U+10FFFF).
    size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    bool valid = len != 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) valid = false;
      else cp = (cp << 6) | (cc & 0x3F);
    }
    if (valid) {
      if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        valid = false;
    }
    if (valid) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += '"';
  return out;
}

namespace {
double gb_per_second(const ScanStats& s) { return s.wall_seconds > 0 ? s.bytes_read / s.wall_seconds / 1e9 : 0; }
std::string records_in_json(const ScanStats& s) { return s.records_in_counted ? std::to_string(s.records_in) : "null"; }
}  // namespace

std::string stats_to_json(const ScanStats& s) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\"backend\":%s,\"bytes_read\":%llu,\"bytes_delivered\":%llu,\"records_in\":%s,"
                "\"records_out\":%llu,\"wall_seconds\":%.6f,\"user_cpu_seconds\":%.6f,"
                "\"system_cpu_seconds\":%.6f,\"throughput_gbps\":%.4f,\"kernel_filter_bytes\":%llu,"
                "\"windows\":%llu,\"boundary_bytes\":%llu,\"bpf_run_count\":%llu,\"bpf_run_time_ns\":%llu}",
                json_quote(s.backend).c_str(), static_cast<unsigned long long>(s.bytes_read),
                static_cast<unsigned long long>(s.bytes_delivered), records_in_json(s).c_str(),
                static_cast<unsigned long long>(s.records_out), s.wall_seconds, s.user_cpu_seconds,
                s.system_cpu_seconds, gb_per_second(s), static_cast<unsigned long long>(s.kernel_filter_bytes),
                static_cast<unsigned long long>(s.windows), static_cast<unsigned long long>(s.boundary_bytes),
                static_cast<unsigned long long>(s.bpf_run_count), static_cast<unsigned long long>(s.bpf_run_time_ns));
  std::string json = buf;
  if (!s.aggregation.empty()) {
    json.pop_back();  // the closing brace
    json += ",\"aggregation\":" + json_quote(s.aggregation) +
            ",\"kernel_aggregated_records\":" + std::to_string(s.kernel_aggregated_records) +
            ",\"kernel_aggregate_fallbacks\":" + std::to_string(s.kernel_aggregate_fallbacks) + "}";
  }
  return json;
}

std::string stats_to_text(const ScanStats& s) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "backend                        %s\n"
                "bytes read from storage        %llu\n"
                "bytes delivered to user space  %llu\n"
                "records in                     %s\n"
                "records out                    %llu\n"
                "wall time                      %.6f s (%.2f GB/s)\n"
                "CPU user / system              %.6f s / %.6f s\n",
                s.backend.c_str(), static_cast<unsigned long long>(s.bytes_read),
                static_cast<unsigned long long>(s.bytes_delivered),
                s.records_in_counted ? std::to_string(s.records_in).c_str() : "not counted (--no-record-count)",
                static_cast<unsigned long long>(s.records_out), s.wall_seconds, gb_per_second(s), s.user_cpu_seconds,
                s.system_cpu_seconds);
  std::string text = buf;
  if (s.windows > 0) {
    double boundary_share = s.bytes_delivered ? 100.0 * s.boundary_bytes / s.bytes_delivered : 0;
    std::snprintf(buf, sizeof buf,
                  "bytes into the kernel filter   %llu\n"
                  "kernel filter windows          %llu\n"
                  "boundary records (unjudged)    %llu bytes (%.1f%% of delivered)\n",
                  static_cast<unsigned long long>(s.kernel_filter_bytes), static_cast<unsigned long long>(s.windows),
                  static_cast<unsigned long long>(s.boundary_bytes), boundary_share);
    text += buf;
    if (s.bpf_run_count > 0) {
      std::snprintf(buf, sizeof buf, "BPF runs / run time            %llu / %.6f s (%.0f ns per run)\n",
                    static_cast<unsigned long long>(s.bpf_run_count), s.bpf_run_time_ns / 1e9,
                    static_cast<double>(s.bpf_run_time_ns) / s.bpf_run_count);
      text += buf;
    }
  }
  if (!s.aggregation.empty()) {
    text += "aggregates computed in         " + s.aggregation + "\n";
    if (s.aggregation != "user space") {
      std::snprintf(buf, sizeof buf, "records aggregated in kernel   %llu (%llu more delivered: not exact there)\n",
                    static_cast<unsigned long long>(s.kernel_aggregated_records),
                    static_cast<unsigned long long>(s.kernel_aggregate_fallbacks));
      text += buf;
    }
  }
  return text;
}

}  // namespace sluice
