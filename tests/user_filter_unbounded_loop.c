/* A filter the verifier must reject: a loop whose bound comes from the record (len is up to
 * 64 KiB on BPF, so the verifier cannot prove it ends within its budget).
 * Used by tests/user_filter_test.sh. */
#include <sluice/filters/constant.h>

SLUICE_FILTER(count_commas, struct sluice_constant_params)
{
	sluice_u32 i, commas = 0;

	for (i = 0; i < len; i++) {
		if (SLUICE_BYTE(w, off + i) == ',')
			commas++;
	}
	return commas > 3;
}
