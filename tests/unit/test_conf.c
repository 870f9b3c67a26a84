/* Unit tests for lib/conf: defaults, the key = value parser, environment overrides, loading. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/conf.h"
#include "tests/unit/tap.h"

static const char *const env_names[] = {
    "BREAKWATER_CONFIG",           "BREAKWATER_SOCKET",     "BREAKWATER_SOCKET_MODE",
    "BREAKWATER_WORKERS",          "BREAKWATER_THREADS",    "BREAKWATER_DB_SOCKET",
    "BREAKWATER_DB_HOST",          "BREAKWATER_DB_PORT",    "BREAKWATER_DB_USER",
    "BREAKWATER_DB_PASSWORD",      "BREAKWATER_DB_NAME",    "BREAKWATER_MASTER_KEY_FILE",
    "BREAKWATER_MAX_BODY_BYTES",   "BREAKWATER_LOCAL_MODE", "BREAKWATER_LOG_LEVEL",
    "BREAKWATER_SHUTDOWN_TIMEOUT", "BREAKWATER_DATA_DIR",
};

/* The tests must not see overrides from the environment they run in. */
static void clear_env(void)
{
	for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
}

static void test_defaults(void)
{
	struct bw_conf c;
	memset(&c, 0x55, sizeof(c));
	bw_conf_defaults(&c);
	is_str(c.socket, "/run/breakwater/fcgi.sock", "default socket");
	is_int(c.socket_mode, 0660, "default socket_mode 0660");
	is_int(c.workers, 0, "default workers");
	is_int(c.threads, 4, "default threads");
	is_str(c.db_socket, "/run/mysqld/mysqld.sock", "default db_socket");
	is_str(c.db_host, "", "default db_host");
	is_int(c.db_port, 3306, "default db_port");
	is_str(c.db_user, "breakwater", "default db_user");
	is_str(c.db_password, "", "default db_password");
	is_str(c.db_name, "breakwater", "default db_name");
	is_str(c.master_key_file, "/etc/breakwater/master.key", "default master_key_file");
	is_int(c.max_body_bytes, 10485760, "default max_body_bytes");
	ok(c.local_mode == false, "default local_mode false");
	is_str(c.log_level, "info", "default log_level");
	is_int(c.shutdown_timeout, 30, "default shutdown_timeout");
	is_str(c.data_dir, BW_PKGDATADIR, "default data_dir is the installed pkgdatadir");
}

static const char full_text[] = "# Breakwater configuration\n"
				"\n"
				"socket=/tmp/bw.sock\n"
				"   socket_mode   =   0666   \n"
				"  # an indented comment line\n"
				"workers = 3\n"
				"db_name = db#1 x\n"
				"\tthreads\t=\t8\n"
				"db_host = db.example.com\n"
				"db_port = 3307\n"
				"db_password = se=cret\n"
				"   # an indented comment\n"
				"max_body_bytes = 2048\n"
				"local_mode = yes\n"
				"log_level = debug\r\n"
				"shutdown_timeout = 3600\n";

static void test_parse(void)
{
	struct bw_conf c;
	char err[256] = "";
	bw_conf_defaults(&c);
	is_int(bw_conf_parse(full_text, &c, err, sizeof(err)), BW_OK, "full text parses");
	is_str(c.socket, "/tmp/bw.sock", "string without spaces around '='");
	is_int(c.socket_mode, 0666, "octal socket_mode 0666");
	is_int(c.workers, 3, "int after an indented comment line");
	is_str(c.db_name, "db#1 x", "'#' inside a value is kept (only whole-line comments)");
	is_int(c.threads, 8, "tabs around '='");
	is_str(c.db_host, "db.example.com", "string value");
	is_int(c.db_port, 3307, "db_port");
	is_str(c.db_password, "se=cret", "a value may contain '='");
	is_int(c.max_body_bytes, 2048, "size value");
	ok(c.local_mode, "bool yes");
	is_str(c.log_level, "debug", "CRLF line end trimmed");
	is_int(c.shutdown_timeout, 3600, "upper bound accepted");
	is_str(c.db_user, "breakwater", "keys not in the text keep their defaults");

	static const struct {
		const char *text;
		bool want;
	} bools[] = {
	    {"local_mode = true", true}, {"local_mode = false", false}, {"local_mode = yes", true},
	    {"local_mode = no", false},  {"local_mode = on", true},     {"local_mode = 0", false},
	};
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		c.local_mode = !bools[i].want;
		ok(bw_conf_parse(bools[i].text, &c, err, sizeof(err)) == BW_OK &&
		       c.local_mode == bools[i].want,
		   "%s", bools[i].text);
	}
	is_int(bw_conf_parse("", &c, err, sizeof(err)), BW_OK, "empty text");
	is_int(bw_conf_parse("\n\n# only comments\n  \n", &c, err, sizeof(err)), BW_OK,
	       "comments and blank lines only");
	is_int(bw_conf_parse("log_level = 123456789012345", &c, err, sizeof(err)), BW_OK,
	       "15-char log_level fits");
	is_int(bw_conf_parse("db_host =", &c, err, sizeof(err)), BW_OK, "an empty string value");
	is_str(c.db_host, "", "empty string stored");
	is_int(bw_conf_parse("workers = 256\nthreads = 1", &c, err, sizeof(err)), BW_OK,
	       "range bounds accepted");
}

/* Parses text expecting BW_EINVAL and a message containing want. */
static void parse_fails(const char *text, const char *want, const char *what)
{
	struct bw_conf c;
	char err[256] = "";
	bw_conf_defaults(&c);
	enum bw_err rc = bw_conf_parse(text, &c, err, sizeof(err));
	if (!ok(rc == BW_EINVAL && strstr(err, want) != NULL, "%s", what))
		printf("#   rc %d, message '%s', want it to contain '%s'\n", rc, err, want);
}

static void test_errors(void)
{
	parse_fails("bogus = 1", "line 1: unknown key 'bogus'", "unknown key");
	parse_fails("workers = 2\nworkers 3", "line 2: expected 'key = value'", "missing '='");
	parse_fails("threads = 0", "line 1: 'threads' must be a number from 1 to 256",
		    "number below the range");
	parse_fails("workers = 257", "'workers' must be a number from 0 to 256",
		    "number above the range");
	parse_fails("db_port = 99999999999999999999999", "'db_port' must be a number",
		    "number overflowing long long");
	parse_fails("workers = 3x", "'workers' must be a number", "trailing junk after a number");
	parse_fails("workers =", "'workers' must be a number", "empty number");
	parse_fails("socket_mode = 0999", "'socket_mode' must be a number from 0 to 511 (octal)",
		    "non-octal digits");
	parse_fails("socket_mode = 01000", "'socket_mode'", "octal above 0777");
	parse_fails("max_body_bytes = 1023", "'max_body_bytes' must be a number from 1024",
		    "size below the range");
	parse_fails("max_body_bytes = 10M", "'max_body_bytes'", "size with a suffix");
	parse_fails("local_mode = maybe", "line 1: 'local_mode' must be true or false", "bad bool");
	parse_fails("local_mode = TRUE", "'local_mode' must be true or false",
		    "bools are case-sensitive");
	parse_fails("log_level = 1234567890123456", "line 1: value of 'log_level' is too long",
		    "16-char log_level is too long");
	parse_fails("= 3", "line 1: unknown key ''", "empty key");
}

/* Writes text to a new temporary file; returns its path in buf. */
static const char *temp_conf(char *buf, size_t len, const char *text)
{
	snprintf(buf, len, "/tmp/bw-test-conf-XXXXXX");
	int fd = mkstemp(buf);
	if (fd < 0)
		return buf;
	ssize_t w = write(fd, text, strlen(text));
	(void)w;
	close(fd);
	return buf;
}

static void test_load(void)
{
	struct bw_conf c;
	char err[256] = "", path[64];
	temp_conf(path, sizeof(path), "workers = 2\nthreads = 8\n");

	is_int(bw_conf_load(path, &c, err, sizeof(err)), BW_OK, "load a file");
	is_int(c.workers, 2, "file value without an override");
	is_int(c.threads, 8, "file value");

	setenv("BREAKWATER_WORKERS", "3", 1);
	setenv("BREAKWATER_DB_NAME", "bw_test", 1);
	is_int(bw_conf_load(path, &c, err, sizeof(err)), BW_OK, "load with overrides");
	is_int(c.workers, 3, "BREAKWATER_WORKERS overrides the file");
	is_int(c.threads, 8, "other file values stay");
	is_str(c.db_name, "bw_test", "BREAKWATER_DB_NAME overrides the default");

	setenv("BREAKWATER_WORKERS", "many", 1);
	err[0] = '\0';
	is_int(bw_conf_load(path, &c, err, sizeof(err)), BW_EINVAL, "a bad env value is refused");
	ok(strstr(err, "BREAKWATER_WORKERS") != NULL, "the message names the variable (%s)", err);
	setenv("BREAKWATER_WORKERS", "300", 1);
	is_int(bw_conf_load(path, &c, err, sizeof(err)), BW_EINVAL, "an out-of-range env value");
	unsetenv("BREAKWATER_WORKERS");
	unsetenv("BREAKWATER_DB_NAME");

	setenv("BREAKWATER_CONFIG", path, 1);
	is_int(bw_conf_load(NULL, &c, err, sizeof(err)), BW_OK, "NULL path uses BREAKWATER_CONFIG");
	is_int(c.threads, 8, "the file named by BREAKWATER_CONFIG was read");
	unsetenv("BREAKWATER_CONFIG");

	unlink(path);
	err[0] = '\0';
	is_int(bw_conf_load(path, &c, err, sizeof(err)), BW_EIO, "a missing named file fails");
	ok(strstr(err, path) != NULL, "the message names the file (%s)", err);
	setenv("BREAKWATER_CONFIG", path, 1);
	is_int(bw_conf_load(NULL, &c, err, sizeof(err)), BW_EIO,
	       "a missing file named by BREAKWATER_CONFIG fails");
	unsetenv("BREAKWATER_CONFIG");

	temp_conf(path, sizeof(path), "workers = 2\nnonsense\n");
	is_int(bw_conf_load(path, &c, err, sizeof(err)), BW_EINVAL, "a bad file fails to load");
	unlink(path);

	temp_conf(path, sizeof(path), "metrics_access = public\n");
	is_int(bw_conf_load(path, &c, err, sizeof(err)), BW_OK, "metrics_access = public loads");
	is_str(c.metrics_access, "public", "metrics_access read from the file");
	setenv("BREAKWATER_METRICS_ACCESS", "everyone", 1);
	is_int(bw_conf_load(path, &c, err, sizeof(err)), BW_EINVAL, "an unknown metrics_access");
	ok(strstr(err, "metrics_access") != NULL, "the message names the key (%s)", err);
	unsetenv("BREAKWATER_METRICS_ACCESS");
	unlink(path);
}

int main(void)
{
	plan(77);
	clear_env();
	test_defaults();
	test_parse();
	test_errors();
	test_load();
	return done();
}
