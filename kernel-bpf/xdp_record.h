/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared by xdp_record.bpf.c and its user-space runner: the layout of a test packet. */
#ifndef SLUICE_XDP_RECORD_H
#define SLUICE_XDP_RECORD_H

/* BPF_PROG_TEST_RUN wants at least an Ethernet header's worth of data: the record
 * follows this many bytes of padding. */
#define SLUICE_XDP_RECORD_OFFSET 14u

/* Verdicts the program returns (XDP_PASS keeps, XDP_DROP drops, anything else is an
 * error of the host itself). */
#define SLUICE_XDP_KEEP 2   /* XDP_PASS */
#define SLUICE_XDP_DROP 1   /* XDP_DROP */

#endif
