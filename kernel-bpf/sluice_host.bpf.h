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

#endif /* SLUICE_HOST_BPF_H */
