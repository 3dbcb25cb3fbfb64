// Aggregates pushed down to `sluice serve` (placement server): what the client asks the
// server's kernel to aggregate, and the partial results the server sends back
// (docs/network.md, "Aggregates on the server").
//
// Request field `aggregate`: the delimiter (1 byte), the group field (u32 big-endian,
// 0xffffffff: no grouping), then each value field (u32 big-endian). Reply frames
// `partials` carry `group` fields, one per group: key length (u16) and key, the count
// (u64), then per value column: numbers (u64), sum, flags (bit 0: min, bit 1: max), then
// min and max when present; a decimal is its units (i128, two u64: high then low) and its
// scale (u32); everything big-endian.
#pragma once

#include <sluice/aggregate.hpp>

#include "net/protocol.hpp"

#include <optional>
#include <vector>

namespace sluice::net {

void encode_aggregate_spec(Message& request, const AggregateSpec& spec);
// nullopt when the request asks for none; ProtocolError(bad_parameter) for a malformed one.
std::optional<AggregateSpec> decode_aggregate_spec(const Message& request);

// The groups of `partials` in frames that fit the frame limit (none for no groups).
std::vector<Message> encode_partials(const Aggregator& partials);
// Merges the groups of one `partials` frame into `into`; ProtocolError(bad_request) when a
// group is malformed or has another number of columns.
void merge_partials(const Message& frame, Aggregator& into);

}  // namespace sluice::net
