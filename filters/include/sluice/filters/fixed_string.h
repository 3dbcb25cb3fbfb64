/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Parameters of the fixed-string filter (grep -F semantics), seen by the filter and by
 * the user-space configurator. */
#ifndef SLUICE_FILTERS_FIXED_STRING_H
#define SLUICE_FILTERS_FIXED_STRING_H

#include <sluice/filter.h>

struct sluice_fixed_string_params {
	struct sluice_param_header hdr;
	sluice_u32 npatterns;   /* 1..SLUICE_PATTERNS_MAX */
	sluice_u32 icase;       /* ASCII case-insensitive; patterns are stored lowercased */
	sluice_u32 invert;      /* keep records that match none of the patterns */
	sluice_u32 reserved;
	struct sluice_needle patterns[SLUICE_PATTERNS_MAX];
};

#endif
