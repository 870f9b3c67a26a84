/* Unit tests for lib/crypto: sealing, the master key file, SHA-256 and lenient base64. */
#include "config.h" /* defines _GNU_SOURCE (memmem) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crypto.h"
#include "tests/unit/tap.h"

static const char AAD[] = "gateway:prod:client_key";

static void fill_key(uint8_t key[BW_KEY_BYTES], uint8_t seed)
{
	for (int i = 0; i < BW_KEY_BYTES; i++)
		key[i] = (uint8_t)(seed + i * 7);
}

/* Seals pt and opens it again; true when the round trip returns the same bytes. */
static int round_trip(const uint8_t *key, const void *pt, size_t ptlen, struct bw_arena *a)
{
	uint8_t *sealed = NULL, *opened = NULL;
	size_t slen = 0, olen = 0;
	if (bw_seal(key, AAD, pt, ptlen, a, &sealed, &slen) != BW_OK)
		return 0;
	if (slen != ptlen + BW_SEAL_OVERHEAD)
		return 0;
	if (bw_open(key, AAD, sealed, slen, a, &opened, &olen) != BW_OK)
		return 0;
	return olen == ptlen && memcmp(opened, pt, ptlen) == 0 && opened[olen] == '\0';
}

static void test_round_trip(struct bw_arena *a)
{
	uint8_t key[BW_KEY_BYTES];
	fill_key(key, 1);
	ok(round_trip(key, "", 0, a), "empty plaintext round trip");
	ok(round_trip(key, "hello", 5, a), "short plaintext round trip");
	size_t big = 64 * 1024;
	char *pt = bw_arena_alloc(a, big);
	for (size_t i = 0; i < big; i++)
		pt[i] = (char)('a' + i % 26);
	ok(round_trip(key, pt, big, a), "64 KiB plaintext round trip");

	uint8_t *s1 = NULL, *s2 = NULL;
	size_t l1 = 0, l2 = 0;
	const char *secret = "-----BEGIN PRIVATE KEY----- top secret material";
	is_int(bw_seal(key, AAD, secret, strlen(secret), a, &s1, &l1), BW_OK, "seal");
	is_int(l1, strlen(secret) + BW_SEAL_OVERHEAD, "sealed size is len + BW_SEAL_OVERHEAD");
	is_int(BW_SEAL_OVERHEAD, 31, "overhead is magic 3 + nonce 12 + tag 16");
	ok(memcmp(s1, "BW\x01", 3) == 0, "sealed value starts with the magic");
	ok(memmem(s1, l1, "top secret", 10) == NULL, "ciphertext does not contain the plaintext");
	bw_seal(key, AAD, secret, strlen(secret), a, &s2, &l2);
	ok(l1 == l2 && memcmp(s1, s2, l1) != 0, "two seals of the same text differ");
	ok(memcmp(s1 + 3, s2 + 3, 12) != 0, "the nonces differ");
}

/* Flips one bit at off in a copy of sealed and tries to open it. */
static enum bw_err open_flipped(const uint8_t *key, const uint8_t *sealed, size_t len, size_t off,
				struct bw_arena *a)
{
	uint8_t *copy = bw_arena_alloc(a, len);
	memcpy(copy, sealed, len);
	copy[off] ^= 0x01;
	uint8_t *out = NULL;
	size_t olen = 0;
	return bw_open(key, AAD, copy, len, a, &out, &olen);
}

static void test_tamper(struct bw_arena *a)
{
	uint8_t key[BW_KEY_BYTES], other[BW_KEY_BYTES];
	fill_key(key, 1);
	fill_key(other, 2);
	uint8_t *s = NULL, *out = NULL;
	size_t len = 0, olen = 0;
	bw_seal(key, AAD, "payload", 7, a, &s, &len);
	is_int(open_flipped(key, s, len, 0, a), BW_ECRYPTO, "flipped magic byte");
	is_int(open_flipped(key, s, len, 2, a), BW_ECRYPTO, "flipped version byte");
	is_int(open_flipped(key, s, len, 3, a), BW_ECRYPTO, "flipped nonce bit (first)");
	is_int(open_flipped(key, s, len, 14, a), BW_ECRYPTO, "flipped nonce bit (last)");
	is_int(open_flipped(key, s, len, 15, a), BW_ECRYPTO, "flipped ciphertext bit");
	is_int(open_flipped(key, s, len, len - 16, a), BW_ECRYPTO, "flipped tag bit (first)");
	is_int(open_flipped(key, s, len, len - 1, a), BW_ECRYPTO, "flipped tag bit (last)");
	is_int(bw_open(key, "gateway:prod:ca_cert", s, len, a, &out, &olen), BW_ECRYPTO,
	       "wrong AAD");
	is_int(bw_open(key, "", s, len, a, &out, &olen), BW_ECRYPTO, "empty AAD");
	is_int(bw_open(other, AAD, s, len, a, &out, &olen), BW_ECRYPTO, "wrong key");
	is_int(bw_open(key, AAD, s, len - 1, a, &out, &olen), BW_ECRYPTO, "one byte short");
	is_int(bw_open(key, AAD, s, BW_SEAL_OVERHEAD - 1, a, &out, &olen), BW_ECRYPTO,
	       "shorter than the overhead");
	is_int(bw_open(key, AAD, s, 0, a, &out, &olen), BW_ECRYPTO, "zero length");
	is_int(bw_open(key, AAD, s, len, a, &out, &olen), BW_OK, "the untouched value still opens");
	is_str((const char *)out, "payload", "and yields the plaintext");

	uint8_t *e = NULL;
	size_t elen = 0;
	bw_seal(key, AAD, "", 0, a, &e, &elen);
	is_int(open_flipped(key, e, elen, elen - 1, a), BW_ECRYPTO, "tampered empty seal");
	is_int(bw_open(key, "x", e, elen, a, &out, &olen), BW_ECRYPTO, "empty seal with wrong AAD");
}

static void test_key_file(void)
{
	char dir[] = "/tmp/bw-test-crypto-XXXXXX";
	char path[128], bad[128], err[256];
	uint8_t key[BW_KEY_BYTES], key2[BW_KEY_BYTES];
	struct stat st;
	ok(mkdtemp(dir) != NULL, "temporary directory");
	snprintf(path, sizeof(path), "%s/master.key", dir);
	snprintf(bad, sizeof(bad), "%s/bad.key", dir);

	is_int(bw_key_generate(path, err, sizeof(err)), BW_OK, "generate a key file");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "key file mode is 0600");
	is_int(st.st_size, BW_KEY_BYTES, "key file holds 32 bytes");
	is_int(bw_key_load(path, key, err, sizeof(err)), BW_OK, "load the generated key");
	is_int(bw_key_generate(path, err, sizeof(err)), BW_EIO, "generate refuses to overwrite");
	ok(bw_key_load(path, key2, err, sizeof(err)) == BW_OK && memcmp(key, key2, 32) == 0,
	   "the key is unchanged after the refused overwrite");

	chmod(path, 0644);
	err[0] = '\0';
	is_int(bw_key_load(path, key2, err, sizeof(err)), BW_EIO, "mode 0644 is refused");
	ok(strstr(err, "chmod 600") != NULL, "the message says how to fix it (%s)", err);
	chmod(path, 0640);
	is_int(bw_key_load(path, key2, err, sizeof(err)), BW_EIO, "mode 0640 is refused");
	chmod(path, 0400);
	is_int(bw_key_load(path, key2, err, sizeof(err)), BW_OK, "mode 0400 is accepted");

	FILE *f = fopen(bad, "w");
	if (f != NULL) {
		fwrite(key, 1, 31, f);
		fclose(f);
	}
	chmod(bad, 0600);
	err[0] = '\0';
	is_int(bw_key_load(bad, key2, err, sizeof(err)), BW_EIO, "a 31-byte key is refused");
	ok(strstr(err, "32 bytes") != NULL, "the message names the size (%s)", err);
	f = fopen(bad, "a");
	if (f != NULL) {
		fwrite(key, 1, 2, f);
		fclose(f);
	}
	is_int(bw_key_load(bad, key2, err, sizeof(err)), BW_EIO, "a 33-byte key is refused");
	unlink(bad);
	is_int(bw_key_load(bad, key2, err, sizeof(err)), BW_EIO, "a missing key file fails");
	is_int(bw_key_load(dir, key2, err, sizeof(err)), BW_EIO, "a directory is refused");

	chmod(path, 0600);
	unlink(path);
	rmdir(dir);
}

static void test_sha256(void)
{
	char hex[65];
	bw_sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "sha256 abc");
	bw_sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "sha256 of nothing");
}

/* Decodes s; returns the result (arena) or NULL when the decoder fails. */
static const char *b64(const char *s, struct bw_arena *a, enum bw_err *rc)
{
	uint8_t *out = NULL;
	size_t len = 0;
	*rc = bw_base64_decode_lenient(s, strlen(s), a, &out, &len);
	if (*rc != BW_OK)
		return NULL;
	return strlen((const char *)out) == len ? (const char *)out : "(length mismatch)";
}

static void test_base64(struct bw_arena *a)
{
	enum bw_err rc;
	is_str(b64("aGVsbG8=", a, &rc), "hello", "aGVsbG8= is hello");
	is_str(b64("aGVs\nbG8=\n", a, &rc), "hello", "newlines are skipped");
	is_str(b64(" aGVs bG8= ", a, &rc), "hello", "spaces are skipped");
	is_str(b64("aG!V*sb\tG8=", a, &rc), "hello", "illegal characters are skipped");
	is_str(b64("aGVsbA==", a, &rc), "hell", "two padding characters");
	is_str(b64("aGVsbG8=garbage", a, &rc), "hello", "data after complete padding is ignored");
	is_str(b64("aGVsbG8h", a, &rc), "hello!", "no padding needed");
	is_str(b64("", a, &rc), "", "empty input is empty output");
	is_str(b64("aGVsbG8", a, &rc), NULL, "missing padding fails");
	is_int(rc, BW_EINVAL, "missing padding is BW_EINVAL");
	is_str(b64("aGVsbA=", a, &rc), NULL, "one pad where two are needed fails");
	is_int(rc, BW_EINVAL, "short padding is BW_EINVAL");
	is_str(b64("a", a, &rc), NULL, "a single character fails");
	is_int(rc, BW_EINVAL, "a single character is BW_EINVAL");
	is_str(b64("aGVsb", a, &rc), NULL, "4n+1 characters fail");
	/* CPython's binascii only stops at '=' once the quad is complete: "aGVs=" ignores it. */
	is_str(b64("aGVs=bG8=", a, &rc), "hello",
	       "a pad at a quad boundary is skipped as Python does");
	uint8_t *out = NULL;
	size_t len = 0;
	bw_base64_decode_lenient("AAEC/w==", 8, a, &out, &len);
	ok(len == 4 && out[0] == 0 && out[1] == 1 && out[2] == 2 && out[3] == 0xff,
	   "binary bytes including NUL and 0xff");
}

int main(void)
{
	plan(63);
	struct bw_arena *a = bw_arena_new(4096);
	uint8_t r1[16] = {0}, r2[16] = {0};
	ok(bw_random(r1, 16) == BW_OK && bw_random(r2, 16) == BW_OK && memcmp(r1, r2, 16) != 0,
	   "bw_random gives different bytes each call");
	test_round_trip(a);
	test_tamper(a);
	test_key_file();
	test_sha256();
	test_base64(a);
	bw_arena_free(a);
	return done();
}
