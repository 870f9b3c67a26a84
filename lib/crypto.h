/* crypto: secrets at rest. AES-256-GCM sealing under the master key, the master key file,
 * random bytes, SHA-256 and the lenient base64 decoder the API accepts for PEM uploads.
 *
 * Sealed format: "BW" 0x01 | 12-byte random nonce | ciphertext | 16-byte tag. The associated
 * data (AAD) names what the plaintext belongs to (e.g. "gateway:prod:client_key"), so a sealed
 * value copied into another row or column fails to open. */
#ifndef BW_CRYPTO_H
#define BW_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/err.h"

#define BW_KEY_BYTES 32
#define BW_SEAL_OVERHEAD (3 + 12 + 16)

/* Reads the 32-byte master key. Fails (BW_EIO with a message) when the file is missing, has
 * another size, or is readable by group or others. */
enum bw_err bw_key_load(const char *path, uint8_t key[BW_KEY_BYTES], char *err, size_t errlen);
/* Creates a new key file with mode 0600; never overwrites an existing file. */
enum bw_err bw_key_generate(const char *path, char *err, size_t errlen);

/* Fills buf with n cryptographically random bytes. */
enum bw_err bw_random(void *buf, size_t n);

/* Seals pt[0..ptlen) into *out (arena memory, *outlen = ptlen + BW_SEAL_OVERHEAD). */
enum bw_err bw_seal(const uint8_t key[BW_KEY_BYTES], const char *aad, const void *pt, size_t ptlen,
		    struct bw_arena *a, uint8_t **out, size_t *outlen);
/* Opens a sealed value into *out (arena memory, NUL-terminated for convenience).
 * BW_ECRYPTO when the value is malformed, the key is wrong or anything was altered. */
enum bw_err bw_open(const uint8_t key[BW_KEY_BYTES], const char *aad, const void *sealed,
		    size_t sealedlen, struct bw_arena *a, uint8_t **out, size_t *outlen);

/* Lowercase hex SHA-256 of data into hex (65 bytes with the NUL). */
void bw_sha256_hex(const void *data, size_t n, char hex[65]);

/* Decodes base64 the way the reference API does: characters outside the alphabet are skipped,
 * only a bad length/padding fails (BW_EINVAL). Output is arena memory, NUL-terminated. */
enum bw_err bw_base64_decode_lenient(const char *in, size_t inlen, struct bw_arena *a,
				     uint8_t **out, size_t *outlen);

#endif
