/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the three receive programs of the UDP data channel share (net_xdp.bpf.c,
 * net_tc.bpf.c, net_sockfilter.bpf.c): the flow's load-time constants, the maps the client
 * reads, and judging the whole records of one datagram's payload in the scratch window.
 *
 * Include after vmlinux.h, bpf_helpers.h, <sluice/filter.h>, sluice_host.bpf.h and the
 * filter source.
 */
#ifndef SLUICE_NET_RECV_BPF_H
#define SLUICE_NET_RECV_BPF_H

#include "net_proto.h"

#define SLUICE_ETH_P_IP 0x0800
#define SLUICE_ETH_HLEN 14u
#define SLUICE_UDP_HLEN 8u
#define SLUICE_NET_HDR_LEN ((__u32)sizeof(struct sluice_net_hdr))
/* Largest payload a receive program judges (larger ones pass unjudged). */
#define SLUICE_NET_PAYLOAD_MAX 65000u

/* Makes clang forget what it knows of v here, so a range check that follows is done on the
 * very register later uses read (otherwise it may check a copy: kernel field notes). */
#define sluice_barrier_var(v) asm volatile("" : "+r"(v))

/* The flow, set by the client before load. */
const volatile __u32 net_port = 0;     /* UDP destination port, host byte order */
const volatile __u32 net_file_id = 0;  /* host byte order */
const volatile __u32 net_mode = SLUICE_NET_MODE_DROP;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_net_recv_stats);
} net_stats SEC(".maps");

/* Sequence numbers dropped for having no matching record (see net_proto.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SLUICE_NET_DROP_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} net_dropped SEC(".maps");

/* Scan state in map memory, so the record loop's position is not a precise loop-carried
 * register (the open-coded iterator then converges; see the kernel field notes). */
struct sluice_net_state {
	__u32 pos;          /* next byte to judge */
	__u32 end;          /* payload length (the last byte is '\n') */
	__u32 kept;         /* bytes of kept records (compacted at the front when compact) */
	__u32 last_end;     /* one past the last kept record, in the original layout */
	__u32 compact;      /* 1: move kept records to the front of the window */
	__u32 judged;
	__u32 kept_records;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_net_state);
} net_state SEC(".maps");

static __always_inline void sluice_net_keep(struct sluice_window *w, struct sluice_net_state *st, __u32 start,
					    __u32 stop)
{
	__u32 len = stop - start;

	if (st->compact && st->kept != start)
		sluice_move_down(w, st->kept, start, len);
	st->kept += len;
	st->last_end = stop;
	st->kept_records++;
}

/* Judges the complete records of the window (see SLUICE_DEFINE_JUDGE_RECORDS). */
SLUICE_DEFINE_JUDGE_RECORDS(sluice_net_judge, struct sluice_net_state, sluice_net_keep)

static __always_inline struct sluice_net_recv_stats *sluice_net_stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&net_stats, &zero);
}

static __always_inline struct sluice_net_state *sluice_net_state(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&net_state, &zero);
}

/* Counts a datagram of the flow that passes unjudged (it could not be loaded or framed). */
static __always_inline void sluice_net_pass_unjudged(struct sluice_net_recv_stats *s, __u32 len)
{
	s->passed_unjudged++;
	s->bytes_out += len;
}

/* 1 when a datagram of this flow (header `h`, payload of `len` bytes) is to be judged; 0
 * when it passes as it is (another flow's, a fragment, a retransmission, ...). Counts it. */
static __always_inline int sluice_net_wants(const struct sluice_net_hdr *h, __u32 len,
					    struct sluice_net_recv_stats *s)
{
	if (h->magic != bpf_htons(SLUICE_NET_MAGIC) || h->version != SLUICE_NET_VERSION ||
	    h->file_id != bpf_htonl(net_file_id))
		return 0;
	s->datagrams++;
	s->bytes_in += len;
	if ((h->flags & (SLUICE_NET_FRAG | SLUICE_NET_RETRANSMIT)) || len == 0 || len > SLUICE_NET_PAYLOAD_MAX ||
	    sluice_params.hdr.constant == SLUICE_VERDICT_KEEP_ALL) {
		sluice_net_pass_unjudged(s, len);
		return 0;
	}
	return 1;
}

/* Records that sequence number `seq` was dropped by the filter (not lost). */
static __always_inline void sluice_net_mark_dropped(__u32 seq)
{
	__u32 word = (seq / 64) % SLUICE_NET_DROP_WORDS;
	__u64 *p = bpf_map_lookup_elem(&net_dropped, &word);

	if (p)
		__sync_fetch_and_or(p, 1ull << (seq % 64));
}

/* What a receive program does with a datagram whose payload is in w[0, len). */
enum sluice_net_verdict {
	SLUICE_NET_UNJUDGED, /* pass it whole (counted): it does not end with '\n' */
	SLUICE_NET_DROPPED,  /* no record matched: drop it (counted, marked in net_dropped) */
	SLUICE_NET_KEPT,     /* some records matched; with `compact` they are at w[0, st->kept) */
};

/* Judges the payload of datagram `seq` and counts the outcome. */
static __always_inline enum sluice_net_verdict sluice_net_verdict(struct sluice_window *w, struct sluice_net_state *st,
								  struct sluice_net_recv_stats *s, __u32 len,
								  __u32 seq, __u32 compact)
{
	if (len == 0 || len > SLUICE_NET_PAYLOAD_MAX || SLUICE_BYTE(w, len - 1) != '\n') {
		sluice_net_pass_unjudged(s, len);
		return SLUICE_NET_UNJUDGED;
	}
	st->pos = 0;
	st->end = len;
	st->kept = 0;
	st->last_end = 0;
	st->compact = compact;
	st->judged = 0;
	st->kept_records = 0;
	if (sluice_params.hdr.constant != SLUICE_VERDICT_DROP_ALL)
		sluice_net_judge(w, st);
	s->records_judged += st->judged;
	s->records_kept += st->kept_records;
	if (st->kept_records == 0) {
		sluice_net_mark_dropped(seq);
		s->dropped++;
		return SLUICE_NET_DROPPED;
	}
	return SLUICE_NET_KEPT;
}

/* The one's complement checksum `check` after a 16-bit field changed from `from` to `to`
 * (RFC 1624, eq. 3; byte order independent). */
static __always_inline __u16 sluice_csum_replace16(__u16 check, __u16 from, __u16 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from;
	sum += to;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

#endif /* SLUICE_NET_RECV_BPF_H */
