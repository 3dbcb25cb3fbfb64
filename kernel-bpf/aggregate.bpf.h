/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * In-kernel aggregates for a record-judging host (sk_msg_filter): each kept record of
 * delimited text is either aggregated here, into per-CPU partials (count, and per value
 * column: numbers, sum, min, max as scaled 64-bit integers), and then NOT delivered, or
 * delivered to user space unchanged when the kernel cannot aggregate it exactly (a value
 * with more than SLUICE_AGG_SCALE fraction digits or too large, a sum that would overflow,
 * a group key that is too long, a full group map). User space aggregates what it receives
 * and merges these partials (runtime/src/bpf/kernel_aggregate.cpp), so the result is the
 * user-space result exactly. Include after the filter source and sluice_host.bpf.h.
 */
#ifndef SLUICE_AGGREGATE_BPF_H
#define SLUICE_AGGREGATE_BPF_H

#include "aggregate.h"

const volatile struct sluice_agg_config sluice_aggregate = {};

/* The partial of a scan without --group-by. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_agg_partial);
} agg_total SEC(".maps");

/* The partials of a scan with --group-by, by the group field's bytes. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SLUICE_AGG_GROUPS_MAX);
	__type(key, struct sluice_agg_key);
	__type(value, struct sluice_agg_partial);
} agg_groups SEC(".maps");

/* Map memory for what one record's aggregation builds (the stack is too small for it). */
struct sluice_agg_scratch {
	struct sluice_agg_key key;
	struct sluice_agg_partial empty;
	__s64 values[SLUICE_AGG_COLUMNS_MAX];
	__u32 present[SLUICE_AGG_COLUMNS_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_agg_scratch);
} agg_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_agg_stats);
} agg_stats SEC(".maps");

/* What sluice_agg_scaled() found in a field. */
#define SLUICE_AGG_NUMBER 0
#define SLUICE_AGG_NOT_A_NUMBER 1 /* counted, not summed (as in user space) */
#define SLUICE_AGG_INEXACT 2      /* a number the kernel cannot hold exactly */

/* Field n (0: the whole record) of [start, end) as (start << 32 | end), or SLUICE_NO_FIELD. */
static __always_inline __u64 sluice_agg_field(const struct sluice_window *w, __u32 start, __u32 end, __u32 n)
{
	if (n == 0)
		return ((__u64)start << 32) | end;
	return sluice_field(w, start, end, sluice_aggregate.delimiter, n);
}

/* Field [start, end) as value * 10^SLUICE_AGG_SCALE, by the numeric rules of compare.h. */
__attribute__((noinline)) int sluice_agg_scaled(const struct sluice_window *w, __u32 start, __u32 end, __s64 *out)
{
	struct sluice_number_span s;
	__u64 int_part, frac_part, magnitude;
	__u32 frac_digits, i;

	if (!w || !out)
		return SLUICE_AGG_INEXACT;
	if (sluice_parse_number(w, start, end, &s) != 0)
		return SLUICE_AGG_NOT_A_NUMBER;
	frac_digits = s.frac_end - s.frac_start;
	if (frac_digits > SLUICE_AGG_SCALE)
		return SLUICE_AGG_INEXACT;
	int_part = sluice_digits_value(w, s.int_start, s.int_end, SLUICE_AGG_INT_PART_MAX);
	if (int_part == ~0ull)
		return SLUICE_AGG_INEXACT;
	frac_part = sluice_digits_value(w, s.frac_start, s.frac_end, SLUICE_AGG_SCALE_FACTOR - 1);
	for (i = 0; i < SLUICE_AGG_SCALE; i++)
		if (i >= frac_digits)
			frac_part *= 10;
	magnitude = int_part * SLUICE_AGG_SCALE_FACTOR + frac_part;
	if (magnitude > 0x7fffffffffffffffull)
		return SLUICE_AGG_INEXACT;
	*out = s.negative ? -(__s64)magnitude : (__s64)magnitude;
	return SLUICE_AGG_NUMBER;
}

/* key = bytes [start, start + len) of the window, zero-padded; len <= SLUICE_AGG_KEY_MAX. */
__attribute__((noinline)) int sluice_agg_copy_key(const struct sluice_window *w, __u32 start, __u32 len,
						  struct sluice_agg_key *key)
{
	__u32 i;

	if (!w || !key)
		return 0;
	key->len = len;
	for (i = 0; i < SLUICE_AGG_KEY_MAX; i++)
		key->bytes[i] = i < len ? SLUICE_BYTE(w, start + i) : 0;
	return 0;
}

/* The partial the record [start, end) belongs to, created if new; NULL: deliver the record. */
static __always_inline struct sluice_agg_partial *sluice_agg_partial_of(const struct sluice_window *w, __u32 start,
									__u32 end, struct sluice_agg_scratch *sc,
									struct sluice_agg_stats *stats)
{
	struct sluice_agg_partial *p;
	__u32 zero = 0, key_start = 0, key_len = 0;
	__u64 bounds;

	if (!sluice_aggregate.grouped)
		return bpf_map_lookup_elem(&agg_total, &zero);
	bounds = sluice_agg_field(w, start, end, sluice_aggregate.group_field);
	if (bounds != SLUICE_NO_FIELD) { /* a missing field groups with the empty one, as in user space */
		key_start = (__u32)(bounds >> 32);
		key_len = (__u32)bounds - key_start;
	}
	if (key_len > SLUICE_AGG_KEY_MAX) {
		stats->long_key++;
		return NULL;
	}
	sluice_agg_copy_key(w, key_start, key_len, &sc->key);
	p = bpf_map_lookup_elem(&agg_groups, &sc->key);
	if (p)
		return p;
	__builtin_memset(&sc->empty, 0, sizeof(sc->empty));
	if (bpf_map_update_elem(&agg_groups, &sc->key, &sc->empty, BPF_NOEXIST) != 0) {
		stats->map_full++;
		return NULL;
	}
	return bpf_map_lookup_elem(&agg_groups, &sc->key);
}

/* Aggregates the kept record [start, end) (no '\n'): 1 if it was aggregated here (the host
 * then drops it), 0 if the host must deliver it to user space. Nothing changes on 0. */
__attribute__((noinline)) int sluice_aggregate_record(const struct sluice_window *w, __u32 start, __u32 end)
{
	__u32 zero = 0, i;
	struct sluice_agg_scratch *sc = bpf_map_lookup_elem(&agg_scratch, &zero);
	struct sluice_agg_stats *stats = bpf_map_lookup_elem(&agg_stats, &zero);
	struct sluice_agg_partial *p;

	if (!w || !sc || !stats || end < start)
		return 0;
	for (i = 0; i < SLUICE_AGG_COLUMNS_MAX; i++) {
		__u64 bounds;
		int found;

		sc->present[i] = 0;
		if (i >= sluice_aggregate.columns)
			continue;
		bounds = sluice_agg_field(w, start, end, sluice_aggregate.fields[i]);
		if (bounds == SLUICE_NO_FIELD)
			continue;
		found = sluice_agg_scaled(w, (__u32)(bounds >> 32), (__u32)bounds, &sc->values[i]);
		if (found == SLUICE_AGG_INEXACT) {
			stats->inexact++;
			return 0;
		}
		sc->present[i] = found == SLUICE_AGG_NUMBER;
	}
	p = sluice_agg_partial_of(w, start, end, sc, stats);
	if (!p)
		return 0;
	/* every sum first: a record is aggregated whole or not at all */
	for (i = 0; i < SLUICE_AGG_COLUMNS_MAX; i++) {
		__s64 v = sc->values[i], sum = p->cells[i].sum;

		if (!sc->present[i])
			continue;
		if ((v > 0 && sum > 0x7fffffffffffffffll - v) || (v < 0 && sum < (-0x7fffffffffffffffll - 1) - v)) {
			stats->overflow++;
			return 0;
		}
	}
	p->count++;
	for (i = 0; i < SLUICE_AGG_COLUMNS_MAX; i++) {
		struct sluice_agg_cell *c = &p->cells[i];
		__s64 v = sc->values[i];

		if (!sc->present[i])
			continue;
		if (c->numbers == 0 || v < c->min)
			c->min = v;
		if (c->numbers == 0 || v > c->max)
			c->max = v;
		c->sum += v;
		c->numbers++;
	}
	stats->aggregated++;
	return 1;
}

/* For the host's keep callback: was the kept record [start, stop_after_newline) absorbed
 * by the aggregates (so it must not be delivered)? */
static __always_inline int sluice_aggregated(const struct sluice_window *w, __u32 start, __u32 stop_after_newline)
{
	return sluice_aggregate.enabled && sluice_aggregate_record(w, start, stop_after_newline - 1);
}

#endif /* SLUICE_AGGREGATE_BPF_H */
