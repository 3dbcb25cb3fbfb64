/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The UDP data channel of `sluice serve` (docs/network.md), shared by the receive programs
 * (net_xdp.bpf.c, net_tc.bpf.c, net_sockfilter.bpf.c) and libsluice's server and client.
 *
 * A datagram is this header followed by a payload of either
 *   - whole records, each ending with '\n' (never split: the receive program judges each), or
 *   - (SLUICE_NET_FRAG) one piece of one record longer than a datagram's payload; the pieces
 *     of a record travel in consecutive sequence numbers, the last piece ends with its '\n'.
 * The server appends a '\n' to a last record that has none, so every record ends with one.
 * All multi-byte fields are in network byte order.
 */
#ifndef SLUICE_NET_PROTO_H
#define SLUICE_NET_PROTO_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define SLUICE_NET_MAGIC 0x534cu /* "SL" */
#define SLUICE_NET_VERSION 1u

/* flags */
#define SLUICE_NET_FRAG 0x01u       /* a piece of one long record: never judged, never dropped */
#define SLUICE_NET_RETRANSMIT 0x02u /* sent again after a NACK: receive programs pass it whole */
#define SLUICE_NET_TRIMMED 0x04u    /* set by a receive program that removed records */

struct sluice_net_hdr {
	__u16 magic;   /* SLUICE_NET_MAGIC */
	__u8 version;  /* SLUICE_NET_VERSION */
	__u8 flags;
	__u32 file_id; /* the transfer this datagram belongs to (chosen by the server) */
	__u32 seq;     /* datagram sequence number, from 0, consecutive */
	__u32 reserved;
};

/* Datagrams the client's receive program dropped because none of their records matched: one
 * bit per sequence number, in a ring of SLUICE_NET_DROP_BITS bits (a BPF_F_MMAPABLE array the
 * client reads in place). The flow-control window is at most half the ring, and the client
 * clears the bits of a range of sequence numbers before it lets the server send them. */
#define SLUICE_NET_DROP_WORDS 65536u
#define SLUICE_NET_DROP_BITS (SLUICE_NET_DROP_WORDS * 64u)
#define SLUICE_NET_WINDOW_MAX (SLUICE_NET_DROP_BITS / 2u)

/* Receive-program counters, one set per CPU, summed by the client. */
struct sluice_net_recv_stats {
	__u64 datagrams;         /* datagrams of the flow seen */
	__u64 bytes_in;          /* their payload bytes (after the sluice header) */
	__u64 bytes_out;         /* payload bytes let through to the socket */
	__u64 dropped;           /* datagrams dropped (no record matched) */
	__u64 trimmed;           /* datagrams shortened (trim mode) */
	__u64 passed_unjudged;   /* fragments, retransmissions, unjudgeable datagrams */
	__u64 records_judged;
	__u64 records_kept;
	__u64 errors;            /* a helper failed: the datagram passed whole */
};

/* Receive modes (the `net_trim` knob). */
#define SLUICE_NET_MODE_DROP 0u
#define SLUICE_NET_MODE_TRIM 1u

#endif
