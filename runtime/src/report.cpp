#include <sluice/report.hpp>

#include <cstdio>

namespace sluice {

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
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
  return buf;
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
  return text;
}

}  // namespace sluice
