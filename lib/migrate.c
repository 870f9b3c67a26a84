/* migrate: see migrate.h. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/migrate.h"

#define MAX_STATEMENTS 256

static const char sql_create_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL,"
    " applied_at DATETIME(6) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
static const char sql_has_table[] =
    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
    " AND table_name = 'schema_migrations'";
static const char sql_max_version[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char sql_record[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(6))";
static const char sql_lock[] = "SELECT GET_LOCK('breakwater.migrate', 60)";
static const char sql_unlock[] = "SELECT RELEASE_LOCK('breakwater.migrate')";

/* "DELIMITER x" on a line of its own (outside a statement), as in the mysql client: from there
 * on statements end with a line ending in x, so trigger and routine bodies can hold ';'. */
static bool delimiter_line(const char *s, const char *eol, char *delim, size_t cap)
{
	static const char kw[] = "DELIMITER";
	size_t n = sizeof(kw) - 1;
	if ((size_t)(eol - s) <= n || strncasecmp(s, kw, n) != 0 || (s[n] != ' ' && s[n] != '\t'))
		return false;
	const char *v = s + n;
	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	const char *e = eol;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	if (e == v || (size_t)(e - v) >= cap)
		return false;
	memcpy(delim, v, (size_t)(e - v));
	delim[e - v] = '\0';
	return true;
}

size_t bw_migration_split(const char *sql, struct bw_arena *a, char **out, size_t max)
{
	size_t count = 0;
	const char *start = NULL, *p = sql;
	char delim[16] = ";";
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		const char *s = p;
		while (s < eol && (*s == ' ' || *s == '\t'))
			s++;
		bool comment = eol - s >= 2 && s[0] == '-' && s[1] == '-';
		if (!comment && start == NULL && delimiter_line(s, eol, delim, sizeof(delim))) {
			p = *eol == '\n' ? eol + 1 : eol;
			continue;
		}
		if (!comment && s < eol && start == NULL)
			start = p;
		const char *e = eol;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		size_t dl = strlen(delim);
		if (!comment && start != NULL && (size_t)(e - s) >= dl &&
		    memcmp(e - dl, delim, dl) == 0) {
			if (count < max)
				out[count] = bw_arena_strndup(a, start, (size_t)(e - dl - start));
			count++;
			start = NULL;
		}
		p = *eol == '\n' ? eol + 1 : eol;
	}
	return count;
}

/* Read-only, so the application account (no CREATE) can ask: no table yet is version 0. */
enum bw_err bw_schema_version(struct bw_db *db, struct bw_arena *a, int *version)
{
	struct bw_dbres r;
	*version = 0;
	enum bw_err rc = bw_db_query(db, a, sql_has_table, NULL, 0, &r);
	if (rc != BW_OK || r.nrows != 1 || bw_db_cell(&r, 0, 0) == NULL ||
	    atoi(bw_db_cell(&r, 0, 0)) == 0)
		return rc;
	rc = bw_db_query(db, a, sql_max_version, NULL, 0, &r);
	if (rc != BW_OK)
		return rc;
	*version = r.nrows == 1 && bw_db_cell(&r, 0, 0) != NULL ? atoi(bw_db_cell(&r, 0, 0)) : 0;
	return BW_OK;
}

static enum bw_err apply_one(struct bw_db *db, struct bw_arena *a, const struct bw_migration *m,
			     char *err, size_t errlen)
{
	char *stmts[MAX_STATEMENTS];
	size_t n = bw_migration_split(m->sql, a, stmts, MAX_STATEMENTS);
	if (n > MAX_STATEMENTS) {
		snprintf(err, errlen, "migration %s has too many statements", m->name);
		return BW_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (stmts[i] == NULL)
			return BW_ENOMEM;
		enum bw_err rc = bw_db_exec_once(db, stmts[i]);
		if (rc != BW_OK) {
			snprintf(err, errlen, "migration %s, statement %zu: %s", m->name, i + 1,
				 bw_db_error(db));
			return rc;
		}
	}
	struct bw_dbarg args[] = {bw_dba_int(m->version), bw_dba_text(m->name)};
	return bw_db_exec(db, sql_record, args, 2, NULL, NULL);
}

enum bw_err bw_migrate(struct bw_db *db, struct bw_arena *a, int *applied, char *err, size_t errlen)
{
	struct bw_dbres r;
	int current = 0;
	*applied = 0;
	/* DDL commits implicitly in MariaDB, so a lock (not a transaction) keeps two migrators
	 * from interleaving. */
	enum bw_err rc = bw_db_query(db, a, sql_lock, NULL, 0, &r);
	if (rc != BW_OK || r.nrows != 1 || bw_db_cell(&r, 0, 0) == NULL ||
	    strcmp(bw_db_cell(&r, 0, 0), "1") != 0) {
		snprintf(err, errlen, "cannot take the migration lock: %s", bw_db_error(db));
		return rc != BW_OK ? rc : BW_ETIMEDOUT;
	}
	rc = bw_db_exec_once(db, sql_create_table);
	if (rc == BW_OK)
		rc = bw_schema_version(db, a, &current);
	if (rc != BW_OK) {
		snprintf(err, errlen, "cannot read the schema version: %s", bw_db_error(db));
		goto out;
	}
	int newest = bw_migrations_count > 0 ? bw_migrations[bw_migrations_count - 1].version : 0;
	if (current > newest) {
		snprintf(err, errlen,
			 "database schema version %d is newer than this binary knows (%d); "
			 "upgrade Breakwater instead",
			 current, newest);
		rc = BW_ESCHEMA;
		goto out;
	}
	for (unsigned i = 0; i < bw_migrations_count; i++) {
		if (bw_migrations[i].version <= current)
			continue;
		rc = apply_one(db, a, &bw_migrations[i], err, errlen);
		if (rc != BW_OK)
			goto out;
		bw_log(BW_LOG_INFO, "migrate", NULL, "applied %s", bw_migrations[i].name);
		(*applied)++;
	}
out:
	bw_db_query(db, a, sql_unlock, NULL, 0, &r);
	return rc;
}

/* Account and table names go into GRANT text, so only a conservative charset is accepted. */
static bool plain_name(const char *s, bool host)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' ||
			  (host && (c == '.' || c == '-' || c == '%' || c == ':'));
		if (!ok)
			return false;
	}
	return true;
}

static const char sql_tables[] =
    "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
    " AND table_type = 'BASE TABLE' ORDER BY table_name";

/* The row privileges of one table: the audit trail is append-only for the application. */
static const char *table_privileges(const char *table)
{
	if (strcmp(table, "audit_log") == 0)
		return "SELECT, INSERT";
	if (strcmp(table, "audit_chain") == 0)
		return "SELECT";
	return "SELECT, INSERT, UPDATE, DELETE";
}

static enum bw_err grant(struct bw_db *db, const char *sql, char *err, size_t errlen)
{
	enum bw_err rc = bw_db_exec_once(db, sql);
	if (rc != BW_OK)
		snprintf(err, errlen, "%s: %s", sql, bw_db_error(db));
	return rc;
}

enum bw_err bw_migrate_grant_app(struct bw_db *db, struct bw_arena *a, const char *user,
				 const char *host, int *tables, char *err, size_t errlen)
{
	struct bw_dbres r;
	char sql[512];
	*tables = 0;
	if (!plain_name(user, false) || !plain_name(host, true)) {
		snprintf(err, errlen, "db_user and db_app_host must be plain names to be granted");
		return BW_EINVAL;
	}
	enum bw_err rc = bw_db_query(db, a, sql_tables, NULL, 0, &r);
	if (rc != BW_OK) {
		snprintf(err, errlen, "cannot list the tables: %s", bw_db_error(db));
		return rc;
	}
	for (size_t i = 0; i < r.nrows; i++) {
		const char *t = bw_db_cell(&r, i, 0);
		if (t == NULL || !plain_name(t, false))
			continue; /* never ours: every table of sql/ has a plain name */
		snprintf(sql, sizeof(sql), "GRANT %s ON `%s` TO '%s'@'%s'", table_privileges(t), t,
			 user, host);
		if ((rc = grant(db, sql, err, errlen)) != BW_OK)
			return rc;
		(*tables)++;
	}
	snprintf(sql, sizeof(sql), "GRANT EXECUTE ON PROCEDURE audit_purge TO '%s'@'%s'", user,
		 host);
	return grant(db, sql, err, errlen);
}
