/* Unit tests for lib/utf8: strict validation and code point counting. */
#include "config.h"

#include <string.h>

#include "lib/utf8.h"
#include "tests/unit/tap.h"

struct vcase {
	const char *bytes;
	size_t len;
	int valid;
	const char *what;
};

#define V(s, v, w)                     \
	{                              \
		s, sizeof(s) - 1, v, w \
	}

static const struct vcase cases[] = {
    V("", 1, "empty input"),
    V("hello, world", 1, "ASCII"),
    V("a\0b", 1, "an embedded NUL byte is well-formed UTF-8"),
    V("\x7f", 1, "U+007F"),
    V("\xc2\x80", 1, "2-byte minimum U+0080"),
    V("\xc3\xa9", 1, "2-byte e-acute"),
    V("\xdf\xbf", 1, "2-byte maximum U+07FF"),
    V("\xe0\xa0\x80", 1, "3-byte minimum U+0800"),
    V("\xe2\x82\xac", 1, "3-byte euro sign"),
    V("\xed\x9f\xbf", 1, "U+D7FF just below the surrogates"),
    V("\xee\x80\x80", 1, "U+E000 just above the surrogates"),
    V("\xef\xbf\xbf", 1, "U+FFFF"),
    V("\xf0\x90\x80\x80", 1, "4-byte minimum U+10000"),
    V("\xf0\x9f\x98\x80", 1, "4-byte emoji"),
    V("\xf4\x8f\xbf\xbf", 1, "U+10FFFF"),
    V("x\xc3\xa9y\xe2\x82\xacz\xf0\x9f\x98\x80!", 1, "mixed widths"),
    V("\xc0\x80", 0, "overlong NUL C0 80"),
    V("\xc1\xbf", 0, "overlong C1 BF"),
    V("\xe0\x80\x80", 0, "overlong E0 80 80"),
    V("\xe0\x9f\xbf", 0, "overlong E0 9F BF"),
    V("\xf0\x80\x80\x80", 0, "overlong F0 80 80 80"),
    V("\xf0\x8f\xbf\xbf", 0, "overlong F0 8F BF BF"),
    V("\xed\xa0\x80", 0, "surrogate ED A0 80 (U+D800)"),
    V("\xed\xbf\xbf", 0, "surrogate ED BF BF (U+DFFF)"),
    V("\xed\xa0\xbd\xed\xb8\x80", 0, "CESU-8 surrogate pair"),
    V("\xf4\x90\x80\x80", 0, "U+110000 F4 90 80 80"),
    V("\xf5\x80\x80\x80", 0, "lead byte F5"),
    V("\xf8\x88\x80\x80\x80", 0, "5-byte form"),
    V("\xfe", 0, "byte FE"),
    V("\xff", 0, "byte FF"),
    V("\xc3", 0, "truncated 2-byte"),
    V("\xe2\x82", 0, "truncated 3-byte"),
    V("\xf0\x9f\x98", 0, "truncated 4-byte"),
    V("ab\xe2", 0, "truncated at the end after ASCII"),
    V("\xc3\x28", 0, "2-byte with an ASCII second byte"),
    V("\xe2\x28\xa1", 0, "3-byte with a bad second byte"),
    V("\xe2\x82\x28", 0, "3-byte with a bad third byte"),
    V("\xf0\x9f\x98\x28", 0, "4-byte with a bad fourth byte"),
    V("\x80", 0, "stray continuation 80"),
    V("a\xbf", 0, "stray continuation BF after ASCII"),
    V("\xc3\xa9\xa9", 0, "extra continuation after a 2-byte sequence"),
};

static void test_valid(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		ok(bw_utf8_valid(c->bytes, c->len) == (c->valid != 0), "%s: %s",
		   c->valid ? "valid" : "invalid", c->what);
	}
	/* The length bounds the scan: a valid prefix of an invalid buffer is valid. */
	ok(bw_utf8_valid("ab\xff", 2), "only the first n bytes are examined");
	ok(!bw_utf8_valid("\xc3\xa9", 1), "n cutting a sequence makes it truncated");
}

static void test_count(void)
{
	is_int(bw_utf8_count("", 0), 0, "count of empty");
	is_int(bw_utf8_count("hello", 5), 5, "count of ASCII");
	const char *mixed = "h\xc3\xa9llo\xe2\x82\xac\xf0\x9f\x98\x80";
	is_int(bw_utf8_count(mixed, strlen(mixed)), 7, "count of h-e-acute-llo-euro-emoji is 7");
	is_int(bw_utf8_count("\xe2\x82\xac\xe2\x82\xac", 6), 2, "two 3-byte characters");
	is_int(bw_utf8_count("\xf0\x9f\x98\x80", 4), 1, "one 4-byte character");
	is_int(bw_utf8_count("a\0b", 3), 3, "an embedded NUL counts as a code point");
}

int main(void)
{
	plan((int)(sizeof(cases) / sizeof(cases[0])) + 2 + 6);
	test_valid();
	test_count();
	return done();
}
