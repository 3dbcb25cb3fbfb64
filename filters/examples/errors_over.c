/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Example user filter: keep records that contain "ERROR" and whose third field is an
 * integer above 500 (awk: index($0, "ERROR") && $3 + 0 > 500, for numeric $3).
 *
 * It declares "ERROR" as its required literal in sluice_defaults: every record it keeps
 * contains it, so hosts search whole windows for "ERROR" first and judge only the records
 * around hits. A string the filter passes to a primitive lives in the parameter block and is
 * reached through SLUICE_PARAM_PTR (on BPF, primitives take pointers to writable memory).
 */
#include <sluice/filter.h>

struct errors_over_params {
	struct sluice_param_header hdr;
	sluice_s64 threshold;
};

const struct errors_over_params sluice_defaults = {
	.hdr = { .required_literal = { .len = 5, .bytes = "ERROR" } },
	.threshold = 500,
};

SLUICE_FILTER(errors_over, struct errors_over_params)
{
	sluice_u32 end = off + len;
	sluice_u64 f;
	int cmp;
	SLUICE_PARAM_PTR(struct sluice_needle, error, P->hdr.required_literal);

	if (sluice_find_needle(w, off, end, error, 0) == SLUICE_NOT_FOUND)
		return 0;
	f = sluice_field(w, off, end, ',', 3);
	if (f == SLUICE_NO_FIELD)
		return 0;
	cmp = sluice_cmp_int(w, (sluice_u32)(f >> 32), (sluice_u32)f, P->threshold);
	return cmp != SLUICE_CMP_NAN && cmp > 0;
}
