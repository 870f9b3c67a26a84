/* migrate: applies the embedded sql/NNN_*.sql migrations in order and records each in
 * schema_migrations. Refuses a database whose schema is newer than this binary. */
#ifndef BW_MIGRATE_H
#define BW_MIGRATE_H

#include <stddef.h>

#include "lib/db.h"
#include "lib/err.h"

struct bw_migration {
	int version;
	const char *name;
	const char *sql;
};

/* Generated at build time from sql/ (sql_migrations.c). */
extern const struct bw_migration bw_migrations[];
extern const unsigned bw_migrations_count;

/* Applies pending migrations; *applied gets how many ran. Serialised across hosts with a named
 * lock. BW_ESCHEMA (with err) when the database is ahead of this binary. */
enum bw_err bw_migrate(struct bw_db *db, struct bw_arena *a, int *applied, char *err,
		       size_t errlen);

/* Two-account mode: run by the schema owner after bw_migrate, grants the application account
 * user@host row access (SELECT, INSERT, UPDATE, DELETE) on every table of the current database,
 * except the audit trail: SELECT and INSERT on audit_log, SELECT on audit_chain (its triggers
 * and the audit_purge procedure run with the owner's rights), and EXECUTE on audit_purge. So the
 * application can append and purge through the procedure, but never edit or delete an audit
 * row, drop a trigger or change the schema. Grants only add: the account must hold nothing
 * else (no database-wide grant), which is how scripts/lib.sh creates it. Idempotent; *tables
 * gets how many tables were granted.
 * BW_EINVAL when user or host is not a plain name (they are spliced into the statement: GRANT
 * takes no placeholders for accounts or identifiers). */
enum bw_err bw_migrate_grant_app(struct bw_db *db, struct bw_arena *a, const char *user,
				 const char *host, int *tables, char *err, size_t errlen);

/* Reads the current schema version (0 for an empty database) into *version. */
enum bw_err bw_schema_version(struct bw_db *db, struct bw_arena *a, int *version);

/* Splits one migration's text into statements (exposed for tests): statements end with a ';'
 * that closes a line; lines starting with "--" are comments. A line "DELIMITER x" between
 * statements makes x the terminator instead (for trigger and routine bodies); "DELIMITER ;"
 * switches back. Returns the count, fills up to
 * max pointers with arena copies. */
size_t bw_migration_split(const char *sql, struct bw_arena *a, char **out, size_t max);

#endif
