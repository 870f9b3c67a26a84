/* crypto: see crypto.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/crypto.h"

static const uint8_t magic[3] = {'B', 'W', 0x01};

enum bw_err bw_random(void *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1 ? BW_OK : BW_ECRYPTO;
}

enum bw_err bw_key_load(const char *path, uint8_t key[BW_KEY_BYTES], char *err, size_t errlen)
{
	enum bw_err rc = BW_EIO;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open master key %s: %s", path, strerror(errno));
		return BW_EIO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "master key %s is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen,
			 "master key %s must not be accessible by group or others (chmod 600)",
			 path);
		goto out;
	}
	if (st.st_size != BW_KEY_BYTES) {
		snprintf(err, errlen, "master key %s must hold exactly %d bytes", path,
			 BW_KEY_BYTES);
		goto out;
	}
	if (read(fd, key, BW_KEY_BYTES) != BW_KEY_BYTES) {
		snprintf(err, errlen, "cannot read master key %s", path);
		goto out;
	}
	rc = BW_OK;
out:
	close(fd);
	return rc;
}

enum bw_err bw_key_generate(const char *path, char *err, size_t errlen)
{
	uint8_t key[BW_KEY_BYTES];
	enum bw_err rc = bw_random(key, sizeof(key));
	if (rc != BW_OK) {
		snprintf(err, errlen, "no randomness available");
		return rc;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		rc = BW_EIO;
		goto out;
	}
	if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		rc = BW_EIO;
		unlink(path);
	}
	close(fd);
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* Runs one AES-256-GCM pass. enc: 1 seal, 0 open. tag is written when sealing and checked
 * when opening. Returns BW_OK or BW_ECRYPTO. */
static enum bw_err gcm(int enc, const uint8_t *key, const uint8_t *nonce, const char *aad,
		       const uint8_t *in, size_t inlen, uint8_t *out, uint8_t *tag)
{
	enum bw_err rc = BW_ECRYPTO;
	int len = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return BW_ENOMEM;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, NULL, &len, (const uint8_t *)aad, (int)strlen(aad)) != 1)
		goto out;
	if (inlen > 0 && EVP_CipherUpdate(ctx, out, &len, in, (int)inlen) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + len, &len) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
		goto out;
	rc = BW_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

enum bw_err bw_seal(const uint8_t key[BW_KEY_BYTES], const char *aad, const void *pt, size_t ptlen,
		    struct bw_arena *a, uint8_t **out, size_t *outlen)
{
	if (ptlen > (1u << 30))
		return BW_ETOOBIG;
	uint8_t *buf = bw_arena_alloc(a, ptlen + BW_SEAL_OVERHEAD);
	if (buf == NULL)
		return BW_ENOMEM;
	memcpy(buf, magic, 3);
	uint8_t *nonce = buf + 3, *ct = buf + 15, *tag = buf + 15 + ptlen;
	enum bw_err rc = bw_random(nonce, 12);
	if (rc == BW_OK)
		rc = gcm(1, key, nonce, aad, pt, ptlen, ct, tag);
	if (rc != BW_OK)
		return rc;
	*out = buf;
	*outlen = ptlen + BW_SEAL_OVERHEAD;
	return BW_OK;
}

enum bw_err bw_open(const uint8_t key[BW_KEY_BYTES], const char *aad, const void *sealed,
		    size_t sealedlen, struct bw_arena *a, uint8_t **out, size_t *outlen)
{
	const uint8_t *s = sealed;
	if (sealedlen < BW_SEAL_OVERHEAD || memcmp(s, magic, 3) != 0)
		return BW_ECRYPTO;
	size_t ptlen = sealedlen - BW_SEAL_OVERHEAD;
	uint8_t *pt = bw_arena_alloc(a, ptlen + 1);
	if (pt == NULL)
		return BW_ENOMEM;
	uint8_t tag[16];
	memcpy(tag, s + 15 + ptlen, 16);
	enum bw_err rc = gcm(0, key, s + 3, aad, s + 15, ptlen, pt, tag);
	if (rc != BW_OK) {
		OPENSSL_cleanse(pt, ptlen);
		return rc;
	}
	pt[ptlen] = '\0';
	*out = pt;
	*outlen = ptlen;
	return BW_OK;
}

void bw_sha256_hex(const void *data, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

enum bw_err bw_base64_decode_lenient(const char *in, size_t inlen, struct bw_arena *a,
				     uint8_t **out, size_t *outlen)
{
	/* CPython's non-strict a2b_base64: characters outside the alphabet are skipped; '=' is
	 * ignored until at least two characters of a quad are in, and ends the data once the quad
	 * is complete; data left in an unfinished quad is an error. */
	uint8_t *buf = bw_arena_alloc(a, inlen / 4 * 3 + 4);
	if (buf == NULL)
		return BW_ENOMEM;
	size_t n = 0;
	int quad = 0, pads = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=') {
			if (quad >= 2 && quad + ++pads >= 4)
				break;
			continue;
		}
		int v = b64val(c);
		if (v < 0)
			continue;
		pads = 0;
		acc = (acc << 6) | (uint32_t)v;
		if (++quad == 4) {
			buf[n++] = (uint8_t)(acc >> 16);
			buf[n++] = (uint8_t)(acc >> 8);
			buf[n++] = (uint8_t)acc;
			acc = 0;
			quad = 0;
		}
	}
	if (quad == 1)
		return BW_EINVAL;
	if (quad == 2)
		buf[n++] = (uint8_t)(acc >> 4);
	else if (quad == 3) {
		buf[n++] = (uint8_t)(acc >> 10);
		buf[n++] = (uint8_t)(acc >> 2);
	}
	if (quad != 0 && quad + pads < 4)
		return BW_EINVAL; /* "Incorrect padding" */
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return BW_OK;
}
