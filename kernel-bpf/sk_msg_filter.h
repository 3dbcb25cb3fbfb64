/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared by sk_msg_filter.bpf.c and the sockmap backend in libsluice. */
#ifndef SLUICE_SK_MSG_FILTER_H
#define SLUICE_SK_MSG_FILTER_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Largest window one program run judges. Kept-record writes go to packet offsets below it,
 * and the verifier limits a variable packet offset plus access size to 0xffff. */
#define SLUICE_SK_MSG_WINDOW_MAX 65472u

/* Bytes per sendfile()/splice() call: 15 pages, so each message (at most one 64 KiB pipe)
 * fits one window and costs one boundary record, not two. */
#define SLUICE_SK_MSG_SEND_CHUNK 61440u

/* Counters, one set per CPU, summed by user space. */
struct sluice_sk_msg_stats {
	__u64 runs;            /* program runs (windows judged or passed) */
	__u64 bytes_in;        /* bytes that entered the filter */
	__u64 bytes_kept;      /* bytes redirected to the receiver */
	__u64 boundary_bytes;  /* of those, first/last partial records passed unjudged */
	__u64 records_judged;  /* whole records the filter judged */
	__u64 records_kept;    /* of those, kept */
	__u64 passed_unfiltered; /* windows passed whole (pull or copy failed) */
	__u64 errors;          /* windows rewritten but not shortened (pop failed): output unusable */
	__u64 newlines;        /* newlines in judged windows (only with sluice_count_records) */
};

/* Per-window scan state, kept in map memory so the record loop's position is never a
 * precise loop-carried register (the open-coded iterator then converges). */
struct sluice_window_state {
	__u32 pos;        /* next byte to judge */
	__u32 kept;       /* bytes of kept data compacted at the front of the window */
	__u32 first_gap;  /* first byte whose content moved (packet rewrite starts here) */
	__u32 end;        /* one past the last complete record's newline */
	__u64 judged;
	__u64 kept_records;
	__u64 kept_record_bytes; /* bytes of judged-and-kept records */
	/* CSV framing: the quote state at pos (1: inside double quotes), and whether pos lies
	 * inside a record that passes whole (multi-line, or begun in an earlier window), which
	 * then began at open_start. */
	__u32 in_quotes;
	__u32 open;
	__u32 open_start;
	__u32 pad;
};

/* Per-stream framing state of one sender socket (socket-local storage): the windows of one
 * socket arrive in stream order, one program run at a time. */
struct sluice_stream_state {
	__u64 offset;         /* stream bytes framed so far (fixed-size records) */
	__u32 in_quotes;      /* CSV: quote state at offset */
	__u32 framing_lost;   /* a window passed unread: from there on everything passes */
};

#endif
