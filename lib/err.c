/* err: names for the shared error enum. */
#include "config.h"

#include "lib/err.h"

const char *bw_strerror(enum bw_err err)
{
	switch (err) {
	case BW_OK:
		return "ok";
	case BW_ENOMEM:
		return "out of memory";
	case BW_EINVAL:
		return "invalid input";
	case BW_ENOTFOUND:
		return "not found";
	case BW_ECONFLICT:
		return "conflict";
	case BW_ETOOBIG:
		return "too big";
	case BW_EDB:
		return "database error";
	case BW_EDBLOST:
		return "database connection lost";
	case BW_ECRYPTO:
		return "cryptographic failure";
	case BW_EIO:
		return "i/o error";
	case BW_ESCHEMA:
		return "schema mismatch";
	case BW_EUNAVAIL:
		return "unavailable";
	case BW_ETIMEDOUT:
		return "timed out";
	}
	return "unknown error";
}
