/* breakwaterctl: the command-line face for operators and scripts — schema migrations, the
 * master key, the audit trail's verification and retention, and gateway exec/watch. Shares lib/ and
 * services/ with the other faces. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/gateway.h"
#include "lib/arena.h"
#include "lib/conf.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/migrate.h"
#include "services/audit.h"
#include "services/auth.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: breakwaterctl [--config FILE] COMMAND\n\n"
	    "Commands:\n"
	    "  migrate        apply pending database migrations (refuses a newer schema); with\n"
	    "                 db_migrate_user set, as that schema owner, then grant db_user row\n"
	    "                 access (append-only on the audit trail)\n"
	    "  schema-version print the database's schema version and the newest one known\n"
	    "  keygen FILE    create a new 32-byte master key file (mode 0600; never "
	    "overwrites)\n"
	    "  bootstrap-admin  create the first admin from $BREAKWATER_ADMIN_EMAIL and\n"
	    "                 $BREAKWATER_ADMIN_PASSWORD when no user exists yet (idempotent)\n"
	    "  audit verify   walk the audit hash chain; prints the first broken link and\n"
	    "                 exits 2 when there is one\n"
	    "  audit purge --older-than DAYS\n"
	    "                 delete audit rows older than DAYS days (retention); the purge\n"
	    "                 itself is audited (audit.purged, with the count)\n"
	    "  gateway exec GATEWAY SANDBOX [--timeout S] -- CMD...\n"
	    "                 run CMD in a sandbox; stdout/stderr stream as they arrive, the\n"
	    "                 exit code is the command's (69: the gateway call failed)\n"
	    "  gateway watch GATEWAY SANDBOX [--max-events N] [--deadline S]\n"
	    "                 print the sandbox's phase, log and event stream, one per line,\n"
	    "                 until it ends, N events arrived or S seconds (default 3600) "
	    "passed\n\n"
	    "Configuration: --config FILE, else $BREAKWATER_CONFIG, else %s;\n"
	    "see breakwater-fcgi --help for the keys.\n",
	    BW_CONF_DEFAULT_PATH);
}

static int with_db(const struct bw_conf *conf,
		   int (*fn)(struct bw_db *, struct bw_arena *, const void *), const void *arg)
{
	int code = 1;
	bw_db_global_init();
	struct bw_db *db = bw_db_new(conf);
	struct bw_arena *a = bw_arena_new(16384);
	if (db != NULL && a != NULL)
		code = fn(db, a, arg);
	bw_arena_free(a);
	bw_db_close(db);
	bw_db_global_end();
	return code;
}

/* Two-account mode: the schema owner (db_migrate_user) migrates, the application account only
 * gets row access. */
static bool separate_owner(const struct bw_conf *conf)
{
	return conf->db_migrate_user[0] != '\0' &&
	       strcmp(conf->db_migrate_user, conf->db_user) != 0;
}

/* arg: the configuration (for the application account to grant). */
static int do_migrate(struct bw_db *db, struct bw_arena *a, const void *arg)
{
	const struct bw_conf *conf = arg;
	char err[512] = "";
	int applied = 0, tables = 0;
	enum bw_err rc = bw_migrate(db, a, &applied, err, sizeof(err));
	if (rc != BW_OK) {
		fprintf(stderr, "breakwaterctl: migrate: %s\n", err[0] ? err : bw_strerror(rc));
		return rc == BW_ESCHEMA ? 3 : 1;
	}
	printf("migrations applied: %d\n", applied);
	if (!separate_owner(conf))
		return 0;
	rc = bw_migrate_grant_app(db, a, conf->db_user, conf->db_app_host, &tables, err,
				  sizeof(err));
	if (rc != BW_OK) {
		fprintf(stderr, "breakwaterctl: migrate: grants: %s\n", err);
		return 1;
	}
	printf("granted %s@%s row access on %d tables (audit trail append-only)\n", conf->db_user,
	       conf->db_app_host, tables);
	return 0;
}

static int migrate(const struct bw_conf *conf)
{
	if (!separate_owner(conf))
		return with_db(conf, do_migrate, conf);
	struct bw_conf *owner = malloc(sizeof(*owner));
	if (owner == NULL)
		return 1;
	*owner = *conf;
	snprintf(owner->db_user, sizeof(owner->db_user), "%s", conf->db_migrate_user);
	snprintf(owner->db_password, sizeof(owner->db_password), "%s", conf->db_migrate_password);
	int code = with_db(owner, do_migrate, conf);
	explicit_bzero(owner->db_password, sizeof(owner->db_password));
	free(owner);
	return code;
}

static int do_version(struct bw_db *db, struct bw_arena *a, const void *arg)
{
	(void)arg;
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

static void svc_for(struct bw_svc *svc, struct bw_db *db, struct bw_arena *a)
{
	memset(svc, 0, sizeof(*svc));
	svc->db = db;
	svc->arena = a;
}

static int do_audit_verify(struct bw_db *db, struct bw_arena *a, const void *arg)
{
	(void)arg;
	struct bw_svc svc;
	struct bw_audit_verdict v = {0};
	svc_for(&svc, db, a);
	enum bw_err rc = bw_audit_verify(&svc, &v);
	if (rc != BW_OK) {
		fprintf(stderr, "breakwaterctl: audit verify: %s (%s)\n", bw_strerror(rc),
			bw_db_error(db));
		return 1;
	}
	if (v.broken_id != 0) {
		printf("audit chain BROKEN at id %lld: %s (%lld rows checked)\n", v.broken_id,
		       v.reason, v.rows);
		return 2;
	}
	printf("audit chain intact: %lld rows, head id %lld hash %s\n", v.rows, v.head_id,
	       v.head_hash);
	return 0;
}

static int do_audit_purge(struct bw_db *db, struct bw_arena *a, const void *arg)
{
	unsigned purge_days = *(const unsigned *)arg;
	struct bw_svc svc;
	long long count = 0;
	svc_for(&svc, db, a);
	enum bw_err rc = bw_audit_purge(&svc, "system:breakwaterctl", purge_days, &count);
	if (rc != BW_OK) {
		fprintf(stderr, "breakwaterctl: audit purge: %s (%s)\n", bw_strerror(rc),
			bw_db_error(db));
		return 1;
	}
	printf("audit rows purged: %lld (older than %u days)\n", count, purge_days);
	return 0;
}

/* "audit verify" / "audit purge --older-than DAYS"; 64 for bad usage. */
static int audit_command(const struct bw_conf *conf, int argc, char **argv, int i)
{
	if (i + 1 < argc && strcmp(argv[i + 1], "verify") == 0 && i + 2 == argc)
		return with_db(conf, do_audit_verify, NULL);
	if (i + 4 == argc && strcmp(argv[i + 1], "purge") == 0 &&
	    strcmp(argv[i + 2], "--older-than") == 0) {
		char *end = NULL;
		errno = 0;
		unsigned long d = strtoul(argv[i + 3], &end, 10);
		if (argv[i + 3][0] < '0' || argv[i + 3][0] > '9' || *end != '\0' || errno != 0 ||
		    d > 100000) {
			fprintf(stderr, "breakwaterctl: --older-than wants a number of days\n");
			return 64;
		}
		unsigned days = (unsigned)d;
		return with_db(conf, do_audit_purge, &days);
	}
	usage(stderr);
	return 64;
}

static int do_bootstrap(struct bw_db *db, struct bw_arena *a, const void *arg)
{
	const struct bw_conf *conf = arg;
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
	struct bw_svc svc = {db, a, NULL, conf, NULL, NULL};
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
		return migrate(&conf);
	if (strcmp(cmd, "schema-version") == 0)
		return with_db(&conf, do_version, NULL);
	if (strcmp(cmd, "bootstrap-admin") == 0)
		return with_db(&conf, do_bootstrap, &conf);
	if (strcmp(cmd, "audit") == 0)
		return audit_command(&conf, argc, argv, i);
	if (strcmp(cmd, "gateway") == 0)
		return bw_ctl_gateway(&conf, argc, argv, i);
	fprintf(stderr, "breakwaterctl: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return 64;
}
