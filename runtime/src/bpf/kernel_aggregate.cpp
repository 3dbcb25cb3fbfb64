#include "bpf/kernel_aggregate.hpp"
#include "bpf/per_cpu_counters.hpp"

#include <sluice/error.hpp>

#include <bpf/bpf.h>

#include <cerrno>
#include <string>
#include <vector>

namespace sluice {
namespace {

constexpr std::uint32_t kMaxFieldNumber = 65535;  // what the CLI accepts; the kernel loops that far

// One key's per-CPU partials; throws with `what` when the map cannot be read.
std::vector<sluice_agg_partial> partials_of(int map_fd, const void* key, const char* what) {
  std::optional<std::vector<sluice_agg_partial>> values = bpf::per_cpu_values<sluice_agg_partial>(map_fd, key);
  if (!values) throw system_error(std::string("reading ") + what, errno);
  return std::move(*values);
}

Decimal scaled(std::int64_t v) { return normalized(Decimal{v, SLUICE_AGG_SCALE}); }

// The per-CPU partials of one key as one group of `columns` columns.
AggregateGroup to_group(const std::vector<sluice_agg_partial>& per_cpu, std::size_t columns) {
  AggregateGroup g{0, std::vector<AggregateCell>(columns)};
  for (const sluice_agg_partial& p : per_cpu) {
    g.count += p.count;
    for (std::size_t i = 0; i < columns; ++i) {
      const sluice_agg_cell& c = p.cells[i];
      if (c.numbers == 0) continue;
      // Each CPU's 64-bit sum is exact; their total is summed in 128 bits.
      g.cells[i].merge(AggregateCell{c.numbers, scaled(c.sum), scaled(c.min), scaled(c.max)});
    }
  }
  return g;
}

}  // namespace

std::optional<HostSetting> kernel_aggregate_setting(const AggregateSpec& spec, Framing framing) {
  if (spec.value_fields.size() > SLUICE_AGG_COLUMNS_MAX) return std::nullopt;
  bool cuts_fields = spec.group_field || !spec.value_fields.empty();
  if (cuts_fields && framing != Framing::lines) return std::nullopt;
  sluice_agg_config config{};
  config.enabled = 1;
  config.delimiter = static_cast<unsigned char>(spec.delimiter);
  if (spec.group_field) {
    if (*spec.group_field > kMaxFieldNumber) return std::nullopt;
    config.grouped = 1;
    config.group_field = *spec.group_field;
  }
  config.columns = static_cast<std::uint32_t>(spec.value_fields.size());
  for (std::size_t i = 0; i < spec.value_fields.size(); ++i) {
    if (spec.value_fields[i] > kMaxFieldNumber) return std::nullopt;
    config.fields[i] = spec.value_fields[i];
  }
  return HostSetting::of("sluice_aggregate", config);
}

Aggregator read_kernel_aggregates(const LoadedFilterObject& object, const AggregateSpec& spec) {
  std::size_t columns = spec.value_fields.size();
  Aggregator out(columns);
  if (!spec.group_field) {
    std::uint32_t zero = 0;
    out.merge("", to_group(partials_of(object.map_fd("agg_total"), &zero, "the kernel's aggregate"),
                           columns));
    return out;
  }
  int fd = object.map_fd("agg_groups");
  sluice_agg_key key{}, next{};
  const sluice_agg_key* previous = nullptr;
  while (bpf_map_get_next_key(fd, previous, &next) == 0) {
    if (next.len > SLUICE_AGG_KEY_MAX) throw Error("internal: a kernel group key of " + std::to_string(next.len) + " bytes");
    out.merge(std::string_view(reinterpret_cast<const char*>(next.bytes), next.len),
              to_group(partials_of(fd, &next, "the kernel's group aggregates"), columns));
    key = next;
    previous = &key;
  }
  if (errno != ENOENT) throw system_error("listing the kernel's groups", errno);
  return out;
}

sluice_agg_stats read_kernel_aggregate_stats(const LoadedFilterObject& object) {
  std::optional<sluice_agg_stats> total = bpf::sum_per_cpu_counters<sluice_agg_stats>(object.map_fd("agg_stats"));
  if (!total) throw system_error("reading the kernel's aggregate counters", errno);
  return *total;
}

}  // namespace sluice
