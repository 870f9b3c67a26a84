/* router: see router.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/router.h"
#include "lib/utf8.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *bw_url_decode(const char *s, size_t n, int form, struct bw_arena *a)
{
	char *out = bw_arena_alloc(a, n + 1);
	size_t o = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n)
				return NULL;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (form && s[i] == '+') {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	if (strlen(out) != o || !bw_utf8_valid(out, o))
		return NULL;
	return out;
}

int bw_path_split(const char *raw, struct bw_arena *a, struct bw_path *out)
{
	out->n = 0;
	if (raw == NULL || raw[0] != '/')
		return -1;
	size_t len = strcspn(raw, "?#");
	const char *p = raw + 1, *end = raw + len;
	if (len == 1)
		return 0; /* "/" has no segments */
	for (;;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *stop = slash != NULL ? slash : end;
		if (out->n == BW_MAX_SEGMENTS)
			return -1;
		char *seg = bw_url_decode(p, (size_t)(stop - p), 0, a);
		if (seg == NULL || strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0)
			return -1;
		out->seg[out->n++] = seg;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	return 0;
}

/* Matches one pattern; returns the number of literal segments + 1 on a match, 0 otherwise. */
static int match_pattern(const char *pat, const struct bw_path *path, const char **params)
{
	size_t seg = 0, np = 0;
	int literals = 0;
	const char *p = pat + 1;
	while (*p != '\0' || seg < path->n) {
		if (seg >= path->n || *p == '\0')
			return 0;
		const char *slash = strchr(p, '/');
		size_t plen = slash != NULL ? (size_t)(slash - p) : strlen(p);
		const char *s = path->seg[seg];
		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (s[0] == '\0' || np == BW_MAX_PARAMS)
				return 0;
			if (params != NULL)
				params[np] = s;
			np++;
		} else {
			if (strlen(s) != plen || strncmp(s, p, plen) != 0)
				return 0;
			literals++;
		}
		seg++;
		p += plen;
		if (*p == '/')
			p++;
	}
	return literals + 1;
}

enum bw_match bw_route_match(const struct bw_route *table, size_t n, unsigned method,
			     const struct bw_path *path, const struct bw_route **out,
			     const char *params[BW_MAX_PARAMS], unsigned *allowed)
{
	int best = 0;
	const struct bw_route *found = NULL;
	*allowed = 0;
	for (size_t i = 0; i < n; i++) {
		int score = match_pattern(table[i].pattern, path, NULL);
		if (score == 0)
			continue;
		*allowed |= table[i].method;
		if ((table[i].method & method) != 0 && score > best) {
			best = score;
			found = &table[i];
		}
	}
	if (found != NULL) {
		match_pattern(found->pattern, path, params);
		*out = found;
		return BW_MATCH_OK;
	}
	return *allowed != 0 ? BW_MATCH_BAD_METHOD : BW_MATCH_NOT_FOUND;
}

const char *bw_route_param(const struct bw_route *route, const char *const params[BW_MAX_PARAMS],
			   const char *name)
{
	size_t np = 0, nlen = strlen(name);
	for (const char *p = strchr(route->pattern, '{'); p != NULL; p = strchr(p + 1, '{')) {
		const char *close = strchr(p, '}');
		if (close == NULL || np == BW_MAX_PARAMS)
			return NULL;
		if ((size_t)(close - p - 1) == nlen && strncmp(p + 1, name, nlen) == 0)
			return params[np];
		np++;
	}
	return NULL;
}

static const struct {
	unsigned bit;
	const char *name;
} methods[] = {
    {BW_GET, "GET"}, {BW_POST, "POST"}, {BW_PUT, "PUT"}, {BW_PATCH, "PATCH"}, {BW_DELETE, "DELETE"},
};

unsigned bw_method_parse(const char *m)
{
	for (size_t i = 0; m != NULL && i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

char *bw_methods_format(unsigned mask, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if ((mask & methods[i].bit) == 0)
			continue;
		int w = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", methods[i].name);
		if (w < 0 || (size_t)w >= len - o)
			break;
		o += (size_t)w;
	}
	return buf;
}

enum bw_role bw_route_min_role(const struct bw_route *route, int metrics_public)
{
	if (route->min_role != BW_ROLE_METRICS)
		return route->min_role;
	return metrics_public ? BW_ROLE_PUBLIC : BW_ROLE_ADMIN;
}
