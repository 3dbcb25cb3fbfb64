/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Parameters of the delimited-column comparison filter ($N OP value). */
#ifndef SLUICE_FILTERS_COLUMN_COMPARE_H
#define SLUICE_FILTERS_COLUMN_COMPARE_H

#include <sluice/filter.h>

struct sluice_column_compare_params {
	struct sluice_param_header hdr;
	sluice_u32 column;      /* 1-based */
	sluice_u32 delimiter;   /* one byte */
	sluice_u32 op;          /* enum sluice_cmp_op */
	sluice_u32 type;        /* enum sluice_value_type */
	sluice_s64 int_value;
	struct sluice_decimal decimal_value;
	struct sluice_needle string_value;
};

#endif
