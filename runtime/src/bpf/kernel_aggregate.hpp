// The sk_msg host's in-kernel aggregates (kernel-bpf/aggregate.bpf.h) seen from user space:
// the configuration written into its .rodata, and the partials and counters read back.
#pragma once

#include <sluice/aggregate.hpp>
#include <sluice/bpf_program.hpp>

#include "aggregate.h"

#include <cstdint>
#include <optional>

namespace sluice {

// The host setting that turns the kernel's aggregation on for `spec`, or nullopt when the
// kernel cannot compute it (more value columns than SLUICE_AGG_COLUMNS_MAX, a field number
// past 65535, fields of records not framed as lines: the kernel cuts fields on the raw
// delimiter, so CSV quoting and binary fields are cut in user space; a count needs no field
// and works for every framing): user space then aggregates everything.
std::optional<HostSetting> kernel_aggregate_setting(const AggregateSpec& spec, Framing framing);

// The partials of a loaded host (summed over CPUs), values back to exact decimals.
Aggregator read_kernel_aggregates(const LoadedFilterObject& object, const AggregateSpec& spec);
sluice_agg_stats read_kernel_aggregate_stats(const LoadedFilterObject& object);

// Kept records the kernel delivered instead of aggregating them (not exact, overflowing,
// a key too long, its map full): user space aggregates those.
inline std::uint64_t fallbacks(const sluice_agg_stats& a) { return a.inexact + a.overflow + a.long_key + a.map_full; }

}  // namespace sluice
