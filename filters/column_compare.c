/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* $column OP value over delimited text: integer, exact decimal or bytewise string. */
#include <sluice/filters/column_compare.h>

SLUICE_FILTER(column_compare, struct sluice_column_compare_params)
{
	sluice_u64 field = sluice_field(w, off, off + len, P->delimiter, P->column);
	sluice_u32 start, stop;
	int cmp;

	if (field == SLUICE_NO_FIELD)
		return 0;
	start = (sluice_u32)(field >> 32);
	stop = (sluice_u32)field;
	if (P->type == SLUICE_TYPE_INT) {
		cmp = sluice_cmp_int(w, start, stop, P->int_value);
	} else if (P->type == SLUICE_TYPE_DECIMAL) {
		SLUICE_PARAM_PTR(struct sluice_decimal, value, P->decimal_value);

		cmp = sluice_cmp_decimal(w, start, stop, value);
	} else {
		SLUICE_PARAM_PTR(struct sluice_needle, value, P->string_value);

		cmp = sluice_cmp_string(w, start, stop, value);
	}
	if (cmp == SLUICE_CMP_NAN)
		return 0;
	return sluice_op_holds(P->op, cmp);
}
