/* bundle: see bundle.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "services/bundle.h"

static X509 *read_cert(struct bw_pem pem)
{
	BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.len);
	X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	return x;
}

static EVP_PKEY *read_key(struct bw_pem pem)
{
	BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.len);
	/* An encrypted key must not make OpenSSL prompt on the terminal: the empty passphrase
	 * callback refuses it. */
	EVP_PKEY *k = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"") : NULL;
	BIO_free(bio);
	return k;
}

static enum bw_err check_validity(X509 *cert, char *msg, size_t msglen)
{
	time_t now = time(NULL);
	if (X509_cmp_time(X509_get0_notBefore(cert), &now) > 0) {
		snprintf(msg, msglen, "client_cert is not yet valid");
		return BW_EINVAL;
	}
	if (X509_cmp_time(X509_get0_notAfter(cert), &now) < 0) {
		snprintf(msg, msglen, "client_cert has expired");
		return BW_EINVAL;
	}
	return BW_OK;
}

static enum bw_err check_chain(X509 *ca, X509 *cert, char *msg, size_t msglen)
{
	enum bw_err rc = BW_ENOMEM;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (store == NULL || ctx == NULL || X509_STORE_add_cert(store, ca) != 1 ||
	    X509_STORE_CTX_init(ctx, store, cert, NULL) != 1)
		goto out;
	/* The given CA is the trust anchor even when it is an intermediate. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	rc = BW_OK;
	if (X509_verify_cert(ctx) != 1) {
		snprintf(msg, msglen, "client_cert does not chain to ca_cert: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		rc = BW_EINVAL;
	}
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

enum bw_err bw_bundle_check(struct bw_pem ca, struct bw_pem cert, struct bw_pem key, char *msg,
			    size_t msglen)
{
	X509 *xca = NULL, *xcert = NULL;
	EVP_PKEY *pkey = NULL;
	enum bw_err rc = BW_EINVAL;
	msg[0] = '\0';
	if (ca.p != NULL && (xca = read_cert(ca)) == NULL) {
		snprintf(msg, msglen, "ca_cert is not a valid PEM certificate");
		goto out;
	}
	if (cert.p != NULL && (xcert = read_cert(cert)) == NULL) {
		snprintf(msg, msglen, "client_cert is not a valid PEM certificate");
		goto out;
	}
	if (key.p != NULL && (pkey = read_key(key)) == NULL) {
		snprintf(msg, msglen, "client_key is not a valid unencrypted PEM private key");
		goto out;
	}
	if (xcert != NULL && pkey != NULL && X509_check_private_key(xcert, pkey) != 1) {
		snprintf(msg, msglen, "client_key does not match client_cert");
		goto out;
	}
	if (xcert != NULL && (rc = check_validity(xcert, msg, msglen)) != BW_OK)
		goto out;
	rc = BW_OK;
	if (xcert != NULL && xca != NULL)
		rc = check_chain(xca, xcert, msg, msglen);
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	X509_free(xcert);
	X509_free(xca);
	return rc;
}
