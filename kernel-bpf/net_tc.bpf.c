// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * net_tc: the TC (clsact ingress) receive program of the UDP data channel
 * (`sluice scan --remote --place tc`). Same decisions as net_xdp.bpf.c on an sk_buff:
 * TC_ACT_SHOT for a datagram without a matching record (its sequence number marked in
 * net_dropped); in trim mode the matching records are compacted with bpf_skb_store_bytes,
 * the packet is cut with bpf_skb_change_tail, IP total length and checksum are fixed and
 * the UDP checksum is zeroed. Every other packet continues untouched (TC_ACT_OK).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <sluice/filter.h>
#include "sluice_host.bpf.h"
#include SLUICE_FILTER_SOURCE
#include "net_recv.bpf.h"

#define SLUICE_TC_ACT_OK 0
#define SLUICE_TC_ACT_SHOT 2
#define SLUICE_F_RECOMPUTE_CSUM 1 /* BPF_F_RECOMPUTE_CSUM */

SEC("tc")
int sluice_net_tc(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr udp;
	struct sluice_net_hdr h;
	struct sluice_net_recv_stats *s;
	struct sluice_net_state *st;
	struct sluice_window *w;
	__u32 ihl, ip_off = SLUICE_ETH_HLEN, udp_off, payload_off, len, kept, delta, seq, skb_len;
	__u16 old_tot, new_tot, udp_len, zero = 0;
	__u8 flags;

	if (skb->protocol != bpf_htons(SLUICE_ETH_P_IP))
		return SLUICE_TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, ip_off, &ip, sizeof(ip)) != 0)
		return SLUICE_TC_ACT_OK;
	if (ip.protocol != IPPROTO_UDP || ip.ihl < 5 || (ip.frag_off & bpf_htons(0x3fff)))
		return SLUICE_TC_ACT_OK;
	ihl = (__u32)ip.ihl * 4;
	udp_off = ip_off + ihl;
	if (bpf_skb_load_bytes(skb, udp_off, &udp, sizeof(udp)) != 0 || udp.dest != bpf_htons((__u16)net_port))
		return SLUICE_TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, udp_off + SLUICE_UDP_HLEN, &h, sizeof(h)) != 0)
		return SLUICE_TC_ACT_OK;
	s = sluice_net_stats();
	st = sluice_net_state();
	w = sluice_scratch();
	if (!s || !st || !w)
		return SLUICE_TC_ACT_OK;
	len = bpf_ntohs(udp.len);
	if (len < SLUICE_UDP_HLEN + SLUICE_NET_HDR_LEN)
		return SLUICE_TC_ACT_OK;
	len -= SLUICE_UDP_HLEN + SLUICE_NET_HDR_LEN;
	if (!sluice_net_wants(&h, len, s))
		return SLUICE_TC_ACT_OK;
	seq = bpf_ntohl(h.seq);
	payload_off = udp_off + SLUICE_UDP_HLEN + SLUICE_NET_HDR_LEN;
	skb_len = skb->len;
	/* a GRO aggregate holds several datagrams behind one header: not ours to judge */
	if (skb->gso_size != 0 || payload_off + len > skb_len)
		goto pass_whole;
	sluice_barrier_var(len);
	if (len == 0 || len > SLUICE_NET_PAYLOAD_MAX || bpf_skb_load_bytes(skb, payload_off, w->b, len) != 0)
		goto pass_whole;
	switch (sluice_net_verdict(w, st, s, len, seq, net_mode == SLUICE_NET_MODE_TRIM)) {
	case SLUICE_NET_UNJUDGED:
		return SLUICE_TC_ACT_OK;
	case SLUICE_NET_DROPPED:
		return SLUICE_TC_ACT_SHOT;
	default:
		break;
	}
	kept = st->kept;
	sluice_barrier_var(kept);
	if (net_mode != SLUICE_NET_MODE_TRIM || kept >= len || kept == 0 || kept > SLUICE_NET_PAYLOAD_MAX) {
		s->bytes_out += len;
		return SLUICE_TC_ACT_OK;
	}
	if (bpf_skb_store_bytes(skb, payload_off, w->b, kept, SLUICE_F_RECOMPUTE_CSUM) != 0) {
		s->errors++;
		goto pass_whole;
	}
	delta = len - kept;
	old_tot = ip.tot_len;
	new_tot = bpf_htons(bpf_ntohs(old_tot) - (__u16)delta);
	udp_len = bpf_htons(bpf_ntohs(udp.len) - (__u16)delta);
	flags = h.flags | SLUICE_NET_TRIMMED;
	/* From here the payload is rewritten: a failure leaves records the client re-judges,
	 * never a wrong length (lengths change last, with the cut). */
	if (bpf_l3_csum_replace(skb, ip_off + __builtin_offsetof(struct iphdr, check), old_tot, new_tot, 2) != 0 ||
	    bpf_skb_store_bytes(skb, ip_off + __builtin_offsetof(struct iphdr, tot_len), &new_tot, 2,
				SLUICE_F_RECOMPUTE_CSUM) != 0 ||
	    bpf_skb_store_bytes(skb, udp_off + __builtin_offsetof(struct udphdr, len), &udp_len, 2,
				SLUICE_F_RECOMPUTE_CSUM) != 0 ||
	    bpf_skb_store_bytes(skb, udp_off + __builtin_offsetof(struct udphdr, check), &zero, 2,
				SLUICE_F_RECOMPUTE_CSUM) != 0 ||
	    bpf_skb_store_bytes(skb, udp_off + SLUICE_UDP_HLEN + __builtin_offsetof(struct sluice_net_hdr, flags),
				&flags, 1, SLUICE_F_RECOMPUTE_CSUM) != 0) {
		s->errors++;
		return SLUICE_TC_ACT_SHOT; /* half-rewritten: the client re-requests it as a loss */
	}
	if (bpf_skb_change_tail(skb, payload_off + kept, 0) != 0)
		s->errors++; /* the IP layer trims to the new total length anyway */
	s->trimmed++;
	s->bytes_out += kept;
	return SLUICE_TC_ACT_OK;

pass_whole:
	sluice_net_pass_unjudged(s, len);
	return SLUICE_TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
