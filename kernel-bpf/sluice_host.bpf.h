/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every BPF host program shares: the per-CPU scratch window the filter reads
 * records from, and window-level helpers (compaction) that run in map memory.
 * Include after vmlinux.h, bpf_helpers.h and <sluice/filter.h>.
 */
#ifndef SLUICE_HOST_BPF_H
#define SLUICE_HOST_BPF_H

/* One scratch window per CPU. A per-CPU map value cannot exceed 32 KiB, so this is an
 * array indexed by CPU; the loader sets max_entries to the number of possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_window);
} scratch SEC(".maps");

static __always_inline struct sluice_window *sluice_scratch(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&scratch, &cpu);
}

/* memmove(w + dst, w + src, len) for dst <= src (compaction towards the front). Whole
 * words first (safe for dst < src: each word is read before it is overwritten), then the
 * tail byte by byte so nothing past dst + len is written. */
__attribute__((noinline)) int sluice_move_down(struct sluice_window *w, __u32 dst, __u32 src, __u32 len)
{
	__u32 words, j;
	int i;

	if (!w || dst >= src || len > SLUICE_WINDOW_SIZE)
		return 0;
	words = len / 8;
	sluice_for(i, 0, (int)words) {
		__u32 o = (__u32)i * 8;

		*(__u64 *)&w->b[(dst + o) & SLUICE_ACCESS_MASK] = *(__u64 *)&w->b[(src + o) & SLUICE_ACCESS_MASK];
	}
	for (j = 0; j < 8; j++) {
		__u32 o = words * 8 + j;

		if (o >= len)
			break;
		w->b[(dst + o) & SLUICE_ACCESS_MASK] = w->b[(src + o) & SLUICE_ACCESS_MASK];
	}
	return 0;
}


/*
 * SLUICE_DEFINE_JUDGE_RECORDS(name, state_type, keep): defines the global function
 * `int name(struct sluice_window *w, state_type *st)` that judges the records in
 * [st->pos, st->end), each ending with '\n', with the filter built into the host and calls
 * keep(w, st, start, stop_after_newline) for each kept one. Required-literal-first when the
 * filter declares a literal: scan for it, then find the record around each hit. The state
 * lives in map memory (st->pos), so the iterator loops converge. Expand it after the filter
 * source is included: it uses sluice_params and sluice_filter_run.
 */
#define SLUICE_DEFINE_JUDGE_RECORDS(name, state_type, keep)                                      \
	__attribute__((noinline)) int name(struct sluice_window *w, state_type *st)               \
	{                                                                                         \
		int k;                                                                            \
                                                                                                  \
		if (!w || !st)                                                                    \
			return 0;                                                                 \
		if (sluice_params.hdr.required_literal.len > 0) {                                 \
			SLUICE_PARAM_PTR(struct sluice_needle, literal,                           \
					 sluice_params.hdr.required_literal);                     \
                                                                                                  \
			sluice_for(k, 0, (int)SLUICE_WINDOW_SIZE) {                               \
				__u32 pos = st->pos, end = st->end, hit, start, stop;             \
                                                                                                  \
				if (pos >= end)                                                   \
					break;                                                    \
				hit = sluice_find_needle(w, pos, end, literal, 0);                \
				if (hit == SLUICE_NOT_FOUND)                                      \
					break;                                                    \
				start = sluice_rfind_byte(w, pos, hit, '\n');                     \
				start = start == SLUICE_NOT_FOUND ? pos : start + 1;              \
				stop = sluice_find_byte(w, hit, end, '\n');                       \
				if (stop == SLUICE_NOT_FOUND)                                     \
					break; /* cannot happen: end follows a newline */         \
				st->judged++;                                                     \
				if (sluice_params.hdr.literal_exact ||                            \
				    sluice_filter_run(w, start, stop - start))                    \
					keep(w, st, start, stop + 1);                             \
				st->pos = stop + 1;                                               \
			}                                                                         \
		} else {                                                                          \
			sluice_for(k, 0, (int)SLUICE_WINDOW_SIZE) {                               \
				__u32 pos = st->pos, end = st->end, stop;                         \
                                                                                                  \
				if (pos >= end)                                                   \
					break;                                                    \
				stop = sluice_find_byte(w, pos, end, '\n');                       \
				if (stop == SLUICE_NOT_FOUND)                                     \
					break;                                                    \
				st->judged++;                                                     \
				if (sluice_filter_run(w, pos, stop - pos))                        \
					keep(w, st, pos, stop + 1);                               \
				st->pos = stop + 1;                                               \
			}                                                                         \
		}                                                                                 \
		return 0;                                                                         \
	}

#endif /* SLUICE_HOST_BPF_H */
