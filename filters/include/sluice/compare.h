/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Field parsing and comparison, one source for BPF and native (plain C over SLUICE_BYTE,
 * loops bounded by SLUICE_NUMBER_MAX / SLUICE_NEEDLE_MAX).
 *
 * Numeric rules (docs/filters.md): a field is a number if it is, after optional leading
 * blanks (space, tab), an optional sign and digits with at most one '.', followed only by
 * blanks or CR. Integers must have no '.'. Anything else, or a field longer than
 * SLUICE_NUMBER_MAX bytes, is "not a number" and every comparison with it is false.
 * Decimals compare exactly (no binary floating point on either side).
 */
#ifndef SLUICE_COMPARE_H
#define SLUICE_COMPARE_H

enum sluice_cmp_op {
	SLUICE_OP_EQ = 0,
	SLUICE_OP_NE = 1,
	SLUICE_OP_LT = 2,
	SLUICE_OP_LE = 3,
	SLUICE_OP_GT = 4,
	SLUICE_OP_GE = 5,
};

enum sluice_value_type {
	SLUICE_TYPE_INT = 0,
	SLUICE_TYPE_DECIMAL = 1,
	SLUICE_TYPE_STRING = 2,
};

static inline int sluice_is_blank(sluice_u32 c)
{
	return c == ' ' || c == '\t';
}

/* Does `cmp` (-1, 0, 1) satisfy op? */
static inline int sluice_op_holds(sluice_u32 op, int cmp)
{
	switch (op) {
	case SLUICE_OP_EQ: return cmp == 0;
	case SLUICE_OP_NE: return cmp != 0;
	case SLUICE_OP_LT: return cmp < 0;
	case SLUICE_OP_LE: return cmp <= 0;
	case SLUICE_OP_GT: return cmp > 0;
	case SLUICE_OP_GE: return cmp >= 0;
	}
	return 0;
}

/* Where the parts of a number lie in a field (see the numeric rules above). */
struct sluice_number_span {
	sluice_u32 int_start;   /* integer digits, leading zeros skipped */
	sluice_u32 int_end;
	sluice_u32 frac_start;  /* fraction digits, trailing zeros dropped */
	sluice_u32 frac_end;
	sluice_u32 negative;
	sluice_u32 has_point;
};

/* Character classes for sluice_skip(). */
#define SLUICE_CLASS_BLANK 0    /* space, tab */
#define SLUICE_CLASS_DIGIT 1    /* 0-9 */
#define SLUICE_CLASS_TRAILER 2  /* space, tab, CR */
#define SLUICE_CLASS_ZERO 3     /* '0' */

/* First position in [pos, end) whose byte is not in the class (end if none); looks at
 * most SLUICE_NUMBER_MAX bytes. Each parsing step is its own (global) function so the
 * verifier sees positions as plain unknowns and checks each loop once. */
SLUICE_PRIMITIVE sluice_u32 sluice_skip(sluice_buf_t w, sluice_u32 pos, sluice_u32 end, sluice_u32 cls)
{
	sluice_u32 i;

	if (!w)
		return end;
	for (i = 0; i < SLUICE_NUMBER_MAX; i++) {
		sluice_u32 c, in;

		if (pos + i >= end)
			return end;
		c = SLUICE_BYTE(w, pos + i);
		if (cls == SLUICE_CLASS_BLANK)
			in = sluice_is_blank(c);
		else if (cls == SLUICE_CLASS_DIGIT)
			in = c >= '0' && c <= '9';
		else if (cls == SLUICE_CLASS_TRAILER)
			in = sluice_is_blank(c) || c == '\r';
		else
			in = c == '0';
		if (!in)
			return pos + i;
	}
	return end;
}

/* End of [start, end) with trailing '0' bytes removed. */
SLUICE_PRIMITIVE sluice_u32 sluice_trim_zeros(sluice_buf_t w, sluice_u32 start, sluice_u32 end)
{
	sluice_u32 i;

	if (!w)
		return end;
	for (i = 0; i < SLUICE_NUMBER_MAX; i++) {
		if (end <= start || SLUICE_BYTE(w, end - 1) != '0')
			break;
		end--;
	}
	return end;
}

/* Splits field [start, end) into a number's parts. Returns 0, or -1 if it is not a number. */
SLUICE_PRIMITIVE int sluice_parse_number(sluice_buf_t w, sluice_u32 start, sluice_u32 end,
					 struct sluice_number_span *out)
{
	sluice_u32 p, digits_start;

	if (!w || !out || end < start || end - start > SLUICE_NUMBER_MAX)
		return -1;
	out->negative = 0;
	out->has_point = 0;
	p = sluice_skip(w, start, end, SLUICE_CLASS_BLANK);
	if (p < end && (SLUICE_BYTE(w, p) == '+' || SLUICE_BYTE(w, p) == '-')) {
		out->negative = SLUICE_BYTE(w, p) == '-';
		p++;
	}
	digits_start = p;
	p = sluice_skip(w, p, end, SLUICE_CLASS_DIGIT);
	out->int_start = sluice_skip(w, digits_start, p, SLUICE_CLASS_ZERO);
	out->int_end = p;
	out->frac_start = p;
	out->frac_end = p;
	if (p < end && SLUICE_BYTE(w, p) == '.') {
		out->has_point = 1;
		out->frac_start = p + 1;
		p = sluice_skip(w, p + 1, end, SLUICE_CLASS_DIGIT);
		if (p == digits_start + 1)
			return -1; /* a lone '.' */
		out->frac_end = sluice_trim_zeros(w, out->frac_start, p);
	} else if (p == digits_start) {
		return -1; /* no digits */
	}
	if (sluice_skip(w, p, end, SLUICE_CLASS_TRAILER) != end)
		return -1;
	if (out->int_start == out->int_end && out->frac_start == out->frac_end)
		out->negative = 0; /* -0 == 0 */
	return 0;
}

/* Digit i of the parsed number read as integer digits then fraction digits, '0' past the end. */
SLUICE_PRIMITIVE sluice_u32 sluice_span_digit(sluice_buf_t w, const struct sluice_number_span *s, sluice_u32 i)
{
	sluice_u32 nint;

	if (!w || !s)
		return '0';
	nint = s->int_end - s->int_start;
	if (i < nint)
		return SLUICE_BYTE(w, s->int_start + i);
	if (i - nint < s->frac_end - s->frac_start)
		return SLUICE_BYTE(w, s->frac_start + (i - nint));
	return '0';
}

/* Compares a parsed field with a decimal constant (digits padded with '0'): -1, 0 or 1.
 * Exact. One unknown comparison per iteration keeps the verifier's walk linear. */
SLUICE_PRIMITIVE int sluice_cmp_span_decimal(sluice_buf_t w, const struct sluice_number_span *s,
					     const struct sluice_decimal *k)
{
	sluice_u32 i, nint, total, ktotal;
	int mag = 0;

	if (!w || !s || !k)
		return 0;
	if (s->negative != (sluice_u32)k->negative)
		return s->negative ? -1 : 1;
	nint = s->int_end - s->int_start;
	if (nint != k->int_digits) {
		mag = nint < k->int_digits ? -1 : 1;
		return s->negative ? -mag : mag;
	}
	total = nint + (s->frac_end - s->frac_start);
	ktotal = k->int_digits + k->frac_digits;
	if (ktotal > total)
		total = ktotal;
#if SLUICE_BPF
	/* One opaque bound: otherwise clang tests i against both digit counts and the
	 * verifier, splitting on each, walks ~64^2 states (151K-312K processed instructions
	 * instead of ~1.5K). */
	asm volatile("" : "+r"(total));
#endif
	for (i = 0; i < SLUICE_NUMBER_MAX; i++) {
		sluice_u32 a, b;

		if (i >= total)
			break;
		a = sluice_span_digit(w, s, i);
		b = k->digits[i & (SLUICE_NUMBER_MAX - 1)];
		if (a != b) {
			mag = a < b ? -1 : 1;
			break;
		}
	}
	return s->negative ? -mag : mag;
}

/* Compare field [start, end) as a decimal with k: -1, 0, 1 or SLUICE_CMP_NAN. */
SLUICE_INLINE int sluice_cmp_decimal(sluice_buf_t w, sluice_u32 start, sluice_u32 end,
				     const struct sluice_decimal *k)
{
	struct sluice_number_span span;

	if (sluice_parse_number(w, start, end, &span) != 0)
		return SLUICE_CMP_NAN;
	return sluice_cmp_span_decimal(w, &span, k);
}

/* Value of the digits [start, end), or ~0 if it exceeds limit. */
SLUICE_PRIMITIVE sluice_u64 sluice_digits_value(sluice_buf_t w, sluice_u32 start, sluice_u32 end,
						sluice_u64 limit)
{
	sluice_u64 v = 0;
	sluice_u32 i;

	if (!w)
		return ~0ull;
	for (i = 0; i < SLUICE_NUMBER_MAX; i++) {
		sluice_u64 d;

		if (start + i >= end)
			break;
		d = SLUICE_BYTE(w, start + i) - '0';
		if (v > (limit - d) / 10)
			return ~0ull;
		v = v * 10 + d;
	}
	return v;
}

#define SLUICE_NOT_PLAIN (~0ull)

/* The value of a field made only of 1 to 18 digits (the common case, which cannot
 * overflow), or SLUICE_NOT_PLAIN for anything else. */
SLUICE_PRIMITIVE sluice_u64 sluice_plain_digits(sluice_buf_t w, sluice_u32 start, sluice_u32 end)
{
	sluice_u64 v = 0;
	sluice_u32 i;

	if (!w || end <= start || end - start > 18)
		return SLUICE_NOT_PLAIN;
	for (i = 0; i < 18; i++) {
		sluice_u32 c;

		if (start + i >= end)
			break;
		c = SLUICE_BYTE(w, start + i);
		if (c < '0' || c > '9')
			return SLUICE_NOT_PLAIN;
		v = v * 10 + (c - '0');
	}
	return v;
}

/* Compare field [start, end) as a 64-bit integer with k: -1, 0, 1 or SLUICE_CMP_NAN. */
SLUICE_INLINE int sluice_cmp_int(sluice_buf_t w, sluice_u32 start, sluice_u32 end, sluice_s64 k)
{
	struct sluice_number_span span;
	sluice_u64 limit, v;
	sluice_s64 x;

	v = sluice_plain_digits(w, start, end);
	if (v != SLUICE_NOT_PLAIN) {
		x = (sluice_s64)v;
		return x < k ? -1 : (x > k ? 1 : 0);
	}
	if (sluice_parse_number(w, start, end, &span) != 0 || span.has_point)
		return SLUICE_CMP_NAN;
	/* the magnitude may reach 2^63 for a negative number */
	limit = span.negative ? 0x8000000000000000ull : 0x7fffffffffffffffull;
	v = sluice_digits_value(w, span.int_start, span.int_end, limit);
	if (v == ~0ull)
		return SLUICE_CMP_NAN;
	x = span.negative ? (sluice_s64)(0 - v) : (sluice_s64)v;
	return x < k ? -1 : (x > k ? 1 : 0);
}

#if SLUICE_NATIVE
/* User space: a decimal constant in normal form, for the filter's parameters. */
static inline int sluice_decimal_from_text(const char *text, sluice_u32 len, struct sluice_decimal *out)
{
	const sluice_u8 *w = (const sluice_u8 *)text;
	struct sluice_number_span s;
	sluice_u32 i, n = 0;

	if (sluice_parse_number(w, 0, len, &s) != 0)
		return -1;
	memset(out, 0, sizeof(*out));
	memset(out->digits, '0', sizeof(out->digits)); /* comparisons pad with '0' */
	out->negative = (sluice_s32)s.negative;
	out->int_digits = s.int_end - s.int_start;
	out->frac_digits = s.frac_end - s.frac_start;
	for (i = s.int_start; i < s.int_end; i++)
		out->digits[n++] = w[i];
	for (i = s.frac_start; i < s.frac_end; i++)
		out->digits[n++] = w[i];
	return 0;
}
#endif

/* Bytewise (unsigned, like strcmp in the C locale) comparison of [start, end) with k. */
SLUICE_PRIMITIVE int sluice_cmp_string(sluice_buf_t w, sluice_u32 start, sluice_u32 end,
				       const struct sluice_needle *k)
{
	sluice_u32 i, flen, klen;

	if (!w || !k || end < start)
		return SLUICE_CMP_NAN;
	flen = end - start;
	klen = k->len;
	for (i = 0; i <= SLUICE_NEEDLE_MAX; i++) {
		sluice_u32 a, b;

		if (i >= flen || i >= klen)
			break;
		a = SLUICE_BYTE(w, start + i);
		b = k->bytes[i & (SLUICE_NEEDLE_MAX - 1)];
		if (a != b)
			return a < b ? -1 : 1;
	}
	if (flen == klen)
		return 0;
	return flen < klen ? -1 : 1;
}

/* Compares two parsed numbers exactly: -1, 0 or 1. */
SLUICE_PRIMITIVE int sluice_cmp_spans(sluice_buf_t w, const struct sluice_number_span *a,
				      const struct sluice_number_span *b)
{
	sluice_u32 i, na, nb, total, btotal;
	int mag = 0;

	if (!w || !a || !b)
		return 0;
	if (a->negative != b->negative)
		return a->negative ? -1 : 1;
	na = a->int_end - a->int_start;
	nb = b->int_end - b->int_start;
	if (na != nb) {
		mag = na < nb ? -1 : 1;
		return a->negative ? -mag : mag;
	}
	total = na + (a->frac_end - a->frac_start);
	btotal = nb + (b->frac_end - b->frac_start);
	if (btotal > total)
		total = btotal;
#if SLUICE_BPF
	asm volatile("" : "+r"(total)); /* one opaque bound (see sluice_cmp_span_decimal) */
#endif
	for (i = 0; i < SLUICE_NUMBER_MAX; i++) {
		sluice_u32 x, y;

		if (i >= total)
			break;
		x = sluice_span_digit(w, a, i);
		y = sluice_span_digit(w, b, i);
		if (x != y) {
			mag = x < y ? -1 : 1;
			break;
		}
	}
	return a->negative ? -mag : mag;
}

/* Position after the value byte at p of a field ending at e: in a quoted CSV field
 * (quoted != 0) a doubled quote is one byte of the value. */
static inline sluice_u32 sluice_value_step(sluice_buf_t w, sluice_u32 p, sluice_u32 e, sluice_u32 quoted)
{
	if (quoted && SLUICE_BYTE(w, p) == '"' && p + 1 < e && SLUICE_BYTE(w, p + 1) == '"')
		return p + 2;
	return p + 1;
}

/* Bytewise (unsigned) comparison of the values of two fields a and b, each packed as
 * (start << 32 | end): -1, 0 or 1. quoted bit 0 (a) and bit 1 (b): a quoted CSV field,
 * whose bounds lie inside its quotes and whose doubled quotes count once, as in
 * csv_unquote(). (BPF hosts judge records of at most one window, which the loop's bound
 * covers; longer records are judged in user space.) */
SLUICE_PRIMITIVE int sluice_cmp_values(sluice_buf_t w, sluice_u64 a, sluice_u64 b, sluice_u32 quoted)
{
	sluice_u32 as = (sluice_u32)(a >> 32), ae = (sluice_u32)a, bs = (sluice_u32)(b >> 32), be = (sluice_u32)b;
	int i;

	if (!w || ae < as || be < bs)
		return 0;
#if SLUICE_BPF
	if (ae - as > SLUICE_WINDOW_SIZE || be - bs > SLUICE_WINDOW_SIZE)
		return 0;
	sluice_for(i, 0, (int)SLUICE_WINDOW_SIZE + 1) {
#else
	for (i = 0;; i++) {
#endif
		sluice_u32 x, y;

		if (as >= ae || bs >= be)
			break;
		x = SLUICE_BYTE(w, as);
		y = SLUICE_BYTE(w, bs);
		if (x != y)
			return x < y ? -1 : 1;
		as = sluice_value_step(w, as, ae, quoted & 1);
		bs = sluice_value_step(w, bs, be, quoted & 2);
	}
	if (as < ae)
		return 1;
	return bs < be ? -1 : 0;
}

/* contains (how 0), startswith (1), endswith (2): byte tests of k on [s, e). */
SLUICE_INLINE int sluice_has_bytes(sluice_buf_t w, sluice_u32 s, sluice_u32 e, const struct sluice_needle *k,
				   sluice_u32 how)
{
	sluice_u32 n;

	if (!w || !k)
		return 0;
	n = k->len;
	if (n > SLUICE_NEEDLE_MAX || e < s)
		return 0;
	if (how == 0)
		return sluice_find_needle(w, s, e, k, 0) != SLUICE_NOT_FOUND;
	if (e - s < n)
		return 0;
	if (n == 0)
		return 1;
	return sluice_needle_at(w, how == 1 ? s : e - n, k, 0);
}

#endif /* SLUICE_COMPARE_H */
