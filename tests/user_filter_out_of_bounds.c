/* A filter the verifier must reject: it reads the record through a plain pointer with an
 * unchecked index, past the end of the scratch window (SLUICE_BYTE would mask the index).
 * Used by tests/user_filter_test.sh. */
#include <sluice/filters/constant.h>

SLUICE_FILTER(peek_past_end, struct sluice_constant_params)
{
	const sluice_u8 *bytes = (const sluice_u8 *)w;

	return bytes[off + len + 200000] == 'x';
}
