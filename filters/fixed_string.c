/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* grep -F: keep records containing any of the patterns (or none of them, inverted). */
#include <sluice/filters/fixed_string.h>

SLUICE_FILTER(fixed_string, struct sluice_fixed_string_params)
{
	sluice_u32 end = off + len, i, found = 0;

	for (i = 0; i < SLUICE_PATTERNS_MAX; i++) {
		if (i >= P->npatterns)
			break;
		{
			SLUICE_PARAM_PTR(struct sluice_needle, needle, P->patterns[i]);

			if (sluice_find_needle(w, off, end, needle, P->icase) != SLUICE_NOT_FOUND) {
				found = 1;
				break;
			}
		}
	}
	return found != P->invert;
}
