/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Parameters of the calibration filters keep_all and keep_none: only the header. */
#ifndef SLUICE_FILTERS_CONSTANT_H
#define SLUICE_FILTERS_CONSTANT_H

#include <sluice/filter.h>

struct sluice_constant_params {
	struct sluice_param_header hdr;
};

#endif
