/* csv: see csv.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/csv.h"

void bw_sbuf_put(struct bw_sbuf *b, const char *s, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void bw_sbuf_puts(struct bw_sbuf *b, const char *s)
{
	bw_sbuf_put(b, s, strlen(s));
}

void bw_sbuf_free(struct bw_sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void bw_csv_field(struct bw_sbuf *b, const char *s, size_t n, bool first)
{
	if (!first)
		bw_sbuf_put(b, ",", 1);
	if (s == NULL || n == 0)
		return;
	bool formula = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
	bool quote = false;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (quote)
		bw_sbuf_put(b, "\"", 1);
	if (formula)
		bw_sbuf_put(b, "'", 1);
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '"')
			continue;
		bw_sbuf_put(b, s + from, i + 1 - from); /* up to and with the quote */
		bw_sbuf_put(b, "\"", 1);
		from = i + 1;
	}
	bw_sbuf_put(b, s + from, n - from);
	if (quote)
		bw_sbuf_put(b, "\"", 1);
}

void bw_csv_end(struct bw_sbuf *b)
{
	bw_sbuf_put(b, "\r\n", 2);
}
