// What a scan did, in numbers a person and a script can both read.
#pragma once

#include <cstdint>
#include <string>

namespace sluice {

struct ScanStats {
  std::string backend;                  // the backend that actually ran ("read", "uring", ...)
  std::uint64_t bytes_read = 0;         // bytes obtained from storage / page cache
  std::uint64_t bytes_delivered = 0;    // bytes the backend made visible to user space
  std::uint64_t records_in = 0;         // records in the input (when counted)
  bool records_in_counted = false;      // ScanOptions::count_input_records was set
  std::uint64_t records_out = 0;        // records that passed the filter
  double wall_seconds = 0;
  double user_cpu_seconds = 0;          // process-wide getrusage delta over the scan
  double system_cpu_seconds = 0;

  // In-kernel filtering (zero for user-space backends).
  std::uint64_t kernel_filter_bytes = 0;  // bytes that entered the kernel filter
  std::uint64_t windows = 0;              // program runs (windows judged or passed)
  std::uint64_t boundary_bytes = 0;       // delivered bytes the kernel passed unjudged
  std::uint64_t bpf_run_count = 0;        // BPF run statistics (kernel.bpf_stats_enabled)
  std::uint64_t bpf_run_time_ns = 0;

  // Aggregates (ScanOptions::aggregate): where they were computed. "kernel": partials in BPF
  // maps, what the kernel could not aggregate exactly in user space; "user space": all of
  // them there; "mixed" over files that differ; empty without aggregates.
  std::string aggregation;
  std::uint64_t kernel_aggregated_records = 0;   // kept records aggregated in the kernel, never delivered
  std::uint64_t kernel_aggregate_fallbacks = 0;  // kept records the kernel delivered instead (inexact
                                                 // value, sum overflow, long key, full group map)

  // Adds another file's scan of the same run (several FILE arguments).
  ScanStats& operator+=(const ScanStats& other);
};

}  // namespace sluice
