/* db: MariaDB Connector/C wrapper; see db.h. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "lib/clock.h"
#include "lib/db.h"
#include "lib/log.h"

#define MAX_ARGS 32
#define CACHE_SLOTS 64
/* A connection idle longer than this is pinged before use, so a restarted server is noticed
 * before a statement is sent rather than in the middle of a request. */
#define IDLE_PING_SECONDS 1.0

struct slot {
	const char *sql;
	MYSQL_STMT *stmt;
};

struct bw_db {
	MYSQL *my;
	bool in_tx;
	bool broken; /* lost: dropped (with its statements) at the next ensure() */
	double last_used;
	struct slot cache[CACHE_SLOTS];
	size_t ncache;
	unsigned last_errno;
	char last_error[256];
	/* A private copy: the handle outlives any reload of the caller's configuration. */
	char host[256], user[128], password[256], name[128], socket[PATH_MAX];
	int port;
};

struct bw_dbarg bw_dba_textn(const char *s, size_t n)
{
	struct bw_dbarg a = {s != NULL ? BW_DB_TEXT : BW_DB_NULL, s, (unsigned long)n, 0};
	return a;
}
struct bw_dbarg bw_dba_text(const char *s)
{
	return bw_dba_textn(s, s != NULL ? strlen(s) : 0);
}
struct bw_dbarg bw_dba_blob(const void *p, size_t n)
{
	struct bw_dbarg a = {p != NULL ? BW_DB_BLOB : BW_DB_NULL, p, (unsigned long)n, 0};
	return a;
}
struct bw_dbarg bw_dba_int(long long i)
{
	struct bw_dbarg a = {BW_DB_INT, NULL, 0, i};
	return a;
}
struct bw_dbarg bw_dba_null(void)
{
	struct bw_dbarg a = {BW_DB_NULL, NULL, 0, 0};
	return a;
}

void bw_db_global_init(void)
{
	mysql_library_init(0, NULL, NULL);
}
void bw_db_global_end(void)
{
	mysql_library_end();
}
void bw_db_thread_init(void)
{
	mysql_thread_init();
}
void bw_db_thread_end(void)
{
	mysql_thread_end();
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

struct bw_db *bw_db_new(const struct bw_conf *conf)
{
	struct bw_db *db = calloc(1, sizeof(*db));
	if (db == NULL)
		return NULL;
	copy(db->host, sizeof(db->host), conf->db_host);
	copy(db->user, sizeof(db->user), conf->db_user);
	copy(db->password, sizeof(db->password), conf->db_password);
	copy(db->name, sizeof(db->name), conf->db_name);
	copy(db->socket, sizeof(db->socket), conf->db_socket);
	db->port = conf->db_port;
	return db;
}

static void disconnect(struct bw_db *db)
{
	for (size_t i = 0; i < db->ncache; i++)
		mysql_stmt_close(db->cache[i].stmt);
	db->ncache = 0;
	if (db->my != NULL)
		mysql_close(db->my);
	db->my = NULL;
	db->in_tx = false;
	db->broken = false;
}

void bw_db_close(struct bw_db *db)
{
	if (db == NULL)
		return;
	disconnect(db);
	explicit_bzero(db->password, sizeof(db->password));
	free(db);
}

static enum bw_err map_errno(unsigned e)
{
	switch (e) {
	case ER_DUP_ENTRY:
	case ER_DUP_ENTRY_WITH_KEY_NAME:
		return BW_ECONFLICT;
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_COMMANDS_OUT_OF_SYNC:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
		return BW_EDBLOST;
	case ER_LOCK_WAIT_TIMEOUT:
		return BW_ETIMEDOUT;
	case ER_LOCK_DEADLOCK:
		return BW_EUNAVAIL; /* the transaction was rolled back; the client may retry */
	default:
		return BW_EDB;
	}
}

/* Records the error of the connection or statement and returns its mapping. A lost connection
 * is only marked: statements the caller still holds stay valid until the next ensure(). */
static enum bw_err fail(struct bw_db *db, unsigned e, const char *text)
{
	db->last_errno = e;
	copy(db->last_error, sizeof(db->last_error), text);
	enum bw_err rc = map_errno(e);
	if (rc == BW_EDBLOST) {
		bw_log(BW_LOG_WARN, "db", NULL, "connection lost (%u: %s)", e, text);
		db->broken = true;
	} else if (rc == BW_EDB || rc == BW_EUNAVAIL) {
		bw_log(BW_LOG_ERROR, "db", NULL, "statement failed (%u: %s)", e, text);
	}
	return rc;
}

static enum bw_err connect_db(struct bw_db *db)
{
	MYSQL *my = mysql_init(NULL);
	if (my == NULL)
		return BW_ENOMEM;
	unsigned connect_timeout = 5, io_timeout = 30;
	my_bool no = 0;
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
	mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
	mysql_options(my, MYSQL_OPT_RECONNECT,
		      &no); /* we reconnect ourselves, with a fresh cache */
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(my, MYSQL_INIT_COMMAND,
		      "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,"
		      "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
	/* Read committed: no gap locks on reads inside writes (INSERT ... SELECT in the audit
	 * row), which is what made concurrent registry writes deadlock under repeatable read. */
	mysql_options(my, MYSQL_INIT_COMMAND,
		      "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	bool tcp = db->host[0] != '\0';
	if (mysql_real_connect(my, tcp ? db->host : NULL, db->user, db->password, db->name,
			       tcp ? (unsigned)db->port : 0, tcp ? NULL : db->socket,
			       CLIENT_FOUND_ROWS) == NULL) {
		unsigned e = mysql_errno(my);
		char text[256];
		copy(text, sizeof(text), mysql_error(my));
		mysql_close(my);
		db->last_errno = e;
		copy(db->last_error, sizeof(db->last_error), text);
		bw_log(BW_LOG_ERROR, "db", NULL, "cannot connect (%u: %s)", e, text);
		return BW_EDBLOST;
	}
	db->my = my;
	db->last_used = bw_mono_s();
	return BW_OK;
}

/* Makes sure there is a live connection; inside a transaction a lost one cannot be replaced. */
static enum bw_err ensure(struct bw_db *db)
{
	if (db->broken || db->my == NULL) {
		if (db->in_tx)
			return BW_EDBLOST;
		disconnect(db);
		return connect_db(db);
	}
	if (!db->in_tx && bw_mono_s() - db->last_used > IDLE_PING_SECONDS &&
	    mysql_ping(db->my) != 0) {
		disconnect(db);
		return connect_db(db);
	}
	return BW_OK;
}

static MYSQL_STMT *prepare(struct bw_db *db, const char *sql, bool cache, enum bw_err *rc)
{
	for (size_t i = 0; cache && i < db->ncache; i++)
		if (db->cache[i].sql == sql)
			return db->cache[i].stmt;
	MYSQL_STMT *st = mysql_stmt_init(db->my);
	if (st == NULL) {
		*rc = BW_ENOMEM;
		return NULL;
	}
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
		unsigned e = mysql_stmt_errno(st);
		char text[256];
		copy(text, sizeof(text), mysql_stmt_error(st));
		mysql_stmt_close(st);
		*rc = fail(db, e, text);
		return NULL;
	}
	if (cache && db->ncache < CACHE_SLOTS) {
		db->cache[db->ncache].sql = sql;
		db->cache[db->ncache].stmt = st;
		db->ncache++;
	}
	return st;
}

static bool is_cached(const struct bw_db *db, const MYSQL_STMT *st)
{
	for (size_t i = 0; i < db->ncache; i++)
		if (db->cache[i].stmt == st)
			return true;
	return false;
}

/* Statements outside the cache are closed after use; cached ones live with the connection. */
static void release(struct bw_db *db, MYSQL_STMT *st)
{
	if (st != NULL && !is_cached(db, st))
		mysql_stmt_close(st);
}

static enum bw_err bind_args(struct bw_db *db, MYSQL_STMT *st, const struct bw_dbarg *args,
			     size_t nargs, MYSQL_BIND *b)
{
	if (nargs > MAX_ARGS || mysql_stmt_param_count(st) != nargs) {
		bw_log(BW_LOG_ERROR, "db", NULL, "statement expects %lu parameters, got %zu",
		       mysql_stmt_param_count(st), nargs);
		return BW_EDB;
	}
	memset(b, 0, sizeof(MYSQL_BIND) * (nargs ? nargs : 1));
	for (size_t i = 0; i < nargs; i++) {
		switch (args[i].type) {
		case BW_DB_NULL:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case BW_DB_TEXT:
		case BW_DB_BLOB:
			b[i].buffer_type =
			    args[i].type == BW_DB_TEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
			b[i].buffer = (void *)(uintptr_t)args[i].p;
			b[i].buffer_length = args[i].len;
			b[i].length = (unsigned long *)&args[i].len;
			break;
		case BW_DB_INT:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)(uintptr_t)&args[i].i;
			break;
		}
	}
	if (nargs > 0 && mysql_stmt_bind_param(st, b) != 0)
		return fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
	return BW_OK;
}

/* Prepares (or reuses), binds and executes; on success *out is the live statement. */
static enum bw_err run(struct bw_db *db, const char *sql, bool cache, const struct bw_dbarg *args,
		       size_t nargs, bool want_rows, MYSQL_STMT **out)
{
	enum bw_err rc = ensure(db);
	MYSQL_STMT *st = NULL;
	MYSQL_BIND b[MAX_ARGS];
	if (rc != BW_OK)
		return rc;
	st = prepare(db, sql, cache, &rc);
	if (st == NULL)
		return rc;
	rc = bind_args(db, st, args, nargs, b);
	if (rc != BW_OK)
		goto out;
	if (want_rows) {
		my_bool yes = 1;
		mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &yes);
	}
	if (mysql_stmt_execute(st) != 0) {
		unsigned e = mysql_stmt_errno(st);
		char text[256];
		copy(text, sizeof(text), mysql_stmt_error(st));
		rc = fail(db, e, text);
		goto out;
	}
	db->last_used = bw_mono_s();
	*out = st;
	st = NULL;
out:
	if (st != NULL)
		release(db, st);
	return rc;
}

enum bw_err bw_db_exec(struct bw_db *db, const char *sql, const struct bw_dbarg *args, size_t nargs,
		       unsigned long long *affected, unsigned long long *insert_id)
{
	MYSQL_STMT *st = NULL;
	enum bw_err rc = run(db, sql, true, args, nargs, false, &st);
	/* "Server gone" means the statement never reached it, so one retry cannot apply it twice.
	 */
	if (rc == BW_EDBLOST && !db->in_tx && db->last_errno == CR_SERVER_GONE_ERROR)
		rc = run(db, sql, true, args, nargs, false, &st);
	if (rc != BW_OK)
		return rc;
	if (affected != NULL)
		*affected = mysql_stmt_affected_rows(st);
	if (insert_id != NULL)
		*insert_id = mysql_stmt_insert_id(st);
	release(db, st);
	return BW_OK;
}

enum bw_err bw_db_exec_once(struct bw_db *db, const char *sql)
{
	MYSQL_STMT *st = NULL;
	enum bw_err rc = run(db, sql, false, NULL, 0, false, &st);
	if (rc == BW_OK)
		mysql_stmt_close(st);
	return rc;
}

static size_t column_buffer(const MYSQL_FIELD *f)
{
	switch (f->type) {
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_JSON:
		return f->max_length + 1;
	default:
		return 80; /* numbers and dates rendered as text */
	}
}

static enum bw_err fetch_all(struct bw_db *db, MYSQL_STMT *st, struct bw_arena *a,
			     struct bw_dbres *out)
{
	enum bw_err rc = BW_EDB;
	MYSQL_RES *meta = mysql_stmt_result_metadata(st);
	MYSQL_BIND *b = NULL;
	if (meta == NULL)
		return fail(db, mysql_stmt_errno(st), "statement returns no result set");
	if (mysql_stmt_store_result(st) != 0) {
		rc = fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto out;
	}
	size_t ncols = mysql_num_fields(meta), nrows = (size_t)mysql_stmt_num_rows(st);
	MYSQL_FIELD *fields = mysql_fetch_fields(meta);
	b = calloc(ncols ? ncols : 1, sizeof(*b));
	unsigned long *lens = bw_arena_zalloc(a, sizeof(*lens) * (ncols * nrows + 1));
	char **cells = bw_arena_zalloc(a, sizeof(*cells) * (ncols * nrows + 1));
	unsigned long *cur_len = bw_arena_zalloc(a, sizeof(*cur_len) * (ncols + 1));
	my_bool *is_null = bw_arena_zalloc(a, sizeof(*is_null) * (ncols + 1));
	if (b == NULL || lens == NULL || cells == NULL || cur_len == NULL || is_null == NULL) {
		rc = BW_ENOMEM;
		goto out;
	}
	for (size_t c = 0; c < ncols; c++) {
		size_t cap = column_buffer(&fields[c]);
		b[c].buffer_type = MYSQL_TYPE_STRING;
		b[c].buffer = bw_arena_alloc(a, cap);
		b[c].buffer_length = cap;
		b[c].length = &cur_len[c];
		b[c].is_null = &is_null[c];
		if (b[c].buffer == NULL) {
			rc = BW_ENOMEM;
			goto out;
		}
	}
	if (ncols > 0 && mysql_stmt_bind_result(st, b) != 0) {
		rc = fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto out;
	}
	for (size_t r = 0; r < nrows; r++) {
		int f = mysql_stmt_fetch(st);
		if (f == 1 || f == MYSQL_NO_DATA) {
			rc = fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
			goto out;
		}
		if (f == MYSQL_DATA_TRUNCATED) {
			bw_log(BW_LOG_ERROR, "db", NULL, "result column truncated");
			goto out;
		}
		for (size_t c = 0; c < ncols; c++) {
			if (is_null[c])
				continue;
			cells[r * ncols + c] = bw_arena_strndup(a, b[c].buffer, cur_len[c]);
			lens[r * ncols + c] = cur_len[c];
			if (cells[r * ncols + c] == NULL) {
				rc = BW_ENOMEM;
				goto out;
			}
		}
	}
	out->nrows = nrows;
	out->ncols = ncols;
	out->cells = cells;
	out->lens = lens;
	rc = BW_OK;
out:
	free(b);
	mysql_stmt_free_result(st);
	mysql_free_result(meta);
	return rc;
}

enum bw_err bw_db_query(struct bw_db *db, struct bw_arena *a, const char *sql,
			const struct bw_dbarg *args, size_t nargs, struct bw_dbres *out)
{
	memset(out, 0, sizeof(*out));
	MYSQL_STMT *st = NULL;
	enum bw_err rc = run(db, sql, true, args, nargs, true, &st);
	/* A read outside a transaction is safe to repeat once on a fresh connection. */
	if (rc == BW_EDBLOST && !db->in_tx)
		rc = run(db, sql, true, args, nargs, true, &st);
	if (rc != BW_OK)
		return rc;
	rc = fetch_all(db, st, a, out);
	release(db, st);
	return rc;
}

/* Per-column buffers of a streamed result; they grow when a value does not fit. */
struct rowbuf {
	size_t ncols;
	MYSQL_BIND *b;
	unsigned long *len;
	my_bool *is_null;
	my_bool *error;
	char **cells;
};

static void rowbuf_free(struct rowbuf *rb)
{
	for (size_t c = 0; rb->b != NULL && c < rb->ncols; c++)
		free(rb->b[c].buffer);
	free(rb->b);
	free(rb->len);
	free(rb->is_null);
	free(rb->error);
	free(rb->cells);
}

static enum bw_err rowbuf_init(struct rowbuf *rb, size_t ncols)
{
	size_t n = ncols ? ncols : 1;
	rb->ncols = ncols;
	rb->b = calloc(n, sizeof(*rb->b));
	rb->len = calloc(n, sizeof(*rb->len));
	rb->is_null = calloc(n, sizeof(*rb->is_null));
	rb->error = calloc(n, sizeof(*rb->error));
	rb->cells = calloc(n, sizeof(*rb->cells));
	if (rb->b == NULL || rb->len == NULL || rb->is_null == NULL || rb->error == NULL ||
	    rb->cells == NULL)
		return BW_ENOMEM;
	for (size_t c = 0; c < ncols; c++) {
		rb->b[c].buffer_type = MYSQL_TYPE_STRING;
		/* One byte more than declared: room for the terminating NUL. */
		rb->b[c].buffer_length = 256;
		rb->b[c].buffer = malloc(257);
		rb->b[c].length = &rb->len[c];
		rb->b[c].is_null = &rb->is_null[c];
		rb->b[c].error = &rb->error[c];
		if (rb->b[c].buffer == NULL)
			return BW_ENOMEM;
	}
	return BW_OK;
}

/* After MYSQL_DATA_TRUNCATED: grows the short buffers and fetches those columns again. */
static enum bw_err rowbuf_refetch(struct bw_db *db, MYSQL_STMT *st, struct rowbuf *rb)
{
	for (size_t c = 0; c < rb->ncols; c++) {
		MYSQL_BIND *b = &rb->b[c];
		if (rb->is_null[c] || !rb->error[c])
			continue;
		size_t cap = rb->len[c];
		char *nb = realloc(b->buffer, cap + 1);
		if (nb == NULL)
			return BW_ENOMEM;
		b->buffer = nb;
		b->buffer_length = cap;
		if (mysql_stmt_fetch_column(st, b, (unsigned)c, 0) != 0)
			return fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
	}
	/* The grown buffers must be bound for the next rows too. */
	if (mysql_stmt_bind_result(st, rb->b) != 0)
		return fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
	return BW_OK;
}

static enum bw_err stream_rows(struct bw_db *db, MYSQL_STMT *st, bw_db_row_fn fn, void *ctx,
			       bool *stopped)
{
	struct rowbuf rb = {0};
	enum bw_err rc = BW_OK;
	MYSQL_RES *meta = mysql_stmt_result_metadata(st);
	if (meta == NULL)
		return fail(db, mysql_stmt_errno(st), "statement returns no result set");
	rc = rowbuf_init(&rb, mysql_num_fields(meta));
	if (rc != BW_OK)
		goto out;
	if (rb.ncols > 0 && mysql_stmt_bind_result(st, rb.b) != 0) {
		rc = fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto out;
	}
	for (;;) {
		int f = mysql_stmt_fetch(st);
		if (f == MYSQL_NO_DATA)
			break;
		if (f == 1) {
			rc = fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
			goto out;
		}
		if (f == MYSQL_DATA_TRUNCATED && (rc = rowbuf_refetch(db, st, &rb)) != BW_OK)
			goto out;
		for (size_t c = 0; c < rb.ncols; c++) {
			char *buf = rb.b[c].buffer;
			buf[rb.len[c]] = '\0';
			rb.cells[c] = rb.is_null[c] ? NULL : buf;
		}
		if (fn(ctx, (const char *const *)rb.cells, rb.len, rb.ncols) != 0) {
			*stopped = true;
			break;
		}
	}
out:
	/* Discards what the server still sends, so the connection is usable again. */
	mysql_stmt_free_result(st);
	mysql_free_result(meta);
	rowbuf_free(&rb);
	return rc;
}

enum bw_err bw_db_stream(struct bw_db *db, const char *sql, const struct bw_dbarg *args,
			 size_t nargs, bw_db_row_fn fn, void *ctx, bool *stopped)
{
	MYSQL_STMT *st = NULL;
	*stopped = false;
	enum bw_err rc = run(db, sql, false, args, nargs, false, &st);
	if (rc == BW_EDBLOST && !db->in_tx)
		rc = run(db, sql, false, args, nargs, false, &st);
	if (rc != BW_OK)
		return rc;
	rc = stream_rows(db, st, fn, ctx, stopped);
	mysql_stmt_close(st);
	db->last_used = bw_mono_s();
	return rc;
}

enum bw_err bw_db_ping(struct bw_db *db, double *latency_ms)
{
	double t0 = bw_mono_s();
	enum bw_err rc = BW_OK;
	if (db->broken || db->my == NULL || mysql_ping(db->my) != 0) {
		disconnect(db);
		rc = connect_db(db);
		if (rc == BW_OK && mysql_ping(db->my) != 0)
			rc = fail(db, mysql_errno(db->my), mysql_error(db->my));
	}
	if (rc == BW_OK)
		db->last_used = bw_mono_s();
	if (latency_ms != NULL)
		*latency_ms = (bw_mono_s() - t0) * 1000.0;
	return rc;
}

enum bw_err bw_db_begin(struct bw_db *db)
{
	/* Nothing has run yet, so a connection found dead here (a restarted server the idle ping
	 * did not catch) is replaced once and the transaction starts on the new one. */
	for (int attempt = 0; attempt < 2; attempt++) {
		enum bw_err rc = ensure(db);
		if (rc != BW_OK)
			return rc;
		if (mysql_autocommit(db->my, 0) == 0) {
			db->in_tx = true;
			return BW_OK;
		}
		rc = fail(db, mysql_errno(db->my), mysql_error(db->my));
		if (rc != BW_EDBLOST)
			return rc;
	}
	return BW_EDBLOST;
}

enum bw_err bw_db_end(struct bw_db *db, enum bw_err rc)
{
	if (rc == BW_OK)
		return bw_db_commit(db);
	bw_db_rollback(db);
	return rc;
}

enum bw_err bw_db_commit(struct bw_db *db)
{
	if (db->my == NULL || db->broken) {
		bw_db_rollback(db);
		return BW_EDBLOST;
	}
	if (mysql_commit(db->my) != 0) {
		enum bw_err rc = fail(db, mysql_errno(db->my), mysql_error(db->my));
		bw_db_rollback(db);
		return rc;
	}
	db->in_tx = false;
	if (mysql_autocommit(db->my, 1) != 0)
		return fail(db, mysql_errno(db->my), mysql_error(db->my));
	db->last_used = bw_mono_s();
	return BW_OK;
}

void bw_db_rollback(struct bw_db *db)
{
	if (db == NULL)
		return;
	db->in_tx = false;
	if (db->my == NULL)
		return;
	if (db->broken || mysql_rollback(db->my) != 0 || mysql_autocommit(db->my, 1) != 0)
		disconnect(db);
}

const char *bw_db_error(const struct bw_db *db)
{
	return db->last_error;
}
