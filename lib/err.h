/* err: the closed error enum shared by lib/ and services/. The HTTP face translates it to a
 * status at its boundary; MariaDB errnos and gRPC codes are translated into it where they occur. */
#ifndef BW_ERR_H
#define BW_ERR_H

enum bw_err {
	BW_OK = 0,
	BW_ENOMEM,    /* allocation failed */
	BW_EINVAL,    /* the caller's input is not acceptable */
	BW_ENOTFOUND, /* the thing named does not exist */
	BW_ECONFLICT, /* it exists already / a uniqueness rule would be broken */
	BW_ETOOBIG,   /* over a size limit */
	BW_EDB,       /* the database refused or failed */
	BW_EDBLOST,   /* the database connection is gone (retry on a new one may work) */
	BW_ECRYPTO,   /* sealing/opening failed, or the ciphertext was tampered with */
	BW_EIO,       /* a file or socket operation failed */
	BW_ESCHEMA,   /* the database schema does not match this binary */
	BW_EUNAVAIL,  /* a dependency is not reachable now */
	BW_ETIMEDOUT  /* a deadline passed */
};

/* A short, static English name for the error. Never NULL. */
const char *bw_strerror(enum bw_err err);

#endif
