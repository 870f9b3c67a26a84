/* conf: the key table, file parser and environment overrides; see conf.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/conf.h"

enum kind { K_STR, K_INT, K_BOOL, K_OCTAL, K_SIZE };

struct key {
	const char *name;
	enum kind kind;
	size_t offset;
	size_t size; /* for K_STR: buffer size */
	long long min, max;
	const char *def;
	const char *help;
};

#define STR(f, d, h)                                                                               \
	{                                                                                          \
#f, K_STR, offsetof(struct bw_conf, f), sizeof(((struct bw_conf *)0)->f), 0, 0, d, \
		    h                                                                              \
	}
#define NUM(f, k, lo, hi, d, h)                                     \
	{                                                           \
#f, k, offsetof(struct bw_conf, f), 0, lo, hi, d, h \
	}

static const struct key keys[] = {
    STR(socket, "/run/breakwater/fcgi.sock", "FastCGI unix socket the pool listens on"),
    NUM(socket_mode, K_OCTAL, 0, 0777, "0660", "permission bits of the socket (octal)"),
    NUM(workers, K_INT, 0, 256, "0", "worker processes (0 = number of cores)"),
    NUM(threads, K_INT, 1, 256, "4", "request threads per worker"),
    STR(db_socket, "/run/mysqld/mysqld.sock", "MariaDB unix socket (used when db_host is empty)"),
    STR(db_host, "", "MariaDB host for TCP instead of the socket"),
    NUM(db_port, K_INT, 1, 65535, "3306", "MariaDB TCP port"),
    STR(db_user, "breakwater", "MariaDB user"),
    STR(db_password, "", "MariaDB password (never logged)"),
    STR(db_name, "breakwater", "MariaDB database"),
    STR(db_migrate_user, "",
	"breakwaterctl migrate connects as this MariaDB user (owner of the schema) and then grants"
	" db_user only row access, without UPDATE/DELETE on the audit trail; empty = db_user"
	" itself (single account: the audit trail is then tamper-evident, not tamper-proof)"),
    STR(db_migrate_password, "", "password of db_migrate_user (never logged)"),
    STR(db_app_host, "localhost", "host part of db_user's MariaDB account, for those grants"),
    STR(master_key_file, "/etc/breakwater/master.key",
	"32-byte key file (mode 0600) sealing secrets at rest"),
    NUM(max_body_bytes, K_SIZE, 1024, 1LL << 30, "10485760",
	"request body cap in bytes (413 above)"),
    NUM(local_mode, K_BOOL, 0, 1, "false",
	"allow gateway endpoints on private/loopback addresses (development only)"),
    STR(log_level, "info", "debug, info, warn or error"),
    NUM(shutdown_timeout, K_INT, 1, 3600, "30",
	"seconds a stopping worker may spend finishing in-flight requests"),
    STR(data_dir, BW_PKGDATADIR,
	"directory holding presets/ and templates/ (the bundled YAML catalogs)"),
    NUM(require_mtls, K_BOOL, 0, 1, "true",
	"https gateways must have a full client bundle (CA, certificate, key)"),
    NUM(allow_plaintext_gateways, K_BOOL, 0, 1, "false",
	"allow plaintext gRPC to gateways registered with scheme http"),
    NUM(grpc_timeout, K_INT, 1, 600, "30",
	"deadline in seconds of one gateway call, retries included"),
    NUM(health_interval, K_INT, 1, 3600, "30",
	"breakwater-worker: seconds between health probes of a gateway"),
    NUM(health_concurrency, K_INT, 1, 10000, "64",
	"breakwater-worker: health probes in flight at most"),
    NUM(session_idle_timeout, K_INT, 60, 31536000, "28800",
	"seconds a login session may stay unused before it ends"),
    NUM(session_max_age, K_INT, 60, 31536000, "604800",
	"seconds a login session lasts at most (also the cookie's Max-Age)"),
    NUM(password_min_length, K_INT, 1, 72, "8", "minimum password length in characters"),
    NUM(password_require_complexity, K_BOOL, 0, 1, "false",
	"passwords need an upper-case letter, a lower-case letter and a digit"),
    NUM(invite_max_age, K_INT, 60, 31536000, "604800", "seconds an invite token stays valid"),
    NUM(allow_registration, K_BOOL, 0, 1, "false",
	"anyone may register an account (as viewer) with POST /api/auth/register"),
    NUM(login_rate_limit_attempts, K_INT, 1, 1000000, "10",
	"login/setup/register attempts per client IP within the window"),
    NUM(login_rate_limit_window, K_INT, 1, 86400, "300", "seconds of the login rate-limit window"),
    NUM(login_rate_limit_lockout, K_INT, 0, 86400, "900",
	"seconds added to the oldest attempt for Retry-After when limited"),
    NUM(write_rate_limit_attempts, K_INT, 1, 1000000, "120",
	"writes (POST/PUT/PATCH/DELETE) per actor within the window, across all processes"),
    NUM(write_rate_limit_window, K_INT, 1, 86400, "60", "seconds of the write rate-limit window"),
    NUM(write_rate_limit_lockout, K_INT, 0, 86400, "60",
	"seconds added to the oldest write for Retry-After when limited"),
    NUM(account_lockout_attempts, K_INT, 1, 1000, "5",
	"failed logins of one e-mail that lock the account"),
    NUM(account_lockout_duration, K_INT, 1, 86400, "900",
	"seconds an account stays locked after its last failed login"),
    STR(metrics_access, "admin",
	"GET /metrics: admin (admin credentials) or public (no credentials)"),
    NUM(ops_concurrency, K_INT, 1, 1024, "16",
	"breakwater-worker: operations (sandbox create, exec) executed at once"),
    NUM(ops_lease_seconds, K_INT, 3, 3600, "15",
	"breakwater-worker: lease on a running operation; another worker resumes it this long "
	"after its worker died"),
    NUM(sandbox_ready_timeout, K_INT, 1, 3600, "180",
	"seconds a sandbox create waits for the ready phase"),
    NUM(operation_retention_days, K_INT, 1, 36500, "30",
	"finished operations are deleted this many days after completion"),
    NUM(webhook_allow_loopback, K_BOOL, 0, 1, "false",
	"webhook targets may be loopback addresses (development and tests only; private,"
	" link-local and metadata addresses stay refused)"),
    NUM(webhook_delivery_timeout, K_INT, 1, 300, "10",
	"breakwater-worker: seconds one webhook delivery attempt may take (HTTP or SMTP)"),
    STR(webhook_retry_delays, "5,30,120",
	"breakwater-worker: seconds between webhook delivery attempts, comma-separated"
	" (one more attempt than delays)"),
    NUM(webhook_lease, K_INT, 5, 3600, "60",
	"breakwater-worker: seconds a claimed webhook delivery is held before another worker may"
	" take it over (more than webhook_delivery_timeout)"),
    NUM(webhook_delivery_max_age_days, K_INT, 0, 36500, "7",
	"breakwater-worker: days finished webhook deliveries stay in the delivery log (0 = keep)"),
    NUM(event_retention_days, K_INT, 0, 36500, "7",
	"breakwater-worker: days dispatched webhook events stay in the event outbox (0 = keep;"
	" undispatched events are never deleted)"),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key *find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len && strncmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

static int parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 ||
	    strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0 ||
		 strcmp(v, "0") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* Stores value v (NUL-terminated) into the field of k; returns 0 or -1 with err set. */
static int set_value(struct bw_conf *conf, const struct key *k, const char *v, const char *origin,
		     char *err, size_t errlen)
{
	char *field = (char *)conf + k->offset;
	if (k->kind == K_STR) {
		if (strlen(v) >= k->size) {
			snprintf(err, errlen, "%s: value of '%s' is too long", origin, k->name);
			return -1;
		}
		memcpy(field, v, strlen(v) + 1);
		return 0;
	}
	if (k->kind == K_BOOL) {
		if (parse_bool(v, (bool *)field) == 0)
			return 0;
		snprintf(err, errlen, "%s: '%s' must be true or false", origin, k->name);
		return -1;
	}
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, k->kind == K_OCTAL ? 8 : 10);
	if (errno != 0 || end == v || *end != '\0' || n < k->min || n > k->max) {
		snprintf(err, errlen, "%s: '%s' must be a number from %lld to %lld%s", origin,
			 k->name, k->min, k->max, k->kind == K_OCTAL ? " (octal)" : "");
		return -1;
	}
	if (k->kind == K_INT)
		*(int *)field = (int)n;
	else if (k->kind == K_OCTAL)
		*(unsigned *)field = (unsigned)n;
	else
		*(long long *)field = n;
	return 0;
}

void bw_conf_defaults(struct bw_conf *conf)
{
	char err[16];
	memset(conf, 0, sizeof(*conf));
	for (size_t i = 0; i < NKEYS; i++)
		set_value(conf, &keys[i], keys[i].def, "default", err, sizeof(err));
}

static char *trim(char *s, char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

enum bw_err bw_conf_parse(const char *text, struct bw_conf *conf, char *err, size_t errlen)
{
	enum bw_err rc = BW_OK;
	char *copy = strdup(text);
	if (copy == NULL)
		return BW_ENOMEM;
	int lineno = 0;
	char *next = copy;
	while (next != NULL) {
		char *line = next;
		char *nl = strchr(line, '\n');
		next = nl != NULL ? nl + 1 : NULL;
		if (nl != NULL)
			*nl = '\0';
		lineno++;
		/* Only whole-line comments: a value (a password) may contain '#'. */
		char *s = trim(line, line + strlen(line));
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "line %d: expected 'key = value'", lineno);
			rc = BW_EINVAL;
			goto out;
		}
		char *key = trim(s, eq);
		char *val = trim(eq + 1, eq + 1 + strlen(eq + 1));
		const struct key *k = find_key(key, strlen(key));
		if (k == NULL) {
			snprintf(err, errlen, "line %d: unknown key '%s'", lineno, key);
			rc = BW_EINVAL;
			goto out;
		}
		char origin[32];
		snprintf(origin, sizeof(origin), "line %d", lineno);
		if (set_value(conf, k, val, origin, err, errlen) != 0) {
			rc = BW_EINVAL;
			goto out;
		}
	}
out:
	free(copy);
	return rc;
}

static enum bw_err read_file(const char *path, char **out, char *err, size_t errlen)
{
	enum bw_err rc = BW_EIO;
	char *buf = NULL;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return BW_EIO;
	}
	size_t cap = 65536, len = 0;
	buf = malloc(cap + 1);
	if (buf == NULL) {
		rc = BW_ENOMEM;
		goto out;
	}
	len = fread(buf, 1, cap, f);
	if (ferror(f) || !feof(f)) {
		snprintf(err, errlen, "cannot read %s (over 64 KiB?)", path);
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	rc = BW_OK;
out:
	free(buf);
	fclose(f);
	return rc;
}

static enum bw_err apply_env(struct bw_conf *conf, char *err, size_t errlen)
{
	for (size_t i = 0; i < NKEYS; i++) {
		char name[96] = "BREAKWATER_";
		size_t n = strlen(name);
		for (const char *p = keys[i].name; *p != '\0' && n < sizeof(name) - 1; p++)
			name[n++] = (char)toupper((unsigned char)*p);
		name[n] = '\0';
		const char *v = getenv(name);
		if (v == NULL)
			continue;
		if (set_value(conf, &keys[i], v, name, err, errlen) != 0)
			return BW_EINVAL;
	}
	return BW_OK;
}

/* Values whose valid set is a word list; checked once every source has been applied. */
static enum bw_err check_words(const struct bw_conf *conf, char *err, size_t errlen)
{
	if (strcmp(conf->metrics_access, "admin") != 0 &&
	    strcmp(conf->metrics_access, "public") != 0) {
		snprintf(err, errlen, "metrics_access must be admin or public, not '%s'",
			 conf->metrics_access);
		return BW_EINVAL;
	}
	return BW_OK;
}

static enum bw_err load_sources(const char *path, struct bw_conf *conf, char *err, size_t errlen);

enum bw_err bw_conf_load(const char *path, struct bw_conf *conf, char *err, size_t errlen)
{
	enum bw_err rc = load_sources(path, conf, err, errlen);
	return rc != BW_OK ? rc : check_words(conf, err, errlen);
}

static enum bw_err load_sources(const char *path, struct bw_conf *conf, char *err, size_t errlen)
{
	bw_conf_defaults(conf);
	bool named = true;
	if (path == NULL)
		path = getenv("BREAKWATER_CONFIG");
	if (path == NULL) {
		path = BW_CONF_DEFAULT_PATH;
		named = false;
	}
	/* Without a named file, running on defaults plus environment is a supported set-up. */
	if (!named && access(path, F_OK) != 0 && errno == ENOENT)
		return apply_env(conf, err, errlen);
	char *text = NULL;
	enum bw_err rc = read_file(path, &text, err, errlen);
	if (rc == BW_OK)
		rc = bw_conf_parse(text, conf, err, errlen);
	free(text);
	if (rc != BW_OK)
		return rc;
	return apply_env(conf, err, errlen);
}

void bw_conf_help(FILE *out)
{
	fprintf(out, "Configuration keys (file: key = value; environment: BREAKWATER_<KEY>):\n");
	for (size_t i = 0; i < NKEYS; i++)
		fprintf(out, "  %-18s default %-28s %s\n", keys[i].name,
			keys[i].def[0] != '\0' ? keys[i].def : "(empty)", keys[i].help);
}
