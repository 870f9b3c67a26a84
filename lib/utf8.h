/* utf8: strict UTF-8 validation and code point counting (limits are in code points). */
#ifndef BW_UTF8_H
#define BW_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is well-formed UTF-8: no overlong forms, no surrogates, <= U+10FFFF. */
bool bw_utf8_valid(const char *s, size_t n);
/* Number of code points in well-formed UTF-8 s[0..n) (counts lead bytes). */
size_t bw_utf8_count(const char *s, size_t n);
/* Bytes of the first max code points of well-formed UTF-8 s (NUL-terminated): a prefix that never
 * splits a character. */
size_t bw_utf8_prefix(const char *s, size_t max);

#endif
