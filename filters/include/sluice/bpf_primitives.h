/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * BPF implementations of the filter primitives (see filter.h for the contract).
 * Included only when compiling with -target bpf; a host program includes vmlinux.h and
 * bpf_helpers.h before filter.h.
 *
 * Verifier notes (measured on 6.18, see the kernel field notes):
 *  - every record access goes through SLUICE_BYTE/SLUICE_WORD, which mask the index, so
 *    it is in bounds of the scratch window by construction;
 *  - long scans use open-coded numeric iterators with the position derived from the
 *    iterator value (nothing loop-carried becomes precise, so the loop converges);
 *  - inner loops live in global functions, verified once.
 */
#ifndef SLUICE_BPF_PRIMITIVES_H
#define SLUICE_BPF_PRIMITIVES_H

#define SLUICE_NOT_FOUND 0xffffffffu

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __weak __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __weak __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __weak __ksym;

/* for (i = start; i < end; i++) as an open-coded iterator: the verifier checks the body
 * once per distinct state instead of once per iteration. */
#define sluice_for(i, start, end)                                                            \
	for (struct bpf_iter_num sluice_it__                                                  \
		     __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))),              \
	     *sluice_init__ __attribute__((unused)) =                                         \
		     (bpf_iter_num_new(&sluice_it__, (start), (end)),                         \
		      (void)bpf_iter_num_destroy, (void *)0);                                 \
	     ({                                                                               \
		     int *sluice_cur__ = bpf_iter_num_next(&sluice_it__);                     \
		     sluice_cur__ && ((i) = *sluice_cur__, (i) >= (start) && (i) < (end));    \
	     });)

#define SLUICE_ONES 0x0101010101010101ull
#define SLUICE_HIGHS 0x8080808080808080ull

/* High bit set in every byte of x that is zero (the lowest set byte is exact; bytes above
 * a zero byte may be false positives, which callers re-check). */
static __always_inline sluice_u64 sluice_zero_bytes(sluice_u64 x)
{
	return (x - SLUICE_ONES) & ~x & SLUICE_HIGHS;
}

/* Index (0..7) of the lowest byte whose high bit is set in a non-zero mask. */
static __always_inline sluice_u32 sluice_lowest_byte(sluice_u64 m)
{
	sluice_u32 idx = 0;
	if (!(m & 0xffffffffull)) { m >>= 32; idx += 4; }
	if (!(m & 0xffffull)) { m >>= 16; idx += 2; }
	if (!(m & 0xffull)) idx += 1;
	return idx;
}

static __always_inline sluice_u32 sluice_ascii_lower(sluice_u32 c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* First position in [from, end) holding byte c, or SLUICE_NOT_FOUND. SWAR, 32 bytes a step. */
SLUICE_PRIMITIVE sluice_u32 sluice_find_byte(sluice_buf_t w, sluice_u32 from, sluice_u32 end,
					     sluice_u32 c)
{
	sluice_u64 pat = SLUICE_ONES * (c & 0xff);
	int i, nblocks;

	if (!w || from >= end || end - from > SLUICE_WINDOW_SIZE)
		return SLUICE_NOT_FOUND;
	nblocks = (int)((end - from + 31) / 32);
	sluice_for(i, 0, nblocks) {
		sluice_u32 pos = from + (sluice_u32)i * 32;
		sluice_u64 m0 = sluice_zero_bytes(SLUICE_WORD(w, pos) ^ pat);
		sluice_u64 m1 = sluice_zero_bytes(SLUICE_WORD(w, pos + 8) ^ pat);
		sluice_u64 m2 = sluice_zero_bytes(SLUICE_WORD(w, pos + 16) ^ pat);
		sluice_u64 m3 = sluice_zero_bytes(SLUICE_WORD(w, pos + 24) ^ pat);
		sluice_u32 hit;

		if (!(m0 | m1 | m2 | m3))
			continue;
		if (m0)
			hit = pos + sluice_lowest_byte(m0);
		else if (m1)
			hit = pos + 8 + sluice_lowest_byte(m1);
		else if (m2)
			hit = pos + 16 + sluice_lowest_byte(m2);
		else
			hit = pos + 24 + sluice_lowest_byte(m3);
		return hit < end ? hit : SLUICE_NOT_FOUND;
	}
	return SLUICE_NOT_FOUND;
}

/* Does the needle start at pos? (the caller guarantees it fits before the record end) */
SLUICE_PRIMITIVE int sluice_needle_at(sluice_buf_t w, sluice_u32 pos, const struct sluice_needle *n,
				      sluice_u32 icase)
{
	sluice_u32 nl, j;

	if (!w || !n)
		return 0;
	nl = n->len;
	for (j = 0; j < SLUICE_NEEDLE_MAX; j++) {
		sluice_u32 c;

		if (j >= nl)
			return 1;
		c = SLUICE_BYTE(w, pos + j);
		if (icase)
			c = sluice_ascii_lower(c);
		if (c != n->bytes[j])
			return 0;
	}
	return 1;
}

/* Candidates for the needle's first byte in one 8-byte word, each verified. */
static __always_inline sluice_u32 sluice_needle_word(sluice_buf_t w, sluice_u32 pos, sluice_u32 last,
						     const struct sluice_needle *n, sluice_u32 icase,
						     sluice_u64 pat_a, sluice_u64 pat_b)
{
	sluice_u64 word = SLUICE_WORD(w, pos);
	sluice_u64 m = sluice_zero_bytes(word ^ pat_a) | sluice_zero_bytes(word ^ pat_b);
	int k;

	for (k = 0; k < 8 && m; k++) {
		sluice_u32 cand = pos + sluice_lowest_byte(m);

		if (cand > last)
			return SLUICE_NOT_FOUND;
		if (sluice_needle_at(w, cand, n, icase))
			return cand;
		m &= m - 1; /* masks hold one bit per byte: this moves to the next candidate */
	}
	return SLUICE_NOT_FOUND;
}

/* One 32-byte block of the needle scan: first verified match at or before `last`. */
SLUICE_PRIMITIVE sluice_u32 sluice_needle_block(sluice_buf_t w, sluice_u32 pos, sluice_u32 last,
						const struct sluice_needle *n, sluice_u32 icase)
{
	sluice_u32 c0, c1, hit, k;
	sluice_u64 pat_a, pat_b;

	if (!w || !n)
		return SLUICE_NOT_FOUND;
	c0 = n->bytes[0];
	c1 = (icase && c0 >= 'a' && c0 <= 'z') ? c0 - 32 : c0;
	pat_a = SLUICE_ONES * c0;
	pat_b = SLUICE_ONES * c1;
	for (k = 0; k < 4; k++) {
		hit = sluice_needle_word(w, pos + 8 * k, last, n, icase, pat_a, pat_b);
		if (hit != SLUICE_NOT_FOUND)
			return hit;
		if (pos + 8 * k + 8 > last)
			break;
	}
	return SLUICE_NOT_FOUND;
}

/* First position in [from, end) where the whole needle occurs, or SLUICE_NOT_FOUND.
 * With icase, record bytes are ASCII-lowercased and the needle must be stored lowercased. */
SLUICE_PRIMITIVE sluice_u32 sluice_find_needle(sluice_buf_t w, sluice_u32 from, sluice_u32 end,
					       const struct sluice_needle *n, sluice_u32 icase)
{
	sluice_u32 nl, last;
	int i, nblocks;

	if (!w || !n || from > end || end - from > SLUICE_WINDOW_SIZE)
		return SLUICE_NOT_FOUND;
	nl = n->len;
	if (nl > SLUICE_NEEDLE_MAX)
		return SLUICE_NOT_FOUND;
	if (nl == 0)
		return from;
	if (end - from < nl)
		return SLUICE_NOT_FOUND;
	last = end - nl;
	nblocks = (int)((last - from) / 32 + 1);
	sluice_for(i, 0, nblocks) {
		sluice_u32 hit = sluice_needle_block(w, from + (sluice_u32)i * 32, last, n, icase);

		if (hit != SLUICE_NOT_FOUND)
			return hit;
	}
	return SLUICE_NOT_FOUND;
}

/* Bounds of field n (1-based) of the record [off, end) split by delim, packed as
 * (start << 32 | end), or SLUICE_NO_FIELD. */
SLUICE_PRIMITIVE sluice_u64 sluice_field(sluice_buf_t w, sluice_u32 off, sluice_u32 end,
					 sluice_u32 delim, sluice_u32 n)
{
	sluice_u32 start = off, stop;
	int i;

	if (!w || n == 0 || off > end)
		return SLUICE_NO_FIELD;
	sluice_for(i, 1, (int)n) {
		sluice_u32 d = sluice_find_byte(w, start, end, delim);

		if (d == SLUICE_NOT_FOUND)
			return SLUICE_NO_FIELD;
		start = d + 1;
	}
	stop = sluice_find_byte(w, start, end, delim);
	if (stop == SLUICE_NOT_FOUND)
		stop = end;
	return ((sluice_u64)start << 32) | stop;
}

#endif /* SLUICE_BPF_PRIMITIVES_H */
