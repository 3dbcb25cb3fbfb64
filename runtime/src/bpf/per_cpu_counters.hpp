// Reading per-CPU maps: one element's copy on every CPU, and a per-CPU array's element 0
// summed over the CPUs, for counter structs the BPF side increments without atomics.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

namespace sluice::bpf {

// The element under `key` of a per-CPU map, one copy per possible CPU (the kernel pads each
// copy to 8 bytes: T must be a multiple of that). nullopt when the map cannot be read.
template <class T>
std::optional<std::vector<T>> per_cpu_values(int map_fd, const void* key) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % sizeof(std::uint64_t) == 0);
  int cpus = libbpf_num_possible_cpus();
  std::vector<T> values(static_cast<std::size_t>(cpus > 0 ? cpus : 1));
  if (bpf_map_lookup_elem(map_fd, key, values.data()) != 0) return std::nullopt;
  return values;
}

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
