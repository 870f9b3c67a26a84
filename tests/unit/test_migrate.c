/* Unit tests for lib/migrate's statement splitter and the embedded migrations. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/migrate.h"
#include "tests/unit/tap.h"

static const char sample[] =
    "-- 002: a sample migration; this comment ends with a semicolon;\n"
    "   -- an indented comment;\n"
    "\n"
    "CREATE TABLE t (\n"
    "  a INT NOT NULL, -- inline comment\n"
    "  b VARCHAR(8) NOT NULL DEFAULT ';x'\n"
    ");   \t\n"
    "INSERT INTO t (a, b) VALUES (1, 'a;b'); INSERT INTO t (a, b) VALUES (2, 'c');\n"
    "\n"
    "-- between statements\n"
    "UPDATE t\n"
    "-- a comment line inside a statement\n"
    "SET a = 3;\r\n"
    "  DROP TABLE t;";

static void test_split(struct bw_arena *a)
{
	char *out[8] = {NULL};
	size_t n = bw_migration_split(sample, a, out, 8);
	is_int(n, 4, "four statements");
	is_str(out[0],
	       "CREATE TABLE t (\n"
	       "  a INT NOT NULL, -- inline comment\n"
	       "  b VARCHAR(8) NOT NULL DEFAULT ';x'\n"
	       ")",
	       "multi-line statement; its final ';' and trailing blanks are dropped");
	is_str(out[1],
	       "INSERT INTO t (a, b) VALUES (1, 'a;b'); INSERT INTO t (a, b) VALUES (2, 'c')",
	       "a ';' that does not end the line stays in the statement");
	is_str(out[2], "UPDATE t\n-- a comment line inside a statement\nSET a = 3",
	       "a comment inside a statement is kept, CRLF handled");
	is_str(out[3], "  DROP TABLE t", "last statement without a newline");

	char *few[2] = {NULL, NULL};
	is_int(bw_migration_split(sample, a, few, 1), 4,
	       "the count is returned when max is smaller");
	ok(few[0] != NULL && strncmp(few[0], "CREATE TABLE t", 14) == 0 && few[1] == NULL,
	   "only max pointers are filled");

	is_int(bw_migration_split("", a, out, 8), 0, "empty text");
	is_int(bw_migration_split("-- only a comment;\n-- another;\n", a, out, 8), 0,
	       "comments only");
	is_int(bw_migration_split("SELECT 1;\nSELECT 2;\n", a, out, 8), 2,
	       "two one-line statements");
	is_str(out[1], "SELECT 2", "second one-line statement");
}

static const char with_delimiter[] = "CREATE TABLE t (a INT);\n"
				     "DELIMITER //\n"
				     "CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW\n"
				     "BEGIN\n"
				     "  SET NEW.a = 1;\n"
				     "  SET NEW.a = NEW.a + 1;\n"
				     "END//\n"
				     "-- a comment ending in //\n"
				     "CREATE FUNCTION f() RETURNS INT RETURN 1 //  \n"
				     "delimiter ;\n"
				     "DROP TABLE t;\n"
				     "DELIMITER\n"
				     "SELECT 2;\n";

static void test_delimiter(struct bw_arena *a)
{
	char *out[8] = {NULL};
	size_t n = bw_migration_split(with_delimiter, a, out, 8);
	is_int(n, 5, "five statements around a DELIMITER block");
	is_str(out[0], "CREATE TABLE t (a INT)", "before the block: ';'");
	is_str(out[1],
	       "CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  SET NEW.a = 1;\n"
	       "  SET NEW.a = NEW.a + 1;\nEND",
	       "a body with ';' lines stays one statement, ended by the delimiter");
	is_str(out[2], "CREATE FUNCTION f() RETURNS INT RETURN 1 ",
	       "comments are skipped; trailing blanks after the delimiter are ignored");
	is_str(out[3], "DROP TABLE t", "'delimiter ;' (any case) switches back");
	is_str(out[4], "DELIMITER\nSELECT 2",
	       "a bare DELIMITER word is not a switch (it is statement text)");
}

static void test_embedded(struct bw_arena *a)
{
	ok(bw_migrations_count >= 1, "at least one embedded migration (%u)", bw_migrations_count);
	is_int(bw_migrations[0].version, 1, "the first migration is version 1");
	int increasing = 1, named = 1, split = 1;
	for (unsigned i = 0; i < bw_migrations_count; i++) {
		const struct bw_migration *m = &bw_migrations[i];
		if (i > 0 && m->version <= bw_migrations[i - 1].version)
			increasing = 0;
		if (m->name == NULL || atoi(m->name) != m->version)
			named = 0;
		char *stmts[256];
		size_t n = m->sql != NULL ? bw_migration_split(m->sql, a, stmts, 256) : 0;
		if (n < 1 || n > 256) {
			split = 0;
			printf("# migration %s splits into %zu statements\n", m->name, n);
		}
		for (size_t k = 0; k < n && k < 256; k++)
			if (stmts[k] == NULL || strncmp(stmts[k], "--", 2) == 0)
				split = 0;
	}
	ok(increasing, "versions strictly increase");
	ok(named, "each name starts with its version number");
	ok(split, "each migration splits into at least one statement");
	char *stmts[8];
	size_t n = bw_migration_split(bw_migrations[0].sql, a, stmts, 8);
	ok(n >= 2 && strncmp(stmts[0], "CREATE TABLE gateways", 21) == 0,
	   "001_init starts with CREATE TABLE gateways (%zu statements)", n);
}

int main(void)
{
	plan(23);
	struct bw_arena *a = bw_arena_new(8192);
	test_split(a);
	test_delimiter(a);
	test_embedded(a);
	bw_arena_free(a);
	return done();
}
