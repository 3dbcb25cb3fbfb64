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

/* Non-zero iff some byte of x is zero (per word: OR these, then AND SLUICE_HIGHS once). */
#define SLUICE_ZERO_HINT(x) (((x) - SLUICE_ONES) & ~(x))

/* 64 bytes at `pos`, one masked base pointer and constant offsets (in bounds: the scratch
 * window has SLUICE_MAX_READ bytes past the mask). */
#define SLUICE_BLOCK_PTR(w, pos) ((const sluice_u64 *)&(w)->b[(pos) & SLUICE_ACCESS_MASK])

/* Position of the first byte equal to pat's byte in the 64-byte block at base, which is
 * known to hold one. */
static __always_inline sluice_u32 sluice_block_first(const sluice_u64 *base, sluice_u64 pat)
{
	sluice_u32 k;

	for (k = 0; k < 7; k++) {
		sluice_u64 m = sluice_zero_bytes(base[k] ^ pat);

		if (m)
			return 8 * k + sluice_lowest_byte(m);
	}
	return 56 + sluice_lowest_byte(sluice_zero_bytes(base[7] ^ pat));
}

/* First position in [from, end) holding byte c, or SLUICE_NOT_FOUND. SWAR, 64 bytes a step. */
SLUICE_PRIMITIVE sluice_u32 sluice_find_byte(sluice_buf_t w, sluice_u32 from, sluice_u32 end,
					     sluice_u32 c)
{
	sluice_u64 pat = SLUICE_ONES * (c & 0xff);
	int i, nblocks;

	if (!w || from >= end || end - from > SLUICE_WINDOW_SIZE)
		return SLUICE_NOT_FOUND;
	{
		/* The first block without an iterator: searches within a record (the next
		 * delimiter, the end of a ~100-byte record) mostly end here. */
		const sluice_u64 *q = SLUICE_BLOCK_PTR(w, from);
		sluice_u64 x0 = q[0] ^ pat, x1 = q[1] ^ pat, x2 = q[2] ^ pat, x3 = q[3] ^ pat;
		sluice_u64 x4 = q[4] ^ pat, x5 = q[5] ^ pat, x6 = q[6] ^ pat, x7 = q[7] ^ pat;

		if ((SLUICE_ZERO_HINT(x0) | SLUICE_ZERO_HINT(x1) | SLUICE_ZERO_HINT(x2) |
		     SLUICE_ZERO_HINT(x3) | SLUICE_ZERO_HINT(x4) | SLUICE_ZERO_HINT(x5) |
		     SLUICE_ZERO_HINT(x6) | SLUICE_ZERO_HINT(x7)) & SLUICE_HIGHS) {
			sluice_u32 hit = from + sluice_block_first(q, pat);

			return hit < end ? hit : SLUICE_NOT_FOUND;
		}
		if (end - from <= 64)
			return SLUICE_NOT_FOUND;
	}
	nblocks = (int)((end - from + 63) / 64);
	sluice_for(i, 1, nblocks) {
		sluice_u32 pos = from + (sluice_u32)i * 64, hit;
		const sluice_u64 *q = SLUICE_BLOCK_PTR(w, pos);
		sluice_u64 x0 = q[0] ^ pat, x1 = q[1] ^ pat, x2 = q[2] ^ pat, x3 = q[3] ^ pat;
		sluice_u64 x4 = q[4] ^ pat, x5 = q[5] ^ pat, x6 = q[6] ^ pat, x7 = q[7] ^ pat;

		if (!((SLUICE_ZERO_HINT(x0) | SLUICE_ZERO_HINT(x1) | SLUICE_ZERO_HINT(x2) |
		       SLUICE_ZERO_HINT(x3) | SLUICE_ZERO_HINT(x4) | SLUICE_ZERO_HINT(x5) |
		       SLUICE_ZERO_HINT(x6) | SLUICE_ZERO_HINT(x7)) & SLUICE_HIGHS))
			continue;
		hit = pos + sluice_block_first(q, pat);
		return hit < end ? hit : SLUICE_NOT_FOUND;
	}
	return SLUICE_NOT_FOUND;
}

/* High bit set in exactly the bytes of x that are zero (no false positives, so the highest
 * flagged byte is a real one: what a backward search needs). */
static __always_inline sluice_u64 sluice_zero_bytes_exact(sluice_u64 x)
{
	sluice_u64 low7 = 0x7f7f7f7f7f7f7f7full;

	return ~(((x & low7) + low7) | x | low7);
}

/* Index (0..7) of the highest byte whose high bit is set in a non-zero mask. */
static __always_inline sluice_u32 sluice_highest_byte(sluice_u64 m)
{
	sluice_u32 idx = 7;

	if (!(m & 0xffffffff00000000ull)) { m <<= 32; idx -= 4; }
	if (!(m & 0xffff000000000000ull)) { m <<= 16; idx -= 2; }
	if (!(m & 0xff00000000000000ull)) idx -= 1;
	return idx;
}

/* Last position in [from, end) holding c, for a range shorter than 32 bytes. */
SLUICE_PRIMITIVE sluice_u32 sluice_rfind_byte_short(sluice_buf_t w, sluice_u32 from, sluice_u32 end,
						    sluice_u32 c)
{
	sluice_u32 k;

	if (!w)
		return SLUICE_NOT_FOUND;
	for (k = 1; k <= 32; k++) {
		if (end < from + k)
			break;
		if (SLUICE_BYTE(w, end - k) == (c & 0xff))
			return end - k;
	}
	return SLUICE_NOT_FOUND;
}

/* Last position in [from, end) holding byte c, or SLUICE_NOT_FOUND. SWAR, 32 bytes a step
 * backwards from end; the last (lowest) partial block byte by byte. */
SLUICE_PRIMITIVE sluice_u32 sluice_rfind_byte(sluice_buf_t w, sluice_u32 from, sluice_u32 end,
					      sluice_u32 c)
{
	sluice_u64 pat = SLUICE_ONES * (c & 0xff);
	int i, nfull;

	if (!w || from >= end || end - from > SLUICE_WINDOW_SIZE)
		return SLUICE_NOT_FOUND;
	nfull = (int)((end - from) / 32);
	sluice_for(i, 0, nfull) {
		sluice_u32 pos = end - (sluice_u32)(i + 1) * 32;  /* block [pos, pos + 32) */
		sluice_u64 m3 = sluice_zero_bytes_exact(SLUICE_WORD(w, pos + 24) ^ pat);
		sluice_u64 m2 = sluice_zero_bytes_exact(SLUICE_WORD(w, pos + 16) ^ pat);
		sluice_u64 m1 = sluice_zero_bytes_exact(SLUICE_WORD(w, pos + 8) ^ pat);
		sluice_u64 m0 = sluice_zero_bytes_exact(SLUICE_WORD(w, pos) ^ pat);

		if (m3)
			return pos + 24 + sluice_highest_byte(m3);
		if (m2)
			return pos + 16 + sluice_highest_byte(m2);
		if (m1)
			return pos + 8 + sluice_highest_byte(m1);
		if (m0)
			return pos + sluice_highest_byte(m0);
	}
	return sluice_rfind_byte_short(w, from, end - (sluice_u32)nfull * 32, c);
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

/* One 64-byte block of candidate starts [pos, pos + 64): the first verified match at or
 * before `last`, or SLUICE_NOT_FOUND. A candidate has the needle's probe bytes in place
 * (both cases of the first probe byte with icase, where the second probe is not used). */
SLUICE_PRIMITIVE sluice_u32 sluice_needle_block(sluice_buf_t w, sluice_u32 pos, sluice_u32 last,
						const struct sluice_needle *n, sluice_u32 icase)
{
	sluice_u32 p0, p1, c0, c0b, c1, k, j;
	sluice_u64 pa, pb, pc;
	const sluice_u64 *q0, *q1;

	if (!w || !n)
		return SLUICE_NOT_FOUND;
	p0 = n->probe[0] & (SLUICE_NEEDLE_MAX - 1);
	p1 = n->probe[1] & (SLUICE_NEEDLE_MAX - 1);
	c0 = n->bytes[p0];
	c0b = (icase && c0 >= 'a' && c0 <= 'z') ? c0 - 32 : c0;
	c1 = n->bytes[p1];
	pa = SLUICE_ONES * c0;
	pb = SLUICE_ONES * c0b;
	pc = SLUICE_ONES * c1;
	q0 = SLUICE_BLOCK_PTR(w, pos + p0);
	q1 = SLUICE_BLOCK_PTR(w, pos + p1);
	for (k = 0; k < 8; k++) {
		sluice_u64 m = sluice_zero_bytes(q0[k] ^ pa);

		if (icase)
			m |= sluice_zero_bytes(q0[k] ^ pb);
		else
			m &= sluice_zero_bytes(q1[k] ^ pc);
		for (j = 0; j < 8 && m; j++) {
			sluice_u32 cand = pos + 8 * k + sluice_lowest_byte(m);

			if (cand > last)
				return SLUICE_NOT_FOUND;
			if (sluice_needle_at(w, cand, n, icase))
				return cand;
			m &= m - 1; /* masks hold one bit per byte: on to the next candidate */
		}
	}
	return SLUICE_NOT_FOUND;
}

/* First position in [from, end) where the whole needle occurs, or SLUICE_NOT_FOUND.
 * With icase, record bytes are ASCII-lowercased and the needle must be stored lowercased.
 * The fast loop tests 64 candidate starts a step for the probe bytes (two of them without
 * icase: a "packed pair", so common bytes rarely stop it). */
SLUICE_PRIMITIVE sluice_u32 sluice_find_needle(sluice_buf_t w, sluice_u32 from, sluice_u32 end,
					       const struct sluice_needle *n, sluice_u32 icase)
{
	sluice_u32 nl, last, p0, p1, c0, c0b, c1;
	sluice_u64 pa, pb, pc;
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
	p0 = n->probe[0] & (SLUICE_NEEDLE_MAX - 1);
	p1 = n->probe[1] & (SLUICE_NEEDLE_MAX - 1);
	c0 = n->bytes[p0];
	c0b = (icase && c0 >= 'a' && c0 <= 'z') ? c0 - 32 : c0;
	c1 = n->bytes[p1];
	pa = SLUICE_ONES * c0;
	pb = SLUICE_ONES * c0b;
	pc = SLUICE_ONES * c1;
	nblocks = (int)((last - from) / 64 + 1);
	sluice_for(i, 0, nblocks) {
		sluice_u32 pos = from + (sluice_u32)i * 64, hit;
		const sluice_u64 *q0 = SLUICE_BLOCK_PTR(w, pos + p0);
		const sluice_u64 *q1 = SLUICE_BLOCK_PTR(w, pos + p1);
		sluice_u64 t = 0;
		sluice_u32 k;

		/* (x - 1) & ~x per word, OR-ed over the block: a byte position survives where the
		 * probe byte matches (either case with icase; and the second probe too when the
		 * configurator chose a pair because no needle byte is rare in the data) */
		if (icase) {
			for (k = 0; k < 8; k++) {
				sluice_u64 a = q0[k] ^ pa, b = q0[k] ^ pb;

				t |= SLUICE_ZERO_HINT(a) | SLUICE_ZERO_HINT(b);
			}
		} else if (p0 == p1) {
			for (k = 0; k < 8; k++) {
				sluice_u64 a = q0[k] ^ pa;

				t |= SLUICE_ZERO_HINT(a);
			}
		} else {
			for (k = 0; k < 8; k++) {
				sluice_u64 a = q0[k] ^ pa, c = q1[k] ^ pc;

				t |= SLUICE_ZERO_HINT(a) & SLUICE_ZERO_HINT(c);
			}
		}
		if (!(t & SLUICE_HIGHS))
			continue;
		hit = sluice_needle_block(w, pos, last, n, icase);
		if (hit != SLUICE_NOT_FOUND)
			return hit;
		if (pos + 64 > last)
			break;
	}
	return SLUICE_NOT_FOUND;
}

#define SLUICE_FIELD_UNDECIDED (~0ull - 1)
#define SLUICE_BEYOND_BLOCK 0xfffffffeu

/* Index (0..7) of the r-th (1-based) flagged byte of a mask that has at least r. */
SLUICE_PRIMITIVE sluice_u32 sluice_rth_byte(sluice_u64 m, sluice_u32 r)
{
	sluice_u32 j;

	for (j = 0; j < 8; j++) {
		if (r <= 1)
			break;
		m &= m - 1;
		r--;
	}
	return m ? sluice_lowest_byte(m) : 0;
}

/* Position of the t-th (1-based) byte c of the record [off, end) if it lies within the
 * record's first 64 bytes; SLUICE_NOT_FOUND if the record ends before a t-th one;
 * SLUICE_BEYOND_BLOCK if the answer lies further on. Counts with exact masks and a
 * multiply, so the verifier walks eight straight iterations. */
SLUICE_PRIMITIVE sluice_u32 sluice_nth_in_block(sluice_buf_t w, sluice_u32 off, sluice_u32 end, sluice_u32 c,
						sluice_u32 t)
{
	sluice_u64 pat = SLUICE_ONES * (c & 0xff);
	const sluice_u64 *q;
	sluice_u32 k, seen = 0;

	if (!w || off > end || t == 0)
		return SLUICE_NOT_FOUND;
	q = SLUICE_BLOCK_PTR(w, off);
	for (k = 0; k < 8; k++) {
		sluice_u32 left, count;
		sluice_u64 m;

		if (off + 8 * k >= end)
			return SLUICE_NOT_FOUND;
		left = end - (off + 8 * k);
		m = sluice_zero_bytes_exact(q[k] ^ pat);
		if (left < 8)
			m &= (1ull << (8 * left)) - 1; /* bytes past the record do not count */
		count = (sluice_u32)((((m >> 7) * SLUICE_ONES) >> 56) & 0xff);
		if (seen + count >= t)
			return off + 8 * k + sluice_rth_byte(m, t - seen);
		seen += count;
	}
	return off + 64 >= end ? SLUICE_NOT_FOUND : SLUICE_BEYOND_BLOCK;
}

/* sluice_field() for fields that end within the record's first 64 bytes: one block load
 * instead of a search per delimiter. SLUICE_FIELD_UNDECIDED when it ends further on. */
SLUICE_PRIMITIVE sluice_u64 sluice_field_first_block(sluice_buf_t w, sluice_u32 off, sluice_u32 end,
						     sluice_u32 delim, sluice_u32 n)
{
	sluice_u32 start = off, stop;

	if (!w || n == 0 || off > end)
		return SLUICE_NO_FIELD;
	if (n > 1) {
		sluice_u32 d = sluice_nth_in_block(w, off, end, delim, n - 1);

		if (d == SLUICE_NOT_FOUND)
			return SLUICE_NO_FIELD;
		if (d == SLUICE_BEYOND_BLOCK)
			return SLUICE_FIELD_UNDECIDED;
		start = d + 1;
	}
	stop = sluice_nth_in_block(w, off, end, delim, n);
	if (stop == SLUICE_BEYOND_BLOCK)
		return SLUICE_FIELD_UNDECIDED;
	if (stop == SLUICE_NOT_FOUND)
		stop = end;
	return ((sluice_u64)start << 32) | stop;
}

/* Bounds of field n (1-based) of the record [off, end) split by delim, packed as
 * (start << 32 | end), or SLUICE_NO_FIELD. */
SLUICE_PRIMITIVE sluice_u64 sluice_field(sluice_buf_t w, sluice_u32 off, sluice_u32 end,
					 sluice_u32 delim, sluice_u32 n)
{
	sluice_u32 start = off, stop;
	sluice_u64 quick;
	int i;

	if (!w || n == 0 || off > end)
		return SLUICE_NO_FIELD;
	quick = sluice_field_first_block(w, off, end, delim, n);
	if (quick != SLUICE_FIELD_UNDECIDED)
		return quick;
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

/* Number of bytes equal to c in [from, end): SWAR, 64 bytes a step, one match bit per byte
 * lane summed in a register, folded with one multiply per block. */
SLUICE_PRIMITIVE sluice_u32 sluice_count_byte(sluice_buf_t w, sluice_u32 from, sluice_u32 end, sluice_u32 c)
{
	sluice_u64 pat = SLUICE_ONES * (c & 0xff), total = 0;
	sluice_u32 j, full;
	int i;

	if (!w || from >= end || end - from > SLUICE_WINDOW_SIZE)
		return 0;
	full = (end - from) / 64;
	sluice_for(i, 0, (int)full) {
		const sluice_u64 *q = SLUICE_BLOCK_PTR(w, from + (sluice_u32)i * 64);
		sluice_u64 lanes = 0;
		sluice_u32 k;

		for (k = 0; k < 8; k++)
			lanes += sluice_zero_bytes_exact(q[k] ^ pat) >> 7; /* 0 or 1 per byte lane */
		total += (lanes * SLUICE_ONES) >> 56; /* lanes hold at most 8: the sum fits a byte */
	}
	for (j = 0; j < 64; j++) {
		sluice_u32 pos = from + full * 64 + j;

		if (pos >= end)
			break;
		total += SLUICE_BYTE(w, pos) == (c & 0xff);
	}
	return (sluice_u32)total;
}


/* Bounds of field n (1-based) of the CSV record [off, end) (RFC 4180), packed as
 * (start << 32 | end) and quotes included, or SLUICE_NO_FIELD. A delimiter separates
 * fields only outside double quotes: each '"' toggles, so the quotes between a field's start
 * and a delimiter are counted (SWAR) to tell. */
SLUICE_PRIMITIVE sluice_u64 sluice_csv_field(sluice_buf_t w, sluice_u32 off, sluice_u32 end,
					     sluice_u32 delim, sluice_u32 n)
{
	sluice_u32 start = off, pos = off, field = 1, quotes = 0;
	int i;

	if (!w || n == 0 || off > end || end - off > SLUICE_WINDOW_SIZE)
		return SLUICE_NO_FIELD;
	sluice_for(i, 0, (int)SLUICE_WINDOW_SIZE) {
		sluice_u32 d = sluice_find_byte(w, pos, end, delim);
		sluice_u32 stop = d == SLUICE_NOT_FOUND ? end : d;

		quotes += sluice_count_byte(w, pos, stop, '"');
		if ((quotes & 1) && d != SLUICE_NOT_FOUND) {
			pos = d + 1; /* a delimiter inside quotes */
			continue;
		}
		if (field == n)
			return ((sluice_u64)start << 32) | stop;
		if (d == SLUICE_NOT_FOUND)
			return SLUICE_NO_FIELD;
		field++;
		quotes = 0;
		start = pos = d + 1;
	}
	return SLUICE_NO_FIELD;
}

#endif /* SLUICE_BPF_PRIMITIVES_H */
