// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xdp_record: the smallest host of a filter. One packet carries one record after
 * SLUICE_XDP_RECORD_OFFSET bytes of padding; the program copies the record into the
 * per-CPU scratch window and returns the filter's verdict. Used with BPF_PROG_TEST_RUN
 * to prove that a filter's BPF build decides exactly like its native build, and to
 * measure filter speed inside the kernel.
 *
 * Built once per filter: -DSLUICE_FILTER_SOURCE="<filters/x.c>".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <sluice/filter.h>
#include "sluice_host.bpf.h"
#include "xdp_record.h"
#include SLUICE_FILTER_SOURCE

SEC("xdp.frags")
int sluice_xdp_record(struct xdp_md *ctx)
{
	struct sluice_window *w = sluice_scratch();
	__u32 total = bpf_xdp_get_buff_len(ctx);
	__u32 len;

	if (!w || total < SLUICE_XDP_RECORD_OFFSET)
		return XDP_ABORTED;
	len = total - SLUICE_XDP_RECORD_OFFSET;
	if (len > SLUICE_WINDOW_SIZE)
		return XDP_ABORTED;
	if (len > 0 && bpf_xdp_load_bytes(ctx, SLUICE_XDP_RECORD_OFFSET, w->b, len) != 0)
		return XDP_ABORTED;
	return sluice_filter_run(w, 0, len) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
