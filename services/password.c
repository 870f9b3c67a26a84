/* password: see password.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <crypt.h>
#include <openssl/crypto.h>

#include "services/authrules.h"
#include "services/password.h"

/* A valid cost-12 hash of a random string nobody knows: the timing twin of a real check. */
static const char dummy_hash[] = "$2b$12$lm6XDbGBoSG./wJXvYJfu.PhIrH282/Yup1lSwXwS74V8T.USQgaS";

enum bw_err bw_password_hash(const char *pw, struct bw_arena *a, const char **out)
{
	if (strlen(pw) > BW_PASSWORD_MAX_BYTES)
		return BW_EINVAL;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (crypt_gensalt_rn("$2b$", BW_BCRYPT_COST, NULL, 0, salt, sizeof(salt)) == NULL)
		return BW_ECRYPTO;
	enum bw_err rc = BW_ECRYPTO;
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return BW_ENOMEM;
	const char *h = crypt_rn(pw, salt, cd, sizeof(*cd));
	if (h != NULL && h[0] != '*') {
		*out = bw_arena_strdup(a, h);
		rc = *out != NULL ? BW_OK : BW_ENOMEM;
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return rc;
}

bool bw_password_verify(const char *pw, const char *hash)
{
	bool real = hash != NULL && strncmp(hash, "$2", 2) == 0;
	const char *setting = real ? hash : dummy_hash;
	/* Over-long input never matches (libxcrypt would compare only the first 72 bytes). */
	bool too_long = strlen(pw) > BW_PASSWORD_MAX_BYTES;
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return false;
	const char *h = crypt_rn(pw, setting, cd, sizeof(*cd));
	bool match = real && !too_long && h != NULL && h[0] != '*' &&
		     strlen(h) == strlen(setting) && CRYPTO_memcmp(h, setting, strlen(h)) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return match;
}
