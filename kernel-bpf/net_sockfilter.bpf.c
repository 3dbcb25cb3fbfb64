// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * net_sockfilter: the socket-filter receive program of the UDP data channel
 * (`sluice scan --remote --place sockfilter`), attached with SO_ATTACH_BPF to the client's
 * UDP socket (so it sees only that flow). A socket filter sees the datagram from the UDP
 * header on and returns how many bytes to keep; it cannot write packet data. So:
 *   - no record matches: return 0 (drop), the sequence number marked in net_dropped;
 *   - mode trim: keep the prefix up to the end of the last matching record (records before
 *     it that do not match still arrive; the client re-judges every record it receives);
 *   - otherwise the whole datagram.
 * UDP verifies the checksum before it runs a socket filter, so cutting the tail is safe.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <sluice/filter.h>
#include "sluice_host.bpf.h"
#include SLUICE_FILTER_SOURCE
#include "net_recv.bpf.h"

SEC("socket")
int sluice_net_sockfilter(struct __sk_buff *skb)
{
	struct sluice_net_hdr h;
	struct sluice_net_recv_stats *s = sluice_net_stats();
	struct sluice_net_state *st = sluice_net_state();
	struct sluice_window *w = sluice_scratch();
	__u32 skb_len = skb->len, head = SLUICE_UDP_HLEN + SLUICE_NET_HDR_LEN, len, seq;

	if (!s || !st || !w || skb_len < head)
		return skb_len;
	if (bpf_skb_load_bytes(skb, SLUICE_UDP_HLEN, &h, sizeof(h)) != 0)
		return skb_len;
	len = skb_len - head;
	if (!sluice_net_wants(&h, len, s))
		return skb_len;
	seq = bpf_ntohl(h.seq);
	sluice_barrier_var(len);
	if (len == 0 || len > SLUICE_NET_PAYLOAD_MAX || bpf_skb_load_bytes(skb, head, w->b, len) != 0)
		goto pass_whole;
	switch (sluice_net_verdict(w, st, s, len, seq, 0)) {
	case SLUICE_NET_UNJUDGED:
		return skb_len;
	case SLUICE_NET_DROPPED:
		return 0;
	default:
		break;
	}
	if (net_mode == SLUICE_NET_MODE_TRIM && st->last_end < len) {
		s->trimmed++;
		s->bytes_out += st->last_end;
		return head + st->last_end;
	}
	s->bytes_out += len;
	return skb_len;

pass_whole:
	sluice_net_pass_unjudged(s, len);
	return skb_len;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
