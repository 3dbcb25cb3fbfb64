/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * JSON-lines primitives (docs/where.md, "JSON lines"; docs/filters.md): one source for BPF and
 * native, like compare.h. Include after <sluice/filter.h>.
 *
 *   sluice_json_member(w, off, end, key)  validates [off, end) as one JSON object (RFC 8259,
 *       UTF-8, at most SLUICE_JSON_DEPTH_MAX nested containers, no unpaired surrogate
 *       escapes) and returns the bounds of the value of its last member named `key` (keys
 *       compared as decoded text), packed (start << 32 | end) as raw token text;
 *       SLUICE_NO_FIELD when there is no such member, SLUICE_JSON_INVALID when the range is
 *       not a valid JSON object.
 *   sluice_json_next(w, v, key)           the member `key` of the value v (a.b); missing when v
 *       is not an object; an invalid record stays invalid.
 *   sluice_json_cmp_string / _cmp_decimal / _has / _empty: the tests on a value.
 *
 * The validator is one byte-level state machine (sluice_json_step) whose state lives in
 * memory: on BPF in a per-CPU map value, so the open-coded iterator that drives it carries
 * nothing in registers and the verifier checks the step once (kernel field notes); natively
 * on the stack. Runs of plain string bytes are skipped eight at a time.
 */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

/* Deepest nesting of objects and arrays in a valid record (the top-level object is 1). */
#define SLUICE_JSON_DEPTH_MAX 64u
/* Not a valid JSON object (never a valid packed bound: start > end). */
#define SLUICE_JSON_INVALID (~0ull - 2)

/* Modes of the state machine: what the next byte may be. */
#define SLUICE_JSON_VALUE 0       /* a value (at depth 0: only an object) */
#define SLUICE_JSON_FIRST_KEY 1   /* after '{': a key or '}' */
#define SLUICE_JSON_KEY 2         /* after ',' in an object: a key */
#define SLUICE_JSON_COLON 3
#define SLUICE_JSON_AFTER 4       /* after a value: ',' or the closing bracket */
#define SLUICE_JSON_FIRST_ELEM 5  /* after '[': a value or ']' */
#define SLUICE_JSON_STRING 6
#define SLUICE_JSON_ESCAPE 7      /* after a backslash */
#define SLUICE_JSON_HEX 8         /* in the four digits of \uXXXX */
#define SLUICE_JSON_LOW_SLASH 9   /* after a high surrogate: its low half's backslash */
#define SLUICE_JSON_LOW_U 10      /* ... and its 'u' */
#define SLUICE_JSON_NUMBER 11
#define SLUICE_JSON_LITERAL 12    /* true, false, null */
#define SLUICE_JSON_DONE 13       /* the top-level object is closed: only blanks may follow */
#define SLUICE_JSON_ERROR 14

/* Number grammar states (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?). */
#define SLUICE_JSON_N_MINUS 0
#define SLUICE_JSON_N_ZERO 1
#define SLUICE_JSON_N_INT 2
#define SLUICE_JSON_N_DOT 3
#define SLUICE_JSON_N_FRAC 4
#define SLUICE_JSON_N_EXP 5
#define SLUICE_JSON_N_EXP_SIGN 6
#define SLUICE_JSON_N_EXP_DIGITS 7

/* Key matching of the current top-level key. */
#define SLUICE_JSON_KEY_NONE 0
#define SLUICE_JSON_KEY_MATCHING 1
#define SLUICE_JSON_KEY_DIFFERS 2

struct sluice_json_state {
	sluice_u64 stack;       /* bit d: the container at depth d + 1 is an object */
	sluice_u64 found;       /* bounds of the last value of the key, or SLUICE_NO_FIELD */
	sluice_u32 pos;         /* next byte */
	sluice_u32 mode;
	sluice_u32 sub;         /* number grammar state; literal: its kind (0 true, 1 false, 2 null) */
	sluice_u32 depth;       /* open containers */
	sluice_u32 in_key;      /* the string being read is a key */
	sluice_u32 key_state;
	sluice_u32 key_pos;     /* key bytes matched so far */
	sluice_u32 key_hit;     /* the current top-level member has the key */
	sluice_u32 value_start; /* of the current top-level member's value */
	sluice_u32 count;       /* hex digits read; literal bytes read */
	sluice_u32 code;        /* \u code unit being read */
	sluice_u32 high;        /* a pending high surrogate, 0 if none */
	sluice_u32 utf8_left;   /* continuation bytes still expected */
	sluice_u32 utf8_lo, utf8_hi; /* range of the next continuation byte */
};

#if SLUICE_BPF
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_json_state);
} sluice_json_st SEC(".maps");
#endif

static inline int sluice_json_blank(sluice_u32 c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int sluice_json_hex(sluice_u32 c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* Byte i of the literal of kind k ("true", "false", "null"); 0 past its end. */
static inline sluice_u32 sluice_json_literal_byte(sluice_u32 k, sluice_u32 i)
{
	sluice_u64 text = k == 0 ? 0x65757274ull : k == 1 ? 0x65736c6166ull : 0x6c6c756eull;

	return i < 5 ? (sluice_u32)((text >> (8 * i)) & 0xff) : 0;
}

/* UTF-8 of code point cp: bytes packed from the low end, count in bits 32-35. */
static inline sluice_u64 sluice_json_utf8(sluice_u32 cp)
{
	if (cp < 0x80)
		return (1ull << 32) | cp;
	if (cp < 0x800)
		return (2ull << 32) | (0xc0 | (cp >> 6)) | ((sluice_u64)(0x80 | (cp & 0x3f)) << 8);
	if (cp < 0x10000)
		return (3ull << 32) | (0xe0 | (cp >> 12)) | ((sluice_u64)(0x80 | ((cp >> 6) & 0x3f)) << 8) |
		       ((sluice_u64)(0x80 | (cp & 0x3f)) << 16);
	return (4ull << 32) | (0xf0 | (cp >> 18)) | ((sluice_u64)(0x80 | ((cp >> 12) & 0x3f)) << 8) |
	       ((sluice_u64)(0x80 | ((cp >> 6) & 0x3f)) << 16) | ((sluice_u64)(0x80 | (cp & 0x3f)) << 24);
}

/* One decoded byte of the key being read, compared with the wanted key. */
static inline void sluice_json_key_byte(struct sluice_json_state *st, const struct sluice_needle *key,
					sluice_u32 c)
{
	sluice_u32 i = st->key_pos;

	if (st->key_state != SLUICE_JSON_KEY_MATCHING)
		return;
	if (i < key->len && i < SLUICE_NEEDLE_MAX && key->bytes[i & (SLUICE_NEEDLE_MAX - 1)] == c)
		st->key_pos = i + 1;
	else
		st->key_state = SLUICE_JSON_KEY_DIFFERS;
}

static inline void sluice_json_key_utf8(struct sluice_json_state *st, const struct sluice_needle *key,
					 sluice_u64 packed)
{
	sluice_u32 n = (sluice_u32)(packed >> 32) & 7, j;

	for (j = 0; j < 4; j++) {
		if (j >= n)
			break;
		sluice_json_key_byte(st, key, (sluice_u32)(packed >> (8 * j)) & 0xff);
	}
}

/* A value starts at st->pos. */
static inline void sluice_json_value_begin(struct sluice_json_state *st)
{
	if (st->depth == 1)
		st->value_start = st->pos;
}

/* A value ended just before `stop`. */
static inline void sluice_json_value_end(struct sluice_json_state *st, sluice_u32 stop)
{
	if (st->depth == 1 && st->key_hit)
		st->found = ((sluice_u64)st->value_start << 32) | stop;
	st->mode = st->depth == 0 ? SLUICE_JSON_DONE : SLUICE_JSON_AFTER;
}

static inline int sluice_json_top_is_object(const struct sluice_json_state *st)
{
	return st->depth > 0 && ((st->stack >> ((st->depth - 1) & 63)) & 1);
}

/* Opens a container ('{' or '['). */
static inline void sluice_json_open(struct sluice_json_state *st, sluice_u32 c)
{
	if (st->depth >= SLUICE_JSON_DEPTH_MAX) {
		st->mode = SLUICE_JSON_ERROR;
		return;
	}
	sluice_json_value_begin(st);
	if (c == '{') {
		st->stack |= 1ull << (st->depth & 63);
		st->mode = SLUICE_JSON_FIRST_KEY;
	} else {
		st->stack &= ~(1ull << (st->depth & 63));
		st->mode = SLUICE_JSON_FIRST_ELEM;
	}
	st->depth++;
	st->pos++;
}

/* Closes the container at the top with '}' or ']' (st->pos is on it). */
static inline void sluice_json_close(struct sluice_json_state *st, sluice_u32 c)
{
	if (st->depth == 0 || sluice_json_top_is_object(st) != (c == '}')) {
		st->mode = SLUICE_JSON_ERROR;
		return;
	}
	st->depth--;
	st->pos++;
	sluice_json_value_end(st, st->pos);
}

static inline void sluice_json_key_begin(struct sluice_json_state *st)
{
	st->mode = SLUICE_JSON_STRING;
	st->in_key = 1;
	st->key_state = SLUICE_JSON_KEY_NONE;
	if (st->depth == 1) { /* a top-level key: the one wanted? */
		st->key_hit = 0;
		st->key_pos = 0;
		st->key_state = SLUICE_JSON_KEY_MATCHING;
	}
	st->pos++;
}

/* Eight plain string bytes at pos (no quote, backslash, control or non-ASCII byte)? */
static inline int sluice_json_plain8(sluice_buf_t w, sluice_u32 pos)
{
#if SLUICE_BPF
	sluice_u64 x = SLUICE_WORD(w, pos);
#else
	sluice_u64 x;

	memcpy(&x, w + pos, 8);
#endif
	sluice_u64 ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	sluice_u64 quote = x ^ (ones * '"'), slash = x ^ (ones * '\\');
	sluice_u64 bad = ((x - ones * 0x20) & ~x) | x | ((quote - ones) & ~quote) | ((slash - ones) & ~slash);

	return (bad & highs) == 0;
}

/* A byte inside a string (not an escape). */
static inline void sluice_json_string_byte(struct sluice_json_state *st, const struct sluice_needle *key,
					   sluice_u32 c)
{
	if (st->utf8_left > 0) {
		if (c < st->utf8_lo || c > st->utf8_hi) {
			st->mode = SLUICE_JSON_ERROR;
			return;
		}
		st->utf8_left--;
		st->utf8_lo = 0x80;
		st->utf8_hi = 0xbf;
	} else if (c == '"') {
		st->pos++;
		if (st->in_key) {
			if (st->depth == 1)
				st->key_hit = st->key_state == SLUICE_JSON_KEY_MATCHING && st->key_pos == key->len;
			st->key_state = SLUICE_JSON_KEY_NONE;
			st->in_key = 0;
			st->mode = SLUICE_JSON_COLON;
		} else {
			sluice_json_value_end(st, st->pos);
		}
		return;
	} else if (c == '\\') {
		st->mode = SLUICE_JSON_ESCAPE;
		st->pos++;
		return;
	} else if (c < 0x20) {
		st->mode = SLUICE_JSON_ERROR;
		return;
	} else if (c >= 0x80) {
		/* The lead byte sets how many continuation bytes follow and the range of the
		 * first (no overlong forms, no surrogates, nothing above U+10FFFF). */
		st->utf8_lo = 0x80;
		st->utf8_hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf) {
			st->utf8_left = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			st->utf8_left = 2;
			if (c == 0xe0)
				st->utf8_lo = 0xa0;
			if (c == 0xed)
				st->utf8_hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			st->utf8_left = 3;
			if (c == 0xf0)
				st->utf8_lo = 0x90;
			if (c == 0xf4)
				st->utf8_hi = 0x8f;
		} else {
			st->mode = SLUICE_JSON_ERROR;
			return;
		}
	}
	sluice_json_key_byte(st, key, c);
	st->pos++;
}

/* The escape character after a backslash. */
static inline void sluice_json_escape(struct sluice_json_state *st, const struct sluice_needle *key,
				      sluice_u32 c)
{
	sluice_u32 out;

	st->pos++;
	switch (c) {
	case '"': out = '"'; break;
	case '\\': out = '\\'; break;
	case '/': out = '/'; break;
	case 'b': out = '\b'; break;
	case 'f': out = '\f'; break;
	case 'n': out = '\n'; break;
	case 'r': out = '\r'; break;
	case 't': out = '\t'; break;
	case 'u':
		st->mode = SLUICE_JSON_HEX;
		st->count = 0;
		st->code = 0;
		return;
	default:
		st->mode = SLUICE_JSON_ERROR;
		return;
	}
	sluice_json_key_byte(st, key, out);
	st->mode = SLUICE_JSON_STRING;
}

/* A digit of \uXXXX; after the fourth, the code unit (surrogates paired). */
static inline void sluice_json_hex_digit(struct sluice_json_state *st, const struct sluice_needle *key,
					 sluice_u32 c)
{
	int v = sluice_json_hex(c);
	sluice_u32 code;

	if (v < 0) {
		st->mode = SLUICE_JSON_ERROR;
		return;
	}
	st->pos++;
	st->code = st->code * 16 + (sluice_u32)v;
	st->count++;
	if (st->count < 4)
		return;
	code = st->code;
	if (st->high) {
		if (code < 0xdc00 || code > 0xdfff) {
			st->mode = SLUICE_JSON_ERROR;
			return;
		}
		sluice_json_key_utf8(st, key, sluice_json_utf8(0x10000 + ((st->high - 0xd800) << 10) + (code - 0xdc00)));
		st->high = 0;
		st->mode = SLUICE_JSON_STRING;
	} else if (code >= 0xd800 && code <= 0xdbff) {
		st->high = code;
		st->mode = SLUICE_JSON_LOW_SLASH;
	} else if (code >= 0xdc00 && code <= 0xdfff) {
		st->mode = SLUICE_JSON_ERROR; /* a low surrogate alone */
	} else {
		sluice_json_key_utf8(st, key, sluice_json_utf8(code));
		st->mode = SLUICE_JSON_STRING;
	}
}

/* A byte of a number; a byte that cannot continue it ends it and is read again. */
static inline void sluice_json_number_byte(struct sluice_json_state *st, sluice_u32 c)
{
	int digit = c >= '0' && c <= '9';
	int exp = c == 'e' || c == 'E';
	sluice_u32 s = st->sub, next;

	switch (s) {
	case SLUICE_JSON_N_MINUS:
		if (!digit)
			goto fail;
		next = c == '0' ? SLUICE_JSON_N_ZERO : SLUICE_JSON_N_INT;
		break;
	case SLUICE_JSON_N_ZERO:
	case SLUICE_JSON_N_INT:
		if (digit && s == SLUICE_JSON_N_INT)
			next = s;
		else if (c == '.')
			next = SLUICE_JSON_N_DOT;
		else if (exp)
			next = SLUICE_JSON_N_EXP;
		else
			goto end;
		break;
	case SLUICE_JSON_N_DOT:
		if (!digit)
			goto fail;
		next = SLUICE_JSON_N_FRAC;
		break;
	case SLUICE_JSON_N_FRAC:
		if (digit)
			next = s;
		else if (exp)
			next = SLUICE_JSON_N_EXP;
		else
			goto end;
		break;
	case SLUICE_JSON_N_EXP:
		if (c == '+' || c == '-')
			next = SLUICE_JSON_N_EXP_SIGN;
		else if (digit)
			next = SLUICE_JSON_N_EXP_DIGITS;
		else
			goto fail;
		break;
	case SLUICE_JSON_N_EXP_SIGN:
		if (!digit)
			goto fail;
		next = SLUICE_JSON_N_EXP_DIGITS;
		break;
	default:
		if (!digit)
			goto end;
		next = s;
	}
	st->sub = next;
	st->pos++;
	return;
end:
	sluice_json_value_end(st, st->pos); /* c is read again after the value */
	return;
fail:
	st->mode = SLUICE_JSON_ERROR;
}

/* Where a value begins (st->mode is VALUE or FIRST_ELEM; c is not a blank). */
static inline void sluice_json_value_byte(struct sluice_json_state *st, sluice_u32 c)
{
	if (st->depth == 0 && c != '{') {
		st->mode = SLUICE_JSON_ERROR; /* the record must be an object */
		return;
	}
	if (c == '{' || c == '[') {
		sluice_json_open(st, c);
		return;
	}
	sluice_json_value_begin(st);
	if (c == '"') {
		st->mode = SLUICE_JSON_STRING;
		st->in_key = 0;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		st->mode = SLUICE_JSON_NUMBER;
		st->sub = c == '-' ? SLUICE_JSON_N_MINUS : c == '0' ? SLUICE_JSON_N_ZERO : SLUICE_JSON_N_INT;
	} else if (c == 't' || c == 'f' || c == 'n') {
		st->mode = SLUICE_JSON_LITERAL;
		st->sub = c == 't' ? 0 : c == 'f' ? 1 : 2;
		st->count = 1;
	} else {
		st->mode = SLUICE_JSON_ERROR;
		return;
	}
	st->pos++;
}

/* Reads the byte at st->pos (or a run of plain string bytes) and advances. */
SLUICE_PRIMITIVE int sluice_json_step(sluice_buf_t w, struct sluice_json_state *st, sluice_u32 end,
				      const struct sluice_needle *key)
{
	sluice_u32 pos, c, mode;

	if (!w || !st || !key)
		return -1;
	pos = st->pos;
	mode = st->mode;
	if (pos >= end || mode == SLUICE_JSON_ERROR)
		return -1;
	c = SLUICE_BYTE(w, pos);
	switch (mode) {
	case SLUICE_JSON_STRING:
		if (st->utf8_left == 0 && st->key_state != SLUICE_JSON_KEY_MATCHING && end - pos >= 8 &&
		    sluice_json_plain8(w, pos)) {
			st->pos = pos + 8;
			return 0;
		}
		sluice_json_string_byte(st, key, c);
		break;
	case SLUICE_JSON_ESCAPE:
		sluice_json_escape(st, key, c);
		break;
	case SLUICE_JSON_HEX:
		sluice_json_hex_digit(st, key, c);
		break;
	case SLUICE_JSON_LOW_SLASH:
	case SLUICE_JSON_LOW_U:
		if (c != (mode == SLUICE_JSON_LOW_SLASH ? '\\' : 'u')) {
			st->mode = SLUICE_JSON_ERROR;
			break;
		}
		st->pos = pos + 1;
		if (mode == SLUICE_JSON_LOW_SLASH) {
			st->mode = SLUICE_JSON_LOW_U;
		} else {
			st->mode = SLUICE_JSON_HEX;
			st->count = 0;
			st->code = 0;
		}
		break;
	case SLUICE_JSON_NUMBER:
		sluice_json_number_byte(st, c);
		break;
	case SLUICE_JSON_LITERAL:
		if (c != sluice_json_literal_byte(st->sub, st->count)) {
			st->mode = SLUICE_JSON_ERROR;
			break;
		}
		st->pos = pos + 1;
		st->count++;
		if (sluice_json_literal_byte(st->sub, st->count) == 0)
			sluice_json_value_end(st, st->pos);
		break;
	default:
		if (sluice_json_blank(c)) {
			st->pos = pos + 1;
			break;
		}
		if (mode == SLUICE_JSON_VALUE)
			sluice_json_value_byte(st, c);
		else if (mode == SLUICE_JSON_FIRST_ELEM)
			c == ']' ? sluice_json_close(st, c) : sluice_json_value_byte(st, c);
		else if (mode == SLUICE_JSON_FIRST_KEY && c == '}')
			sluice_json_close(st, c);
		else if ((mode == SLUICE_JSON_FIRST_KEY || mode == SLUICE_JSON_KEY) && c == '"')
			sluice_json_key_begin(st);
		else if (mode == SLUICE_JSON_COLON && c == ':') {
			st->mode = SLUICE_JSON_VALUE;
			st->pos = pos + 1;
		} else if (mode == SLUICE_JSON_AFTER && c == ',') {
			st->mode = sluice_json_top_is_object(st) ? SLUICE_JSON_KEY : SLUICE_JSON_VALUE;
			st->pos = pos + 1;
		} else if (mode == SLUICE_JSON_AFTER && (c == '}' || c == ']'))
			sluice_json_close(st, c);
		else
			st->mode = SLUICE_JSON_ERROR;
	}
	return st->mode == SLUICE_JSON_ERROR ? -1 : 0;
}

static inline void sluice_json_begin(struct sluice_json_state *st, sluice_u32 off)
{
	__builtin_memset(st, 0, sizeof(*st));
	st->pos = off;
	st->mode = SLUICE_JSON_VALUE;
	st->found = SLUICE_NO_FIELD;
	st->utf8_lo = 0x80;
	st->utf8_hi = 0xbf;
}

/* See the top of this file. */
SLUICE_PRIMITIVE sluice_u64 sluice_json_member(sluice_buf_t w, sluice_u32 off, sluice_u32 end,
					       const struct sluice_needle *key)
{
#if SLUICE_BPF
	__u32 zero = 0;
	struct sluice_json_state *st = bpf_map_lookup_elem(&sluice_json_st, &zero);
	int i;

	if (!st || !w || !key || off > end || end - off > SLUICE_WINDOW_SIZE)
		return SLUICE_JSON_INVALID;
	sluice_json_begin(st, off);
	/* every step advances at least one byte, except the one that ends a number */
	sluice_for(i, 0, 2 * (int)(end - off) + 2) {
		if (st->pos >= end || sluice_json_step(w, st, end, key) != 0)
			break;
	}
#else
	struct sluice_json_state state, *st = &state;

	if (off > end)
		return SLUICE_JSON_INVALID;
	sluice_json_begin(st, off);
	while (st->pos < end)
		if (sluice_json_step(w, st, end, key) != 0)
			break;
#endif
	if (st->mode != SLUICE_JSON_DONE)
		return SLUICE_JSON_INVALID;
	return st->found;
}

/* The member `key` of value v (a.b); missing when v is missing or not an object. */
SLUICE_INLINE sluice_u64 sluice_json_next(sluice_buf_t w, sluice_u64 v, const struct sluice_needle *key)
{
	if (v == SLUICE_JSON_INVALID || v == SLUICE_NO_FIELD)
		return v;
	if (SLUICE_BYTE(w, (sluice_u32)(v >> 32)) != '{')
		return SLUICE_NO_FIELD;
	return sluice_json_member(w, (sluice_u32)(v >> 32), (sluice_u32)v, key);
}

/* Results of sluice_json_text_cmp. */
#define SLUICE_JSON_LESS (-1)
#define SLUICE_JSON_EQUAL 0
#define SLUICE_JSON_LONGER 1  /* greater, and k is a prefix of it */
#define SLUICE_JSON_GREATER 2 /* greater at a byte */

/* The character at p of a (valid) string's text ending at e: its UTF-8 bytes packed as by
 * sluice_json_utf8, and in bits 40-47 the number of raw bytes it takes (1 for a raw byte:
 * multi-byte characters are read one byte at a time). Inline: on BPF a call here would be a
 * ninth frame (sk_msg host ... where_eval, text_find, text_cmp, char_cmp). */
SLUICE_INLINE sluice_u64 sluice_json_char(sluice_buf_t w, sluice_u32 p, sluice_u32 e)
{
	sluice_u32 c, code = 0, low = 0, j;

	if (!w || p >= e)
		return 0;
	c = SLUICE_BYTE(w, p);
	if (c != '\\' || e - p < 2)
		return (1ull << 40) | (1ull << 32) | c;
	c = SLUICE_BYTE(w, p + 1);
	switch (c) {
	case 'b': return (2ull << 40) | (1ull << 32) | '\b';
	case 'f': return (2ull << 40) | (1ull << 32) | '\f';
	case 'n': return (2ull << 40) | (1ull << 32) | '\n';
	case 'r': return (2ull << 40) | (1ull << 32) | '\r';
	case 't': return (2ull << 40) | (1ull << 32) | '\t';
	case 'u': break;
	default: return (2ull << 40) | (1ull << 32) | c; /* \" \\ \/ */
	}
	if (e - p < 6)
		return (1ull << 40) | (1ull << 32) | '\\';
	for (j = 0; j < 4; j++)
		code = code * 16 + (sluice_u32)(sluice_json_hex(SLUICE_BYTE(w, p + 2 + j)) & 15);
	if (code < 0xd800 || code > 0xdbff || e - p < 12)
		return (6ull << 40) | sluice_json_utf8(code);
	for (j = 0; j < 4; j++)
		low = low * 16 + (sluice_u32)(sluice_json_hex(SLUICE_BYTE(w, p + 8 + j)) & 15);
	return (12ull << 40) | sluice_json_utf8(0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00));
}

/* The character at p compared with k from its byte i: bits 0-31 the next i, bits 32-39 the
 * raw bytes the character takes, bits 40-47 a verdict (0: equal so far, else
 * SLUICE_JSON_LESS/GREATER/LONGER + 2). A global function: the caller's loop stays small. */
SLUICE_PRIMITIVE sluice_u64 sluice_json_char_cmp(sluice_buf_t w, sluice_u32 p, sluice_u32 e,
						 const struct sluice_needle *k, sluice_u32 i)
{
	sluice_u64 ch, verdict = 0;
	sluice_u32 n, klen, j;

	if (!w || !k)
		return (sluice_u64)(SLUICE_JSON_LESS + 2) << 40;
	klen = k->len;
	ch = sluice_json_char(w, p, e);
	n = (sluice_u32)(ch >> 32) & 7;
	for (j = 0; j < 4; j++) {
		sluice_u32 a, b;

		if (j >= n)
			break;
		if (i >= klen) {
			verdict = SLUICE_JSON_LONGER + 2;
			break;
		}
		a = (sluice_u32)(ch >> (8 * j)) & 0xff;
		b = k->bytes[i & (SLUICE_NEEDLE_MAX - 1)];
		if (a != b) {
			verdict = (sluice_u64)((a < b ? SLUICE_JSON_LESS : SLUICE_JSON_GREATER) + 2);
			break;
		}
		i++;
	}
	return (verdict << 40) | (((ch >> 40) & 0xff) << 32) | i;
}

/* Compares the decoded text of string bytes [p, e) (e: the closing quote) with k. Looks at
 * most at k->len + 1 characters. */
SLUICE_PRIMITIVE int sluice_json_text_cmp(sluice_buf_t w, sluice_u32 p, sluice_u32 e,
					  const struct sluice_needle *k)
{
	sluice_u32 i = 0, klen, step;

	if (!w || !k)
		return SLUICE_JSON_LESS;
	klen = k->len;
	for (step = 0; step < SLUICE_NEEDLE_MAX + 2; step++) {
		sluice_u64 r;
		sluice_u32 verdict;

		if (p >= e)
			return i == klen ? SLUICE_JSON_EQUAL : SLUICE_JSON_LESS;
		if (i >= klen)
			return SLUICE_JSON_LONGER;
		r = sluice_json_char_cmp(w, p, e, k, i);
		verdict = (sluice_u32)(r >> 40) & 0xff;
		if (verdict)
			return (int)verdict - 2;
		i = (sluice_u32)r;
		p += (sluice_u32)(r >> 32) & 0xff;
	}
	return SLUICE_JSON_LONGER; /* not reached: k is at most SLUICE_NEEDLE_MAX bytes */
}

/* Kinds of values, from their first byte. */
#define SLUICE_JSON_K_NONE 0   /* missing, null, or an invalid record */
#define SLUICE_JSON_K_STRING 1
#define SLUICE_JSON_K_SCALAR 2 /* number, true, false: compared as their text */
#define SLUICE_JSON_K_CONTAINER 3

SLUICE_INLINE sluice_u32 sluice_json_kind(sluice_buf_t w, sluice_u64 v)
{
	sluice_u32 c;

	if (v == SLUICE_JSON_INVALID || v == SLUICE_NO_FIELD)
		return SLUICE_JSON_K_NONE;
	c = SLUICE_BYTE(w, (sluice_u32)(v >> 32));
	if (c == '"')
		return SLUICE_JSON_K_STRING;
	if (c == 'n')
		return SLUICE_JSON_K_NONE;
	if (c == '{' || c == '[')
		return SLUICE_JSON_K_CONTAINER;
	return SLUICE_JSON_K_SCALAR;
}

/* A value compared as text with k: a string by its decoded text, a number or true/false by
 * its token text; -1, 0, 1, or SLUICE_CMP_NAN for missing, null, objects and arrays. */
SLUICE_INLINE int sluice_json_cmp_string(sluice_buf_t w, sluice_u64 v, const struct sluice_needle *k)
{
	sluice_u32 kind = sluice_json_kind(w, v), s = (sluice_u32)(v >> 32), e = (sluice_u32)v;
	int c;

	if (kind == SLUICE_JSON_K_SCALAR)
		return sluice_cmp_string(w, s, e, k);
	if (kind != SLUICE_JSON_K_STRING)
		return SLUICE_CMP_NAN;
	c = sluice_json_text_cmp(w, s + 1, e - 1, k);
	return c == SLUICE_JSON_EQUAL ? 0 : c == SLUICE_JSON_LESS ? -1 : 1;
}

/* A number compared with a decimal constant by the numeric rules of compare.h (an exponent
 * makes it "not a number"); SLUICE_CMP_NAN for anything that is not a number. */
SLUICE_INLINE int sluice_json_cmp_decimal(sluice_buf_t w, sluice_u64 v, const struct sluice_decimal *k)
{
	sluice_u32 c;

	if (v == SLUICE_JSON_INVALID || v == SLUICE_NO_FIELD)
		return SLUICE_CMP_NAN;
	c = SLUICE_BYTE(w, (sluice_u32)(v >> 32));
	if (c != '-' && (c < '0' || c > '9'))
		return SLUICE_CMP_NAN;
	return sluice_cmp_decimal(w, (sluice_u32)(v >> 32), (sluice_u32)v, k);
}

/* Bytes a character of string text takes at p (a raw UTF-8 character whole, an escape). A
 * global function on BPF: the caller's loop-carried position is then never an offset. */
SLUICE_PRIMITIVE sluice_u32 sluice_json_char_len(sluice_buf_t w, sluice_u32 p, sluice_u32 e)
{
	sluice_u32 c;

	if (!w)
		return 1;
	c = SLUICE_BYTE(w, p);
	if (c == '\\')
		return (sluice_u32)(sluice_json_char(w, p, e) >> 40) & 0xff;
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Does the decoded text of string bytes [s, e) contain k (how 0), end with it (how 2)?
 * Character by character; k is valid UTF-8, so a match starts at a character. */
SLUICE_PRIMITIVE int sluice_json_text_find(sluice_buf_t w, sluice_u32 s, sluice_u32 e,
					   const struct sluice_needle *k, sluice_u32 how)
{
	sluice_u32 p = s;
	int i;

	if (!w || !k || s > e)
		return 0;
#if SLUICE_BPF
	if (e - s > SLUICE_WINDOW_SIZE)
		return 0; /* cannot happen: a BPF host judges records of at most one window */
#endif
	sluice_for(i, 0, (int)(e - s) + 1) {
		int c;

		if (p > e)
			break;
		c = sluice_json_text_cmp(w, p, e, k);
		if (c == SLUICE_JSON_EQUAL || (how == 0 && c == SLUICE_JSON_LONGER))
			return 1;
		if (p >= e)
			break;
		p += sluice_json_char_len(w, p, e);
	}
	return 0;
}

/* contains (how 0), startswith (1), endswith (2) on a value: a string's decoded text, a
 * number's or true/false's token text; false for missing, null, objects and arrays. */
SLUICE_INLINE int sluice_json_has(sluice_buf_t w, sluice_u64 v, const struct sluice_needle *k, sluice_u32 how)
{
	sluice_u32 kind = sluice_json_kind(w, v), s = (sluice_u32)(v >> 32), e = (sluice_u32)v;

	if (!k || k->len > SLUICE_NEEDLE_MAX || kind == SLUICE_JSON_K_NONE || kind == SLUICE_JSON_K_CONTAINER)
		return 0;
	if (kind == SLUICE_JSON_K_STRING) {
		s++;
		e--;
		if (how == 1) {
			int c = sluice_json_text_cmp(w, s, e, k);

			return c == SLUICE_JSON_EQUAL || c == SLUICE_JSON_LONGER;
		}
		if (sluice_find_byte(w, s, e, '\\') != SLUICE_NOT_FOUND)
			return sluice_json_text_find(w, s, e, k, how);
	}
	return sluice_has_bytes(w, s, e, k, how); /* raw bytes are the text */
}

/* is empty: a missing member, null, or "" (an invalid record: false). */
SLUICE_INLINE int sluice_json_empty(sluice_buf_t w, sluice_u64 v)
{
	sluice_u32 s, c;

	if (v == SLUICE_NO_FIELD)
		return 1;
	if (v == SLUICE_JSON_INVALID)
		return 0;
	s = (sluice_u32)(v >> 32);
	c = SLUICE_BYTE(w, s);
	return c == 'n' || (c == '"' && (sluice_u32)v - s == 2);
}

#endif /* SLUICE_JSON_H */
