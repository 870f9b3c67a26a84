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

/* Reads the current schema version (0 for an empty database) into *version. */
enum bw_err bw_schema_version(struct bw_db *db, struct bw_arena *a, int *version);

/* Splits one migration's text into statements (exposed for tests): statements end with a ';'
 * that closes a line; lines starting with "--" are comments. A line "DELIMITER x" between
 * statements makes x the terminator instead (for trigger and routine bodies); "DELIMITER ;"
 * switches back. Returns the count, fills up to
 * max pointers with arena copies. */
size_t bw_migration_split(const char *sql, struct bw_arena *a, char **out, size_t max);

#endif
