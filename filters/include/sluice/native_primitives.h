/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Native implementations of the filter primitives (see filter.h for the contract).
 * They use libc's vectorised memchr/memmem; records may be of any length up to 4 GiB.
 */
#ifndef SLUICE_NATIVE_PRIMITIVES_H
#define SLUICE_NATIVE_PRIMITIVES_H

#include <string.h>

#define SLUICE_NOT_FOUND 0xffffffffu

/* for (i = start; i < end; i++): the BPF build's open-coded iterator, so code shared by both
 * builds (json.h) writes one loop. */
#define sluice_for(i, start, end) for ((i) = (start); (i) < (end); (i)++)

static inline sluice_u32 sluice_ascii_lower(sluice_u32 c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

SLUICE_PRIMITIVE sluice_u32 sluice_find_byte(sluice_buf_t w, sluice_u32 from, sluice_u32 end,
					     sluice_u32 c)
{
	const sluice_u8 *hit;

	if (from >= end)
		return SLUICE_NOT_FOUND;
	hit = (const sluice_u8 *)memchr(w + from, (int)(c & 0xff), end - from);
	return hit ? (sluice_u32)(hit - w) : SLUICE_NOT_FOUND;
}

SLUICE_PRIMITIVE sluice_u32 sluice_rfind_byte(sluice_buf_t w, sluice_u32 from, sluice_u32 end,
					      sluice_u32 c)
{
	const sluice_u8 *hit;

	if (from >= end)
		return SLUICE_NOT_FOUND;
	hit = (const sluice_u8 *)memrchr(w + from, (int)(c & 0xff), end - from);
	return hit ? (sluice_u32)(hit - w) : SLUICE_NOT_FOUND;
}

SLUICE_PRIMITIVE int sluice_needle_at(sluice_buf_t w, sluice_u32 pos, const struct sluice_needle *n,
				      sluice_u32 icase)
{
	sluice_u32 j;

	if (!icase)
		return memcmp(w + pos, n->bytes, n->len) == 0;
	for (j = 0; j < n->len; j++)
		if (sluice_ascii_lower(w[pos + j]) != n->bytes[j])
			return 0;
	return 1;
}

SLUICE_PRIMITIVE sluice_u32 sluice_find_needle(sluice_buf_t w, sluice_u32 from, sluice_u32 end,
					       const struct sluice_needle *n, sluice_u32 icase)
{
	sluice_u32 nl = n->len, pos;

	if (from > end || nl > SLUICE_NEEDLE_MAX)
		return SLUICE_NOT_FOUND;
	if (nl == 0)
		return from;
	if (end - from < nl)
		return SLUICE_NOT_FOUND;
	if (!icase) {
		const sluice_u8 *hit = (const sluice_u8 *)memmem(w + from, end - from, n->bytes, nl);
		return hit ? (sluice_u32)(hit - w) : SLUICE_NOT_FOUND;
	}
	/* Case-insensitive: memchr for whichever case of the first byte comes first. */
	{
		sluice_u32 c0 = n->bytes[0];
		sluice_u32 c1 = (c0 >= 'a' && c0 <= 'z') ? c0 - 32 : c0;
		sluice_u32 last = end - nl;

		for (pos = from; pos <= last;) {
			sluice_u32 a = sluice_find_byte(w, pos, last + 1, c0);
			sluice_u32 b = c1 == c0 ? SLUICE_NOT_FOUND : sluice_find_byte(w, pos, last + 1, c1);
			sluice_u32 cand = a < b ? a : b;

			if (cand == SLUICE_NOT_FOUND)
				return SLUICE_NOT_FOUND;
			if (sluice_needle_at(w, cand, n, 1))
				return cand;
			pos = cand + 1;
		}
	}
	return SLUICE_NOT_FOUND;
}

SLUICE_PRIMITIVE sluice_u64 sluice_field(sluice_buf_t w, sluice_u32 off, sluice_u32 end,
					 sluice_u32 delim, sluice_u32 n)
{
	sluice_u32 start = off, stop, i;

	if (n == 0 || off > end)
		return SLUICE_NO_FIELD;
	for (i = 1; i < n; i++) {
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


/* Number of bytes equal to c in [from, end). */
SLUICE_PRIMITIVE sluice_u32 sluice_count_byte(sluice_buf_t w, sluice_u32 from, sluice_u32 end, sluice_u32 c)
{
	sluice_u32 total = 0;
	const sluice_u8 *p = w + from, *stop = w + end;

	while (p < stop && (p = (const sluice_u8 *)memchr(p, (int)(c & 0xff), stop - p)) != 0) {
		total++;
		p++;
	}
	return total;
}

/* Bounds of field n (1-based) of the CSV record [off, end), quotes included (see the BPF
 * version): a delimiter separates fields only outside double quotes. */
SLUICE_PRIMITIVE sluice_u64 sluice_csv_field(sluice_buf_t w, sluice_u32 off, sluice_u32 end,
					     sluice_u32 delim, sluice_u32 n)
{
	sluice_u32 start = off, field = 1, i;
	int quoted = 0;

	if (n == 0 || off > end)
		return SLUICE_NO_FIELD;
	for (i = off; i < end; i++) {
		if (w[i] == '"') {
			quoted = !quoted;
		} else if (w[i] == (delim & 0xff) && !quoted) {
			if (field == n)
				return ((sluice_u64)start << 32) | i;
			field++;
			start = i + 1;
		}
	}
	return field == n ? ((sluice_u64)start << 32) | end : SLUICE_NO_FIELD;
}

#endif /* SLUICE_NATIVE_PRIMITIVES_H */
