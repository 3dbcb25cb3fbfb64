// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sk_msg_filter: filters file data on its way through a sockmap'd TCP socket.
 *
 * The sockmap backend feeds a file into the sender socket with sendfile()/splice(); this
 * program runs on each message (or window of it), judges newline-separated records with
 * the filter built in (-DSLUICE_FILTER_SOURCE), compacts the kept records at the front of
 * the window, removes the rest with ONE bpf_msg_pop_data, and redirects the kept bytes to
 * the receiver socket's ingress queue (or, with sluice_pass_to_peer, lets them continue on
 * the sender's own connection: `sluice serve --place server`). The first and the last
 * (partial) record of each window cannot be judged here; they pass and user space judges them.
 *
 * Kernel bugs designed around (kernel field notes, Linux 6.18):
 *  A: apply_bytes is sticky across re-runs of one message: set it on every run, 0 when the
 *     run wants no limit.
 *  B: ingress redirect + apply_bytes + 15 or more pops loses data silently: one pop per window.
 *  SK_DROP fails the sender with EACCES: never drop, only pop.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <sluice/filter.h>
#include "sluice_host.bpf.h"
#include "sk_msg_filter.h"
#include SLUICE_FILTER_SOURCE
#include "aggregate.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sock_in SEC(".maps"); /* the sender; this program is attached here */

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sock_out SEC(".maps"); /* the receiver, whose ingress queue gets the kept bytes */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_sk_msg_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_window_state);
} window_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sluice_stream_state);
} stream_state SEC(".maps");

/* Test knobs, 1 in production: a regression test turns one off to show the kernel bug it
 * avoids is still there. */
const volatile __u32 sluice_reset_apply_bytes = 1; /* bug A */
/* Count every record of each window (a SWAR pass) even where literal-first skips them. */
const volatile __u32 sluice_count_records = 0;
/* Placement "server" of `sluice serve`: the sender is a connection to a remote client, and the
 * kept bytes continue on that connection (SK_PASS) instead of being redirected to a local
 * receiver. 0 (the local sockmap backend): redirect to sock_out's ingress queue. */
const volatile __u32 sluice_pass_to_peer = 0;

/* Where the kept bytes of a window go. */
static __always_inline int sluice_deliver(struct sk_msg_md *msg)
{
	if (sluice_pass_to_peer)
		return SK_PASS;
	return bpf_msg_redirect_map(msg, &sock_out, 0, BPF_F_INGRESS);
}

/* Moves [start, stop) down to the end of the kept bytes. */
static __always_inline void sluice_keep_bytes(struct sluice_window *w, struct sluice_window_state *st,
					      __u32 start, __u32 stop)
{
	__u32 len = stop - start;

	if (st->kept != start) {
		if (st->first_gap > st->kept)
			st->first_gap = st->kept;
		sluice_move_down(w, st->kept, start, len);
	}
	st->kept += len;
}

static __always_inline void sluice_keep_record(struct sluice_window *w, struct sluice_window_state *st,
					       __u32 start, __u32 stop)
{
	if (sluice_aggregated(w, start, stop))
		return; /* aggregated in the kernel: nothing to deliver */
	sluice_keep_bytes(w, st, start, stop);
	st->kept_records++;
	st->kept_record_bytes += stop - start;
}

/* Judges the complete records of the window (see SLUICE_DEFINE_JUDGE_RECORDS). */
SLUICE_DEFINE_JUDGE_RECORDS(sluice_judge_records, struct sluice_window_state, sluice_keep_record)

/* The window's last bytes [from, len) may continue in the next window: they pass. */
static __always_inline void sluice_keep_tail(struct sluice_window *w, struct sluice_window_state *st,
					     __u32 from, __u32 len)
{
	if (from < len)
		sluice_keep_bytes(w, st, from, len);
}

/* Lines framing of [0, len): the records between the first and the last newline are judged,
 * the partial first and last pass. */
static __always_inline __u32 sluice_frame_lines(struct sluice_window *w, struct sluice_window_state *st, __u32 len)
{
	__u32 first_nl, last_nl;

	first_nl = sluice_find_byte(w, 0, len, '\n');
	if (first_nl == SLUICE_NOT_FOUND) {
		st->kept = len; /* one partial record: user space judges it */
		return len;
	}
	last_nl = sluice_rfind_byte(w, first_nl, len, '\n');
	if (last_nl == SLUICE_NOT_FOUND)
		last_nl = first_nl;
	/* the first record may have begun in an earlier window: pass it */
	st->pos = first_nl + 1;
	st->kept = first_nl + 1;
	st->end = last_nl + 1;
	/* A drop-all filter (calibration) needs no judging: its time is the framing and the
	 * transport. (Popping a whole window instead makes recv() fail with EFAULT here.) */
	if (sluice_params.hdr.constant != SLUICE_VERDICT_DROP_ALL)
		sluice_judge_records(w, st);
	sluice_keep_tail(w, st, last_nl + 1, len);
	return st->kept;
}

/* CSV framing of [st->pos, st->end): line by line, with the quote state in st. A line that
 * starts outside quotes and holds an even number of quotes is a whole single-line record and
 * is judged; a record spanning lines (or begun in an earlier window: st->open on entry)
 * passes whole, for user space to judge. */
__attribute__((noinline)) int sluice_judge_csv_records(struct sluice_window *w, struct sluice_window_state *st)
{
	int k;

	if (!w || !st)
		return 0;
	sluice_for(k, 0, (int)SLUICE_WINDOW_SIZE) {
		__u32 pos = st->pos, end = st->end, nl, odd;

		if (pos >= end)
			break;
		nl = sluice_find_byte(w, pos, end, '\n');
		if (nl == SLUICE_NOT_FOUND)
			break;
		odd = sluice_count_byte(w, pos, nl, '"') & 1;
		st->in_quotes ^= odd;
		if (st->open) {
			if (!st->in_quotes) { /* the record that passes whole ends here */
				sluice_keep_bytes(w, st, st->open_start, nl + 1);
				st->open = 0;
			}
		} else if (odd) {
			st->open = 1;
			st->open_start = pos;
		} else {
			st->judged++;
			if (sluice_filter_run(w, pos, nl - pos))
				sluice_keep_record(w, st, pos, nl + 1);
		}
		st->pos = nl + 1;
	}
	return 0;
}

static __always_inline __u32 sluice_frame_csv(struct sluice_window *w, struct sluice_window_state *st, __u32 len,
					      struct sluice_stream_state *ss)
{
	__u32 quotes, odd;

	if (ss->framing_lost) {
		st->kept = len;
		return len;
	}
	quotes = sluice_count_byte(w, 0, len, '"');
	odd = quotes & 1;
	if (quotes == 0 && !ss->in_quotes)
		return sluice_frame_lines(w, st, len); /* no quote anywhere near: plain lines */
	/* The first line may end a record begun in an earlier window: it passes, like every line
	 * up to the first newline outside quotes. */
	st->in_quotes = ss->in_quotes;
	st->open = 1;
	st->open_start = 0;
	st->pos = 0;
	st->kept = 0;
	st->end = len;
	ss->in_quotes ^= odd;
	sluice_judge_csv_records(w, st);
	sluice_keep_tail(w, st, st->open ? st->open_start : st->pos, len);
	return st->kept;
}

/* Fixed-size framing: the records wholly inside the window are judged; the partial first
 * and last pass. */
__attribute__((noinline)) int sluice_judge_fixed_records(struct sluice_window *w, struct sluice_window_state *st)
{
	__u32 size = sluice_params.hdr.record_size;
	int k;

	if (!w || !st || size == 0 || size > SLUICE_WINDOW_SIZE)
		return 0;
	sluice_for(k, 0, (int)SLUICE_WINDOW_SIZE) {
		__u32 pos = st->pos, end = st->end;

		if (pos >= end || end - pos < size)
			break;
		st->judged++;
		if (sluice_filter_run(w, pos, size))
			sluice_keep_record(w, st, pos, pos + size);
		st->pos = pos + size;
	}
	return 0;
}

static __always_inline __u32 sluice_frame_fixed(struct sluice_window *w, struct sluice_window_state *st, __u32 len,
						struct sluice_stream_state *ss)
{
	__u32 size = sluice_params.hdr.record_size, first;

	if (size == 0 || ss->framing_lost) {
		st->kept = len;
		return len;
	}
	first = (__u32)((size - ss->offset % size) % size);
	ss->offset += len;
	/* Records aggregated here are not delivered, and a window that delivers nothing makes
	 * recv() fail with EFAULT: the first record passes for user space to judge. */
	if (first == 0 && sluice_aggregate.enabled)
		first = size;
	if (first >= len) {
		st->kept = len;
		return len;
	}
	st->pos = first;
	st->kept = first;
	st->end = len;
	sluice_judge_fixed_records(w, st);
	sluice_keep_tail(w, st, st->pos, len);
	return st->kept;
}

/* Frames the window [0, len) by the filter's framing and judges what can be judged; returns
 * the kept length. Layout after: [first partial record][kept records][last partial record]. */
__attribute__((noinline)) __u32 sluice_filter_window(struct sluice_window *w, struct sluice_window_state *st,
						     __u32 len, struct sluice_stream_state *ss)
{
	if (!w || !st || len > SLUICE_WINDOW_SIZE)
		return len;
	st->first_gap = len;
	st->judged = 0;
	st->kept_records = 0;
	st->kept_record_bytes = 0;
	if (sluice_params.hdr.framing == SLUICE_FRAMING_LINES)
		return sluice_frame_lines(w, st, len);
	if (!ss) {
		st->kept = len;
		return len;
	}
	if (sluice_params.hdr.framing == SLUICE_FRAMING_CSV)
		return sluice_frame_csv(w, st, len, ss);
	return sluice_frame_fixed(w, st, len, ss);
}

/* A window passed without being read: the stream's framing state must still follow it. */
static __always_inline void sluice_stream_skipped(struct sluice_stream_state *ss, __u32 len)
{
	if (!ss)
		return;
	ss->offset += len;
	ss->framing_lost = 1;
}

SEC("sk_msg")
int sluice_sk_msg(struct sk_msg_md *msg)
{
	__u32 zero = 0;
	struct sluice_window *w = sluice_scratch();
	struct sluice_window_state *st = bpf_map_lookup_elem(&window_state, &zero);
	struct sluice_sk_msg_stats *s = bpf_map_lookup_elem(&stats, &zero);
	struct sluice_stream_state *ss = 0;
	__u32 size = msg->size;
	__u32 window, kept, first_gap, nwords, j, limit;
	void *data, *data_end;
	int i;

	if (!w || !st || !s)
		return SK_PASS; /* cannot happen: the maps are arrays */
	window = size > SLUICE_SK_MSG_WINDOW_MAX ? SLUICE_SK_MSG_WINDOW_MAX : size;
	/* CSV and fixed-size framing carry state from window to window. Without it (no memory)
	 * the whole stream passes unjudged: user space judges it all. */
	if (sluice_params.hdr.framing != SLUICE_FRAMING_LINES) {
		struct bpf_sock *sk = msg->sk;

		if (sk)
			ss = bpf_sk_storage_get(&stream_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!ss)
			goto pass_whole;
	}
	s->runs++;
	s->bytes_in += window;
	if (window == 0)
		goto pass_whole;
	if (sluice_params.hdr.constant == SLUICE_VERDICT_KEEP_ALL && !sluice_aggregate.enabled) {
		/* nothing to judge: the bare transport (what calibration measures) */
		sluice_stream_skipped(ss, window);
		s->bytes_kept += window;
		limit = window < size ? window : 0;
		if (limit || sluice_reset_apply_bytes)
			bpf_msg_apply_bytes(msg, limit);
		return sluice_deliver(msg);
	}
	if (bpf_msg_pull_data(msg, 0, window, 0) != 0)
		goto pass_whole;
	data = (void *)(long)msg->data;
	data_end = (void *)(long)msg->data_end;
	if (data + window > data_end)
		goto pass_whole;
	if (bpf_probe_read_kernel(w->b, window, data) != 0)
		goto pass_whole;

	/* before compaction rewrites the window */
	if (sluice_count_records)
		s->newlines += sluice_count_byte(w, 0, window, '\n');
	kept = sluice_filter_window(w, st, window, ss);
	if (kept > window)
		goto pass_whole;
	s->records_judged += st->judged;
	s->records_kept += st->kept_records;

	/* Rewrite the packet from the first moved byte on. */
	first_gap = st->first_gap;
	if (first_gap < kept) {
		data = (void *)(long)msg->data;
		data_end = (void *)(long)msg->data_end;
		nwords = (kept - first_gap) / 8;
		sluice_for(i, 0, (int)nwords) {
			__u32 off = first_gap + (__u32)i * 8;
			__u8 *p;

			if (off > SLUICE_SK_MSG_WINDOW_MAX - 8)
				break;
			p = data + off;
			if ((void *)(p + 8) > data_end)
				break;
			*(__u64 *)p = *(__u64 *)&w->b[off & SLUICE_ACCESS_MASK];
		}
		for (j = 0; j < 8; j++) {
			__u32 off = first_gap + nwords * 8 + j;
			__u8 *p;

			if (off >= kept || off > SLUICE_SK_MSG_WINDOW_MAX - 1)
				break;
			p = data + off;
			if ((void *)(p + 1) > data_end)
				break;
			*p = w->b[off & SLUICE_ACCESS_MASK];
		}
	}
	if (kept < window && bpf_msg_pop_data(msg, kept, window - kept, 0) != 0) {
		/* the window was rewritten but not shortened: user space must fail the scan */
		s->errors++;
		kept = window;
	}
	s->bytes_kept += kept;
	s->boundary_bytes += kept - st->kept_record_bytes;
	/* Bug A: a limit from an earlier run of this message sticks unless reset. */
	limit = window < size ? kept : 0;
	if (limit || sluice_reset_apply_bytes)
		bpf_msg_apply_bytes(msg, limit);
	return sluice_deliver(msg);

pass_whole:
	sluice_stream_skipped(ss, window);
	s->passed_unfiltered++;
	s->bytes_kept += window;
	s->boundary_bytes += window;
	limit = window < size ? window : 0;
	if (limit || sluice_reset_apply_bytes)
		bpf_msg_apply_bytes(msg, limit);
	return sluice_deliver(msg);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
