/* log: JSON-lines logging to stderr; see log.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

#define LINE_MAX_BYTES 4096

/* Set once at start-up, before threads exist; read-only afterwards. */
static enum bw_log_level min_level = BW_LOG_INFO;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void bw_log_set_level(enum bw_log_level level)
{
	min_level = level;
}

int bw_log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

struct line {
	char buf[LINE_MAX_BYTES];
	size_t len;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (n > sizeof(l->buf) - 2 - l->len)
		n = sizeof(l->buf) - 2 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Appends s as a JSON string body (without quotes), escaping controls, quotes and backslashes. */
static void put_escaped(struct line *l, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(l, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(l, esc, 6);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
}

static void put_field(struct line *l, const char *key, const char *val)
{
	put(l, ",\"", 2);
	put(l, key, strlen(key));
	put(l, "\":\"", 3);
	put_escaped(l, val);
	put(l, "\"", 1);
}

static void begin(struct line *l, enum bw_log_level level, const char *module)
{
	struct timeval tv;
	struct tm tm;
	char ts[40];
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
	l->len = 0;
	put(l, "{\"ts\":\"", 7);
	put(l, ts, strlen(ts));
	put(l, "\"", 1);
	put_field(l, "level", level_names[level]);
	put_field(l, "module", module);
	char pid[32];
	int pn = snprintf(pid, sizeof(pid), ",\"pid\":%ld", (long)getpid());
	put(l, pid, (size_t)pn);
}

static void finish(struct line *l)
{
	l->buf[l->len++] = '}';
	l->buf[l->len++] = '\n';
	/* One write: atomic for O_APPEND files and pipes up to PIPE_BUF. A lost log line is not
	 * worth failing a request over, so the result is deliberately not acted upon. */
	ssize_t rc = write(STDERR_FILENO, l->buf, l->len);
	(void)rc;
}

void bw_log(enum bw_log_level level, const char *module, const char *request_id, const char *fmt,
	    ...)
{
	if (level < min_level)
		return;
	struct line l;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	begin(&l, level, module);
	if (request_id != NULL)
		put_field(&l, "request_id", request_id);
	put_field(&l, "msg", msg);
	finish(&l);
}

void bw_log_request(const char *method, const char *path, int status, double duration_ms,
		    const char *request_id, const char *client_ip)
{
	if (BW_LOG_INFO < min_level)
		return;
	struct line l;
	char num[64];
	begin(&l, BW_LOG_INFO, "http");
	put_field(&l, "msg", "request");
	put_field(&l, "method", method != NULL ? method : "");
	put_field(&l, "path", path != NULL ? path : "");
	int n =
	    snprintf(num, sizeof(num), ",\"status\":%d,\"duration_ms\":%.3f", status, duration_ms);
	put(&l, num, (size_t)n);
	if (request_id != NULL)
		put_field(&l, "request_id", request_id);
	if (client_ip != NULL)
		put_field(&l, "client_ip", client_ip);
	finish(&l);
}
