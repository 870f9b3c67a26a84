/* log: one JSON object per line on stderr. Lines are written with a single write(2) so lines
 * from the threads and processes of the pool never interleave. Callers must not pass secrets. */
#ifndef BW_LOG_H
#define BW_LOG_H

enum bw_log_level { BW_LOG_DEBUG = 0, BW_LOG_INFO, BW_LOG_WARN, BW_LOG_ERROR };

/* Sets the minimum level written (process-wide; call before starting threads). */
void bw_log_set_level(enum bw_log_level level);
/* Parses "debug"/"info"/"warn"/"error"; returns -1 for anything else. */
int bw_log_level_parse(const char *s);

/* Writes {"ts","level","module","pid","request_id"?,"msg"}; request_id may be NULL. */
void bw_log(enum bw_log_level level, const char *module, const char *request_id, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));

/* The per-request access line: method, path (no query string: it may carry secrets), status,
 * duration and request id. */
void bw_log_request(const char *method, const char *path, int status, double duration_ms,
		    const char *request_id, const char *client_ip);

#endif
