/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sluice filter ABI.
 *
 * A filter is one C source that is compiled twice:
 *   - as BPF (clang -target bpf -mcpu=v3), included by a host program in kernel-bpf/;
 *   - as native C, linked into libsluice for the user-space backends.
 *
 * A filter sees one record: a buffer handle `w`, the record's first byte `off` and its
 * length `len` (the record separator is not part of the record). It returns 1 to keep
 * the record and 0 to drop it. It touches record bytes only through the primitives
 * below, each of which has a BPF implementation (verifier-friendly, SWAR 32 bytes per
 * step, loops in global functions) and a native one (libc / SIMD).
 *
 * Parameters live in one struct per filter (shared with user space through the
 * filter's own header). On BPF it is a `const volatile` global in .rodata that the
 * loader rewrites before load, so the verifier sees constants; natively it is a plain
 * pointer. Every parameter struct starts with `struct sluice_param_header`, which
 * carries the filter's *required literal*: when its length is non-zero, every record
 * the filter keeps contains that byte string (case-sensitively), so a host may search
 * a whole window for it first and run the filter only on records around hits.
 */
#ifndef SLUICE_FILTER_H
#define SLUICE_FILTER_H

#if defined(__bpf__)
#  define SLUICE_BPF 1
#else
#  define SLUICE_NATIVE 1
#  ifndef _GNU_SOURCE
#    define _GNU_SOURCE 1 /* memmem, memrchr */
#  endif
#  include <stdint.h>
#  include <string.h>
#endif

#if SLUICE_BPF
typedef unsigned char sluice_u8;
typedef unsigned int sluice_u32;
typedef int sluice_s32;
typedef unsigned long long sluice_u64;
typedef long long sluice_s64;
#else
typedef uint8_t sluice_u8;
typedef uint32_t sluice_u32;
typedef int32_t sluice_s32;
typedef uint64_t sluice_u64;
typedef int64_t sluice_s64;
#endif

/* ---- Shapes both sides agree on ------------------------------------------------ */

/* Largest record a BPF host can judge in one piece; longer records are judged in user
 * space. Also the size of the BPF scratch window's data part. */
#define SLUICE_WINDOW_SIZE 65536u
/* Every BPF access index is masked with this, so it is in bounds by construction;
 * the scratch buffer is sized so that any masked index plus SLUICE_MAX_READ fits. */
#define SLUICE_ACCESS_MASK (2u * SLUICE_WINDOW_SIZE - 1u)
#define SLUICE_MAX_READ 64u /* one 64-byte SWAR block past any masked index */
#define SLUICE_SCRATCH_SIZE (2u * SLUICE_WINDOW_SIZE + SLUICE_MAX_READ)

/* Longest needle, literal or string constant a filter can carry. */
#define SLUICE_NEEDLE_MAX 128u
/* Most patterns one fixed-string filter matches (grep -e ... -e ...). */
#define SLUICE_PATTERNS_MAX 8u
/* Longest field text a numeric comparison will parse (longer is "not a number"). */
#define SLUICE_NUMBER_MAX 64u

struct sluice_needle {
	sluice_u32 len;
	/* Offsets of the needle bytes a SWAR scan looks for first, chosen by the configurator
	 * from byte frequencies: equal when one byte is rare enough alone, otherwise a pair
	 * (probe[0] < probe[1]). A hint for speed only: any valid offsets give the same result. */
	sluice_u32 probe[2];
	sluice_u8 bytes[SLUICE_NEEDLE_MAX];
};

/* A decimal number in normalised form: sign, integer digits without leading zeros,
 * fraction digits without trailing zeros. Used for exact "float" comparisons, the same
 * on both sides (BPF has no floating point). */
struct sluice_decimal {
	sluice_s32 negative;          /* 1 if < 0 (never set for zero) */
	sluice_u32 int_digits;        /* number of integer digits in digits[] */
	sluice_u32 frac_digits;       /* number of fraction digits after them */
	sluice_u8 digits[SLUICE_NUMBER_MAX]; /* ASCII '0'..'9', padded with '0' */
};

struct sluice_param_header {
	struct sluice_needle required_literal; /* len 0: the filter declares none */
	sluice_u32 literal_exact; /* 1: the filter keeps exactly the records containing it */
	sluice_u32 constant;      /* SLUICE_VERDICT_*: a host may skip judging altogether */
	/* How the byte stream is cut into records (SLUICE_FRAMING_*). Every backend and host
	 * frames by it; zero (the built-in filters) is newline-separated lines. */
	sluice_u32 framing;
	sluice_u32 record_size; /* SLUICE_FRAMING_FIXED: bytes per record (> 0) */
};

/* Record framing (struct sluice_param_header.framing). */
#define SLUICE_FRAMING_LINES 0 /* a record ends at each '\n' (not part of it) */
#define SLUICE_FRAMING_CSV 1   /* RFC 4180: a record ends at a '\n' outside double quotes
				* (each '"' toggles the quote state; "" toggles twice) */
#define SLUICE_FRAMING_FIXED 2 /* records of exactly record_size bytes, no separator */

#define SLUICE_VERDICT_VARIES 0
#define SLUICE_VERDICT_KEEP_ALL 1
#define SLUICE_VERDICT_DROP_ALL 2

/* The BPF scratch window: one per CPU in an array map. */
struct sluice_window {
	sluice_u8 b[SLUICE_SCRATCH_SIZE];
};

/* Sentinel returned by sluice_field() when the record has fewer fields. */
#define SLUICE_NO_FIELD (~0ull)
/* Results of the comparison primitives. */
#define SLUICE_CMP_NAN (-2)

/* ---- Buffer handle and qualifiers ----------------------------------------------- */

#if SLUICE_BPF
typedef const struct sluice_window *sluice_buf_t;
/* Parameters are read from frozen .rodata so the verifier sees constants. */
#  define SLUICE_PARAM_QUAL const volatile
#  define SLUICE_BYTE(w, i) ((w)->b[(i) & SLUICE_ACCESS_MASK])
#  define SLUICE_WORD(w, i) (*(const sluice_u64 *)&(w)->b[(i) & SLUICE_ACCESS_MASK])
/* Global (non-static, noinline) functions are verified once, whatever calls them:
 * the field notes measured 729K -> 4.3K processed instructions for nested loops. */
#  define SLUICE_PRIMITIVE __attribute__((noinline)) __attribute__((unused))
#  define SLUICE_INLINE static inline __attribute__((always_inline))
#else
typedef const sluice_u8 *sluice_buf_t;
#  define SLUICE_PARAM_QUAL const
#  define SLUICE_BYTE(w, i) ((w)[(i)])
#  define SLUICE_PRIMITIVE static inline __attribute__((unused))
#  define SLUICE_INLINE static inline __attribute__((always_inline))
#endif

/*
 * SLUICE_PARAM_PTR(type, name, lvalue): `const type *name` for a parameter (a needle, a
 * decimal) to pass to a primitive. The kernel treats a pointer argument of a global BPF
 * function as writable memory, and .rodata is read-only, so on BPF the pointer is to the
 * same field of `sluice_params_mem`, a copy of the parameters in .data that the loader
 * writes together with .rodata. Natively it is a plain pointer.
 */
#if SLUICE_BPF
#  define SLUICE_PARAM_PTR(type, name, lvalue)                                              \
	const type *name = (const type *)((const char *)&sluice_params_mem +                 \
					  ((const char *)&(lvalue) - (const char *)&sluice_params))
#else
#  define SLUICE_PARAM_PTR(type, name, lvalue) const type *name = (const type *)&(lvalue)
#endif

/* ---- The filter definition macro ------------------------------------------------- */

/*
 * SLUICE_FILTER(name, params_type) { body }
 *
 * Inside the body: `P` points to the parameters, `w`/`off`/`len` describe the record.
 * BPF: defines the rodata global `sluice_params` and `sluice_filter_run(w, off, len)`,
 *      which a host program calls.
 * Native: defines `int sluice_native_<name>(const void *params, const uint8_t *rec,
 *      uint32_t len)` with C linkage, which libsluice calls.
 */
#if SLUICE_BPF
#  define SLUICE_FILTER(name, params_type)                                                  \
	const volatile params_type sluice_params = {};                                      \
	params_type sluice_params_mem SEC(".data") = {};                                    \
	static __attribute__((always_inline)) int sluice_filter_body_##name(                \
		SLUICE_PARAM_QUAL params_type *P, sluice_buf_t w, sluice_u32 off,           \
		sluice_u32 len);                                                            \
	static __attribute__((always_inline)) int sluice_filter_run(                        \
		sluice_buf_t w, sluice_u32 off, sluice_u32 len)                             \
	{                                                                                   \
		return sluice_filter_body_##name(&sluice_params, w, off, len);              \
	}                                                                                   \
	static __attribute__((always_inline)) int sluice_filter_body_##name(                \
		SLUICE_PARAM_QUAL params_type *P, sluice_buf_t w, sluice_u32 off,           \
		sluice_u32 len)
#else
#  ifdef __cplusplus
#    define SLUICE_EXTERN_C extern "C"
#  else
#    define SLUICE_EXTERN_C
#  endif
#  define SLUICE_FILTER(name, params_type)                                                  \
	static inline int sluice_filter_body_##name(SLUICE_PARAM_QUAL params_type *P,       \
						    sluice_buf_t w, sluice_u32 off,         \
						    sluice_u32 len);                        \
	SLUICE_EXTERN_C int sluice_native_##name(const void *params, const sluice_u8 *rec,  \
						 sluice_u32 len);                           \
	SLUICE_EXTERN_C int sluice_native_##name(const void *params, const sluice_u8 *rec,  \
						 sluice_u32 len)                            \
	{                                                                                   \
		return sluice_filter_body_##name((const params_type *)params, rec, 0, len); \
	}                                                                                   \
	static inline int sluice_filter_body_##name(SLUICE_PARAM_QUAL params_type *P,       \
						    sluice_buf_t w, sluice_u32 off,         \
						    sluice_u32 len)
#endif

/* Native signature of every compiled filter. */
typedef int (*sluice_native_filter_fn)(const void *params, const sluice_u8 *rec, sluice_u32 len);

/* ---- Primitives ------------------------------------------------------------------- */

#if SLUICE_BPF
#  include <sluice/bpf_primitives.h>
#else
#  include <sluice/native_primitives.h>
#endif

/* Parsing and comparison helpers shared verbatim by both sides: bounded loops over at
 * most SLUICE_NUMBER_MAX / SLUICE_NEEDLE_MAX bytes, plain C. */
#include <sluice/compare.h>

#endif /* SLUICE_FILTER_H */
