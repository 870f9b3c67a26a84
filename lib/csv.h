/* csv: a growable byte buffer and the RFC 4180 field writer used by exports. Fields are quoted
 * only when they hold a comma, a quote, CR or LF (quotes doubled); records end in CRLF. A field
 * a spreadsheet would run as a formula (first character = + - @, tab or CR) gets a leading
 * apostrophe, so opening an export cannot execute anything an actor typed. */
#ifndef BW_CSV_H
#define BW_CSV_H

#include <stdbool.h>
#include <stddef.h>

struct bw_sbuf {
	char *p; /* malloc'd, not NUL-terminated */
	size_t len, cap;
	bool oom; /* an append failed; the content is incomplete */
};

/* Appends n bytes (sets oom on failure). */
void bw_sbuf_put(struct bw_sbuf *b, const char *s, size_t n);
void bw_sbuf_puts(struct bw_sbuf *b, const char *s);
/* Frees the memory and empties the buffer. */
void bw_sbuf_free(struct bw_sbuf *b);

/* Appends one field, preceded by a comma unless first; s NULL is an empty field. */
void bw_csv_field(struct bw_sbuf *b, const char *s, size_t n, bool first);
/* Ends the record. */
void bw_csv_end(struct bw_sbuf *b);

#endif
