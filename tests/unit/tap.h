/* tap: a minimal TAP producer for the C unit tests (run by automake's tap-driver). */
#ifndef BW_TAP_H
#define BW_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void plan(int n)
{
	printf("1..%d\n", n);
}

/* Records one test; prints the location on failure so the log points at the line. */
#define ok(cond, ...) tap_ok((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)

static inline int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static inline int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	tap_n++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return pass;
}

static inline void tap_is_str(const char *got, const char *want, const char *file, int line,
			      const char *what)
{
	int pass = (got == NULL && want == NULL) ||
		   (got != NULL && want != NULL && strcmp(got, want) == 0);
	if (!tap_ok(pass, file, line, "%s", what))
		printf("#   got '%s', want '%s'\n", got ? got : "(null)", want ? want : "(null)");
}

static inline void tap_is_int(long long got, long long want, const char *file, int line,
			      const char *what)
{
	if (!tap_ok(got == want, file, line, "%s", what))
		printf("#   got %lld, want %lld\n", got, want);
}

static inline int done(void)
{
	fflush(stdout);
	return tap_failed == 0 ? 0 : 1;
}

#endif
