// Sums a per-CPU array map's element 0 over the CPUs, for counter structs the BPF side
// increments without atomics (one copy per CPU).
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

namespace sluice::bpf {

// Counters: a struct of __u64 fields only (checked by size and alignment). nullopt when the
// map cannot be read.
template <class Counters>
std::optional<Counters> sum_per_cpu_counters(int map_fd) {
  static_assert(std::is_trivially_copyable_v<Counters> && sizeof(Counters) % sizeof(std::uint64_t) == 0 &&
                    alignof(Counters) == alignof(std::uint64_t),
                "per-CPU counters must be a struct of 64-bit fields");
  constexpr std::size_t kFields = sizeof(Counters) / sizeof(std::uint64_t);
  int cpus = libbpf_num_possible_cpus();
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus > 0 ? cpus : 1) * kFields);
  std::uint32_t key = 0;
  if (bpf_map_lookup_elem(map_fd, &key, per_cpu.data()) != 0) return std::nullopt;
  std::uint64_t total[kFields] = {};
  for (std::size_t i = 0; i < per_cpu.size(); ++i) total[i % kFields] += per_cpu[i];
  Counters out;
  static_assert(sizeof out == sizeof total);
  std::memcpy(&out, total, sizeof out);
  return out;
}

}  // namespace sluice::bpf
