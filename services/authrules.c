/* authrules: see authrules.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lib/crypto.h"
#include "lib/utf8.h"
#include "services/authrules.h"

static const char *const rank_names[] = {"viewer", "operator", "admin"};

enum bw_rank bw_rank_parse(const char *s)
{
	for (int i = 0; s != NULL && i < 3; i++)
		if (strcmp(s, rank_names[i]) == 0)
			return (enum bw_rank)i;
	return BW_RANK_NONE;
}

const char *bw_rank_name(enum bw_rank r)
{
	return r >= BW_RANK_VIEWER && r <= BW_RANK_ADMIN ? rank_names[r] : "unknown";
}

enum bw_rank bw_role_effective(const struct bw_role_inputs *in)
{
	if (in->is_sp)
		return in->gw_override != BW_RANK_NONE ? in->gw_override : in->global;
	enum bw_rank r = in->global;
	if (in->gw_override != BW_RANK_NONE)
		r = in->gw_override;
	else if (in->group_gw_max != BW_RANK_NONE)
		r = in->group_gw_max;
	/* Group global roles only ever raise: a per-gateway demotion yields to them. */
	if (in->group_max > r)
		r = in->group_max;
	return r;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char *bw_email_normalize(struct bw_arena *a, const char *s)
{
	size_t n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		n--;
	while (n > 0 && is_space(*s)) {
		s++;
		n--;
	}
	char *out = bw_arena_strndup(a, s, n);
	for (size_t i = 0; out != NULL && i < n; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	return out;
}

bool bw_email_valid(const char *s)
{
	const char *at = strchr(s, '@');
	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (is_space(*p))
			return false;
	return true;
}

/* Classifies one code point for the complexity rule: 1 upper, 2 lower, 4 digit. ASCII and
 * the Latin-1/Latin Extended-A letters cover what a password field realistically holds. */
static unsigned classify(unsigned cp)
{
	if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7))
		return 1;
	if ((cp >= 'a' && cp <= 'z') || (cp >= 0xDF && cp <= 0xFF && cp != 0xF7))
		return 2;
	if (cp >= 0x100 && cp <= 0x17F)
		return (cp & 1) ? 2 : 1;
	if (cp >= '0' && cp <= '9')
		return 4;
	return 0;
}

static unsigned complexity_bits(const char *pw)
{
	unsigned bits = 0;
	const unsigned char *p = (const unsigned char *)pw;
	while (*p != '\0') {
		unsigned cp = *p;
		int extra = cp < 0x80 ? 0 : cp < 0xE0 ? 1 : cp < 0xF0 ? 2 : 3;
		cp &= extra == 0 ? 0x7F : extra == 1 ? 0x1F : extra == 2 ? 0x0F : 0x07;
		p++;
		for (int i = 0; i < extra && *p != '\0'; i++, p++)
			cp = (cp << 6) | (*p & 0x3F);
		bits |= classify(cp);
	}
	return bits;
}

const char *bw_password_policy(const char *pw, int min_chars, bool complexity, struct bw_arena *a)
{
	size_t bytes = strlen(pw);
	size_t chars = bw_utf8_count(pw, bytes);
	if (chars < (size_t)min_chars)
		return bw_arena_printf(a, "Password must be at least %d characters", min_chars);
	if (chars > BW_PASSWORD_MAX_CHARS)
		return bw_arena_printf(a, "Password must be at most %d characters",
				       BW_PASSWORD_MAX_CHARS);
	if (bytes > BW_PASSWORD_MAX_BYTES)
		return bw_arena_printf(a, "Password must be at most %d bytes",
				       BW_PASSWORD_MAX_BYTES);
	if (!complexity)
		return NULL;
	unsigned bits = complexity_bits(pw);
	if (bits == 7)
		return NULL;
	char missing[64] = "";
	static const char *const what[] = {"uppercase letter", "lowercase letter", "digit"};
	for (int i = 0; i < 3; i++) {
		if (bits & (1u << i))
			continue;
		if (missing[0] != '\0')
			strcat(missing, ", ");
		strcat(missing, what[i]);
	}
	return bw_arena_printf(a, "Password must contain at least one %s", missing);
}

char *bw_b64url(struct bw_arena *a, const void *p, size_t n)
{
	char *out = bw_arena_alloc(a, 4 * ((n + 2) / 3) + 1);
	if (out == NULL)
		return NULL;
	int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (int i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return out;
}

char *bw_token_new(struct bw_arena *a)
{
	unsigned char raw[32];
	if (bw_random(raw, sizeof(raw)) != BW_OK)
		return NULL;
	char *t = bw_b64url(a, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	return t;
}

bool bw_token_shape(const char *s)
{
	size_t i = 0;
	for (; s[i] != '\0'; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return i == BW_TOKEN_CHARS;
}

char *bw_sp_key_new(struct bw_arena *a)
{
	char *t = bw_token_new(a);
	return t != NULL ? bw_arena_printf(a, BW_SP_KEY_PREFIX "%s", t) : NULL;
}

char *bw_csrf_for(struct bw_arena *a, const char *session_token)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		  EVP_DigestUpdate(ctx, "bw-csrf:", 8) == 1 &&
		  EVP_DigestUpdate(ctx, session_token, strlen(session_token)) == 1 &&
		  EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? bw_b64url(a, md, mdlen) : NULL;
}

bool bw_secure_streq(const char *a, const char *b)
{
	size_t n = strlen(a);
	if (n != strlen(b))
		return false;
	return CRYPTO_memcmp(a, b, n) == 0;
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool bw_iso8601_utc(const char *s, char out[27])
{
	int y, mo, d, h, mi, sec = 0, usec = 0, off = 0;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi))
		return false;
	const char *p = s + 16;
	if (*p == ':') {
		if (!digits(p + 1, 2, &sec))
			return false;
		p += 3;
		if (*p == '.') {
			p++;
			int n = 0;
			for (; p[n] >= '0' && p[n] <= '9'; n++)
				if (n < 6)
					usec = usec * 10 + (p[n] - '0');
			if (n == 0)
				return false;
			for (int k = n; k < 6; k++)
				usec *= 10;
			p += n;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return false;
		off = (oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
		p += 6;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 ||
	    y < 1970 || y > 9998)
		return false;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return false;
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm) - off;
	struct tm u;
	if (gmtime_r(&t, &u) == NULL)
		return false;
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%06d", u.tm_year + 1900,
			 u.tm_mon + 1, u.tm_mday, u.tm_hour, u.tm_min, u.tm_sec, usec);
	if (n != 26)
		return false;
	memcpy(out, buf, 27);
	return true;
}
