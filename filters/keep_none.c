/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Calibration: drops every record (measures the cost of reading and framing alone). */
#include <sluice/filters/constant.h>

SLUICE_FILTER(keep_none, struct sluice_constant_params)
{
	(void)P; (void)w; (void)off; (void)len;
	return 0;
}
