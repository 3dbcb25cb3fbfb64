/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Example user filter: keep records with at least `min_fields` fields split by `delimiter`
 * (awk: NF >= 4).
 *
 *   sluice scan --filter filters/examples/min_fields.c data.csv
 *   sluice verify filters/examples/min_fields.c
 *
 * A user filter is one C file against the ABI of <sluice/filter.h> (docs/where.md, "User C
 * filters"): a parameter struct that starts with struct sluice_param_header, the filter, and
 * optionally `sluice_defaults`, its parameter block. Loops are bounded by constants (the
 * verifier must see that they end); record bytes are read through the primitives.
 */
#include <sluice/filter.h>

#define MIN_FIELDS_MAX 64

struct min_fields_params {
	struct sluice_param_header hdr;
	sluice_u32 min_fields; /* 1..MIN_FIELDS_MAX */
	sluice_u32 delimiter;
};

const struct min_fields_params sluice_defaults = {
	.min_fields = 4,
	.delimiter = ',',
};

SLUICE_FILTER(min_fields, struct min_fields_params)
{
	sluice_u32 end = off + len, pos = off, i;

	/* n fields need n - 1 delimiters */
	for (i = 1; i < MIN_FIELDS_MAX; i++) {
		sluice_u32 d;

		if (i >= P->min_fields)
			return 1;
		d = sluice_find_byte(w, pos, end, P->delimiter);
		if (d == SLUICE_NOT_FOUND)
			return 0;
		pos = d + 1;
	}
	return 1;
}
