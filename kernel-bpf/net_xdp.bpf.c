// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * net_xdp: the XDP receive program of the UDP data channel (`sluice scan --remote --place xdp`).
 * Attached to the client's interface (native, or generic as a fallback), it looks only at
 * IPv4 UDP datagrams to the flow's port with the flow's file id, and judges their records
 * with the filter built in (-DSLUICE_FILTER_SOURCE):
 *   - no record matches: XDP_DROP, and the sequence number is marked in net_dropped so the
 *     client does not mistake it for a loss;
 *   - mode trim: the matching records are compacted at the front of the payload, the frame
 *     is shortened with bpf_xdp_adjust_tail, IP total length and checksum are fixed and the
 *     UDP checksum is zeroed (valid for IPv4: "no checksum");
 *   - otherwise XDP_PASS, untouched.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <sluice/filter.h>
#include "sluice_host.bpf.h"
#include SLUICE_FILTER_SOURCE
#include "net_recv.bpf.h"

SEC("xdp.frags")
int sluice_net_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	struct sluice_net_hdr *h;
	struct sluice_net_recv_stats *s;
	struct sluice_net_state *st;
	struct sluice_window *w;
	__u32 ihl, payload_off, len, kept, frame_len, delta, seq;
	__u16 old_tot, new_tot;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(SLUICE_ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl < 5)
		return XDP_PASS;
	if (ip->frag_off & bpf_htons(0x3fff))
		return XDP_PASS; /* an IP fragment: its records cannot be seen whole */
	ihl = (__u32)ip->ihl * 4;
	udp = (void *)ip + ihl;
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons((__u16)net_port))
		return XDP_PASS;
	h = (void *)(udp + 1);
	if ((void *)(h + 1) > data_end)
		return XDP_PASS;
	s = sluice_net_stats();
	st = sluice_net_state();
	w = sluice_scratch();
	if (!s || !st || !w)
		return XDP_PASS;
	len = bpf_ntohs(udp->len);
	if (len < SLUICE_UDP_HLEN + SLUICE_NET_HDR_LEN)
		return XDP_PASS;
	len -= SLUICE_UDP_HLEN + SLUICE_NET_HDR_LEN;
	if (!sluice_net_wants(h, len, s))
		return XDP_PASS;
	seq = bpf_ntohl(h->seq);
	payload_off = SLUICE_ETH_HLEN + ihl + SLUICE_UDP_HLEN + SLUICE_NET_HDR_LEN;
	frame_len = bpf_xdp_get_buff_len(ctx);
	if (payload_off + len > frame_len)
		goto pass_whole;
	sluice_barrier_var(len);
	if (len == 0 || len > SLUICE_NET_PAYLOAD_MAX || bpf_xdp_load_bytes(ctx, payload_off, w->b, len) != 0)
		goto pass_whole;
	switch (sluice_net_verdict(w, st, s, len, seq, net_mode == SLUICE_NET_MODE_TRIM)) {
	case SLUICE_NET_UNJUDGED:
		return XDP_PASS;
	case SLUICE_NET_DROPPED:
		return XDP_DROP;
	default:
		break;
	}
	kept = st->kept;
	sluice_barrier_var(kept);
	if (net_mode != SLUICE_NET_MODE_TRIM || kept >= len || kept == 0 || kept > SLUICE_NET_PAYLOAD_MAX) {
		s->bytes_out += len;
		return XDP_PASS;
	}
	if (bpf_xdp_store_bytes(ctx, payload_off, w->b, kept) != 0) {
		/* nothing was written: let the datagram through whole */
		s->errors++;
		goto pass_whole;
	}
	/* the headers, again through fresh packet pointers */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	udp = (void *)ip + ihl;
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	h = (void *)(udp + 1);
	if ((void *)(h + 1) > data_end)
		return XDP_PASS;
	delta = len - kept;
	old_tot = ip->tot_len;
	new_tot = bpf_htons(bpf_ntohs(old_tot) - (__u16)delta);
	ip->tot_len = new_tot;
	ip->check = sluice_csum_replace16(ip->check, old_tot, new_tot);
	udp->len = bpf_htons(bpf_ntohs(udp->len) - (__u16)delta);
	udp->check = 0;
	h->flags |= SLUICE_NET_TRIMMED;
	/* Even if shortening the frame failed, the IP stack trims it to the new total length. */
	if (frame_len > payload_off + kept && bpf_xdp_adjust_tail(ctx, -(int)(frame_len - (payload_off + kept))) != 0)
		s->errors++;
	s->trimmed++;
	s->bytes_out += kept;
	return XDP_PASS;

pass_whole:
	sluice_net_pass_unjudged(s, len);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
