/* Unit tests for the audit trail's pure pieces: ISO-8601 time parsing (services/audit) and the
 * CSV field writer (lib/csv). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/csv.h"
#include "services/audit.h"
#include "tests/unit/tap.h"

static void time_ok(const char *in, const char *want)
{
	char out[BW_AUDIT_TIME_LEN] = "";
	bool got = bw_audit_parse_time(in, out);
	ok(got && strcmp(out, want) == 0, "'%s' -> '%s' (got '%s')", in, want, got ? out : "false");
}

static void time_bad(const char *in)
{
	char out[BW_AUDIT_TIME_LEN];
	ok(!bw_audit_parse_time(in, out), "'%s' is refused", in);
}

static void test_times(void)
{
	time_ok("2026-04-20", "2026-04-20 00:00:00.000000");
	time_ok("2026-04-20T12:34", "2026-04-20 12:34:00.000000");
	time_ok("2026-04-20T12:34:56", "2026-04-20 12:34:56.000000");
	time_ok("2026-04-20 12:34:56.789", "2026-04-20 12:34:56.789000");
	time_ok("2026-04-20T12:34:56.789012Z", "2026-04-20 12:34:56.789012");
	time_ok("2026-04-20t12:34:56.1234567z", "2026-04-20 12:34:56.123456");
	time_ok("2026-04-20T12:34:56+00:00", "2026-04-20 12:34:56.000000");
	time_ok("2026-04-20T01:30:00+02:00", "2026-04-19 23:30:00.000000");
	time_ok("2026-12-31T23:30:00-01:00", "2027-01-01 00:30:00.000000");
	time_ok("2024-02-29T00:00:00+0530", "2024-02-28 18:30:00.000000");
	time_ok("2026-03-01T00:00:00+01", "2026-02-28 23:00:00.000000");
	time_bad("");
	time_bad("yesterday");
	time_bad("2026-13-01");
	time_bad("2026-02-29");
	time_bad("2026-04-31T00:00:00");
	time_bad("2026-04-20T24:00:00");
	time_bad("2026-04-20T12:60");
	time_bad("2026-04-20T12:34:56.");
	time_bad("2026-04-20T12:34:56+25:00");
	time_bad("2026-04-20T12:34:56 UTC");
	time_bad("2026-04-20X12:34");
	time_bad("2026-4-20");
	time_bad("0000-01-01");
	time_bad("2026-04-20T12:34:56Zjunk");
}

static void csv_is(const char *in, const char *want, const char *what)
{
	struct bw_sbuf b = {0};
	bw_csv_field(&b, in, in != NULL ? strlen(in) : 0, true);
	bw_sbuf_put(&b, "", 0);
	char *got = malloc(b.len + 1);
	if (got != NULL) {
		if (b.len > 0)
			memcpy(got, b.p, b.len);
		got[b.len] = '\0';
	}
	is_str(got, want, what);
	free(got);
	bw_sbuf_free(&b);
}

static void test_csv(void)
{
	csv_is("plain", "plain", "plain text is not quoted");
	csv_is(NULL, "", "NULL is an empty field");
	csv_is("a,b", "\"a,b\"", "a comma quotes the field");
	csv_is("say \"hi\"", "\"say \"\"hi\"\"\"", "quotes are doubled inside quotes");
	csv_is("two\nlines", "\"two\nlines\"", "LF quotes the field");
	csv_is("cr\rhere", "\"cr\rhere\"", "CR quotes the field");
	csv_is("=1+2", "'=1+2", "a formula gets an apostrophe");
	csv_is("@SUM(A1)", "'@SUM(A1)", "@ too");
	csv_is("-2,\"x\"", "\"'-2,\"\"x\"\"\"", "the apostrophe goes inside the quotes");
	csv_is("+", "'+", "a lone +");
	csv_is("a=b", "a=b", "= later in the field is harmless");
	struct bw_sbuf b = {0};
	bw_csv_field(&b, "1", 1, true);
	bw_csv_field(&b, NULL, 0, false);
	bw_csv_field(&b, "x", 1, false);
	bw_csv_end(&b);
	ok(b.len == 6 && memcmp(b.p, "1,,x\r\n", 6) == 0 && !b.oom, "a record: commas and CRLF");
	bw_sbuf_free(&b);
}

int main(void)
{
	plan(37);
	test_times();
	test_csv();
	return done();
}
