/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * In-kernel aggregates of the sk_msg host (aggregate.bpf.h), shared with libsluice, which
 * configures them through .rodata (sluice_aggregate) and reads the partials back
 * (runtime/src/bpf/kernel_aggregate.cpp). docs/where.md, "Aggregates", states the rules.
 */
#ifndef SLUICE_AGGREGATE_H
#define SLUICE_AGGREGATE_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Value columns (--sum/--min/--max/--avg fields) one kernel partial holds. */
#define SLUICE_AGG_COLUMNS_MAX 4u
/* Longest group key (the --group-by field's bytes) the kernel map holds; a record with a
 * longer key is delivered to user space. */
#define SLUICE_AGG_KEY_MAX 64u
/* Groups the kernel map holds; a record of a further group is delivered to user space. */
#define SLUICE_AGG_GROUPS_MAX 4096u
/* Kernel values are scaled integers: value * 10^SLUICE_AGG_SCALE in a signed 64-bit
 * integer. A number with more fraction digits, or too large for it, is delivered to user
 * space (exact 128-bit arithmetic there). */
#define SLUICE_AGG_SCALE 6u
#define SLUICE_AGG_SCALE_FACTOR 1000000ull
/* Largest integer part whose scaled value can fit: floor((2^63 - 1) / 10^6). */
#define SLUICE_AGG_INT_PART_MAX 9223372036854ull

/* Written into .rodata before load; enabled = 0 leaves the host as it is. */
struct sluice_agg_config {
	__u32 enabled;
	__u32 delimiter;
	__u32 grouped;                        /* 1: one partial per group_field value */
	__u32 group_field;                    /* 1-based field number; 0: the whole record */
	__u32 columns;                        /* value fields, at most SLUICE_AGG_COLUMNS_MAX */
	__u32 fields[SLUICE_AGG_COLUMNS_MAX]; /* 1-based field numbers; 0: the whole record */
};

/* A group key: the field's bytes, zero-padded (len tells "a" from "a\0"). */
struct sluice_agg_key {
	__u32 len;
	__u8 bytes[SLUICE_AGG_KEY_MAX];
};

/* One column's partial over the records of one group (values scaled by 10^SLUICE_AGG_SCALE). */
struct sluice_agg_cell {
	__u64 numbers; /* records whose field was a number; min/max are valid when > 0 */
	__s64 sum;
	__s64 min;
	__s64 max;
};

struct sluice_agg_partial {
	__u64 count; /* records aggregated (numbers or not) */
	struct sluice_agg_cell cells[SLUICE_AGG_COLUMNS_MAX];
};

/* Counters, one set per CPU: what the kernel aggregated and why it delivered the rest. */
struct sluice_agg_stats {
	__u64 aggregated;      /* kept records aggregated here (never delivered) */
	__u64 inexact;         /* delivered: a value not representable as a 64-bit scaled integer */
	__u64 overflow;        /* delivered: the kernel's 64-bit sum would overflow */
	__u64 long_key;        /* delivered: group key longer than SLUICE_AGG_KEY_MAX */
	__u64 map_full;        /* delivered: a new group and the kernel map is full */
};

#endif
