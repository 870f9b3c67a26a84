/* breakwaterctl: the command-line face for operators and scripts — schema migrations and the
 * master key. Shares lib/ and services/ with the other faces. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/conf.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/migrate.h"
#include "services/auth.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: breakwaterctl [--config FILE] COMMAND\n\n"
	    "Commands:\n"
	    "  migrate        apply pending database migrations (refuses a newer schema)\n"
	    "  schema-version print the database's schema version and the newest one known\n"
	    "  keygen FILE    create a new 32-byte master key file (mode 0600; never "
	    "overwrites)\n"
	    "  bootstrap-admin  create the first admin from $BREAKWATER_ADMIN_EMAIL and\n"
	    "                 $BREAKWATER_ADMIN_PASSWORD when no user exists yet (idempotent)\n\n"
	    "Configuration: --config FILE, else $BREAKWATER_CONFIG, else %s;\n"
	    "see breakwater-fcgi --help for the keys.\n",
	    BW_CONF_DEFAULT_PATH);
}

static int with_db(const struct bw_conf *conf,
		   int (*fn)(struct bw_db *, struct bw_arena *, const struct bw_conf *))
{
	int code = 1;
	bw_db_global_init();
	struct bw_db *db = bw_db_new(conf);
	struct bw_arena *a = bw_arena_new(16384);
	if (db != NULL && a != NULL)
		code = fn(db, a, conf);
	bw_arena_free(a);
	bw_db_close(db);
	bw_db_global_end();
	return code;
}

static int do_migrate(struct bw_db *db, struct bw_arena *a, const struct bw_conf *conf)
{
	char err[512] = "";
	int applied = 0;
	enum bw_err rc = bw_migrate(db, a, &applied, err, sizeof(err));
	if (rc != BW_OK) {
		fprintf(stderr, "breakwaterctl: migrate: %s\n", err[0] ? err : bw_strerror(rc));
		return rc == BW_ESCHEMA ? 3 : 1;
	}
	printf("migrations applied: %d\n", applied);
	return 0;
}

static int do_version(struct bw_db *db, struct bw_arena *a, const struct bw_conf *conf)
{
	int v = 0;
	enum bw_err rc = bw_schema_version(db, a, &v);
	if (rc != BW_OK) {
		fprintf(stderr, "breakwaterctl: %s\n", bw_db_error(db));
		return 1;
	}
	printf("database %d, newest known %d\n", v,
	       bw_migrations_count ? bw_migrations[bw_migrations_count - 1].version : 0);
	return 0;
}

static int do_bootstrap(struct bw_db *db, struct bw_arena *a, const struct bw_conf *conf)
{
	const char *email = getenv("BREAKWATER_ADMIN_EMAIL");
	const char *pw = getenv("BREAKWATER_ADMIN_PASSWORD");
	if (email == NULL || pw == NULL || pw[0] == '\0') {
		fprintf(stderr, "breakwaterctl: bootstrap-admin needs BREAKWATER_ADMIN_EMAIL and "
				"BREAKWATER_ADMIN_PASSWORD\n");
		return 64;
	}
	char *norm = bw_email_normalize(a, email);
	if (norm == NULL || !bw_email_valid(norm)) {
		fprintf(stderr, "breakwaterctl: bootstrap-admin: invalid e-mail address\n");
		return 64;
	}
	if (strlen(pw) > BW_PASSWORD_MAX_BYTES) {
		fprintf(stderr, "breakwaterctl: bootstrap-admin: password over %d bytes\n",
			BW_PASSWORD_MAX_BYTES);
		return 64;
	}
	if (strlen(pw) < 12)
		fprintf(stderr, "breakwaterctl: warning: admin password shorter than 12 bytes\n");
	struct bw_svc svc = {db, a, NULL, conf, NULL};
	bool created = false;
	enum bw_err rc = bw_auth_bootstrap_admin(&svc, norm, pw, &created);
	if (rc != BW_OK) {
		fprintf(stderr, "breakwaterctl: bootstrap-admin: %s (%s)\n", bw_strerror(rc),
			bw_db_error(db));
		return 1;
	}
	printf(created ? "admin %s created\n" : "users exist already; %s not created\n", norm);
	return 0;
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
		config = argv[i + 1];
		i += 2;
	}
	if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 64 : 0;
	}
	const char *cmd = argv[i];
	char err[512];
	if (strcmp(cmd, "keygen") == 0) {
		if (i + 1 >= argc) {
			usage(stderr);
			return 64;
		}
		if (bw_key_generate(argv[i + 1], err, sizeof(err)) != BW_OK) {
			fprintf(stderr, "breakwaterctl: keygen: %s\n", err);
			return 1;
		}
		return 0;
	}
	struct bw_conf conf;
	if (bw_conf_load(config, &conf, err, sizeof(err)) != BW_OK) {
		fprintf(stderr, "breakwaterctl: configuration: %s\n", err);
		return 78;
	}
	bw_log_set_level(BW_LOG_WARN);
	if (strcmp(cmd, "migrate") == 0)
		return with_db(&conf, do_migrate);
	if (strcmp(cmd, "schema-version") == 0)
		return with_db(&conf, do_version);
	if (strcmp(cmd, "bootstrap-admin") == 0)
		return with_db(&conf, do_bootstrap);
	fprintf(stderr, "breakwaterctl: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return 64;
}
