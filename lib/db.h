/* db: one MariaDB connection (owned by one thread) with a prepared-statement cache, lazy
 * (re)connection, and typed parameters. No SQL text is ever built from input: every statement
 * is a constant string with ? placeholders. MariaDB error numbers stop here: callers get
 * enum bw_err (duplicate key -> BW_ECONFLICT, lost connection -> BW_EDBLOST, else BW_EDB). */
#ifndef BW_DB_H
#define BW_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/arena.h"
#include "lib/conf.h"
#include "lib/err.h"

enum bw_dbtype { BW_DB_NULL, BW_DB_TEXT, BW_DB_BLOB, BW_DB_INT };

struct bw_dbarg {
	enum bw_dbtype type;
	const void *p;
	unsigned long len;
	long long i;
};

struct bw_dbarg bw_dba_text(const char *s); /* NULL -> SQL NULL */
struct bw_dbarg bw_dba_textn(const char *s, size_t n);
struct bw_dbarg bw_dba_blob(const void *p, size_t n); /* NULL -> SQL NULL */
struct bw_dbarg bw_dba_int(long long i);
struct bw_dbarg bw_dba_null(void);

/* A result held entirely in arena memory. cells[r * ncols + c] is NULL for SQL NULL, else a
 * NUL-terminated copy whose byte length is lens[r * ncols + c]. */
struct bw_dbres {
	size_t nrows, ncols;
	char **cells;
	unsigned long *lens;
};

static inline const char *bw_db_cell(const struct bw_dbres *r, size_t row, size_t col)
{
	return r->cells[row * r->ncols + col];
}
static inline unsigned long bw_db_len(const struct bw_dbres *r, size_t row, size_t col)
{
	return r->lens[row * r->ncols + col];
}

struct bw_db;

/* Call once per process before threads start, and bw_db_global_end at exit. */
void bw_db_global_init(void);
void bw_db_global_end(void);
/* Call in every thread that uses a connection, before first use / before exiting. */
void bw_db_thread_init(void);
void bw_db_thread_end(void);

/* Returns a new handle (not yet connected; it connects on first use). Caller frees with
 * bw_db_close. NULL when out of memory. */
struct bw_db *bw_db_new(const struct bw_conf *conf);
void bw_db_close(struct bw_db *db);

/* Round trip to the server, reconnecting once if needed; *latency_ms may be NULL. */
enum bw_err bw_db_ping(struct bw_db *db, double *latency_ms);

enum bw_err bw_db_begin(struct bw_db *db);
enum bw_err bw_db_commit(struct bw_db *db);
/* Safe to call after any failure; NULL-safe on a closed connection. */
void bw_db_rollback(struct bw_db *db);
/* Ends a transaction by the outcome of its work: commits when rc is BW_OK (the commit's result),
 * otherwise rolls back and returns rc. */
enum bw_err bw_db_end(struct bw_db *db, enum bw_err rc);

/* Executes a statement without a result set. sql must be a string constant (it keys the
 * statement cache). affected / insert_id may be NULL. */
enum bw_err bw_db_exec(struct bw_db *db, const char *sql, const struct bw_dbarg *args, size_t nargs,
		       unsigned long long *affected, unsigned long long *insert_id);
/* Like bw_db_exec, for text that is not a constant (migrations): prepared and closed at once. */
enum bw_err bw_db_exec_once(struct bw_db *db, const char *sql);
/* Executes a SELECT and copies every row into out (arena memory). */
enum bw_err bw_db_query(struct bw_db *db, struct bw_arena *a, const char *sql,
			const struct bw_dbarg *args, size_t nargs, struct bw_dbres *out);

/* One row of bw_db_stream: cells[c] is NULL for SQL NULL, else NUL-terminated with byte length
 * lens[c]. Both are valid only during the call, and the callback must not use the connection
 * (it is busy with the unfinished result). Return 0 for the next row, non-zero to stop. */
typedef int (*bw_db_row_fn)(void *ctx, const char *const *cells, const unsigned long *lens,
			    size_t ncols);
/* Executes a SELECT and hands the rows to fn one at a time as they arrive from the server
 * (nothing is buffered beyond the current row, so memory does not grow with the result). The
 * statement is not cached: an unfinished result would block the connection's other statements.
 * BW_OK when every row was delivered or fn stopped early (*stopped tells which). */
enum bw_err bw_db_stream(struct bw_db *db, const char *sql, const struct bw_dbarg *args,
			 size_t nargs, bw_db_row_fn fn, void *ctx, bool *stopped);

/* The server's last error text, for logs (never contains parameter values we sent). */
const char *bw_db_error(const struct bw_db *db);

#endif
