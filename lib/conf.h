/* conf: the one configuration file (key = value) plus BREAKWATER_<KEY> environment overrides.
 * Every key is declared once, in conf.c's table, which also produces --help. */
#ifndef BW_CONF_H
#define BW_CONF_H

#include <limits.h>
#include <linux/limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/err.h"

#define BW_CONF_DEFAULT_PATH "/etc/breakwater/breakwater.conf"

/* Where "make install" puts data/ (presets, templates); configure passes $(pkgdatadir). */
#ifndef BW_PKGDATADIR
#define BW_PKGDATADIR "/usr/local/share/breakwater"
#endif

struct bw_conf {
	char socket[PATH_MAX];
	unsigned socket_mode;
	int workers;
	int threads;
	char db_socket[PATH_MAX];
	char db_host[256];
	int db_port;
	char db_user[128];
	char db_password[256];
	char db_name[128];
	char db_migrate_user[128];
	char db_migrate_password[256];
	char db_app_host[256];
	char master_key_file[PATH_MAX];
	long long max_body_bytes;
	bool local_mode;
	char log_level[16];
	int shutdown_timeout;
	char data_dir[PATH_MAX];
	bool require_mtls;
	bool allow_plaintext_gateways;
	int grpc_timeout;
	int health_interval;
	int health_concurrency;
	int session_idle_timeout;
	int session_max_age;
	int password_min_length;
	bool password_require_complexity;
	int invite_max_age;
	bool allow_registration;
	int login_rate_limit_attempts;
	int login_rate_limit_window;
	int login_rate_limit_lockout;
	int write_rate_limit_attempts;
	int write_rate_limit_window;
	int write_rate_limit_lockout;
	int account_lockout_attempts;
	int account_lockout_duration;
	char metrics_access[16];
	int ops_concurrency;
	int ops_lease_seconds;
	int sandbox_ready_timeout;
	int operation_retention_days;
	bool webhook_allow_loopback;
	int webhook_delivery_timeout;
	char webhook_retry_delays[128];
	int webhook_lease;
	int webhook_delivery_max_age_days;
	int event_retention_days;
};

/* Fills conf with defaults, then the file at path (NULL: $BREAKWATER_CONFIG or the default path;
 * a missing default file is not an error, a missing named file is), then the environment.
 * On failure returns BW_EINVAL/BW_EIO with a message in err. */
enum bw_err bw_conf_load(const char *path, struct bw_conf *conf, char *err, size_t errlen);

/* Parses one "key = value" text (a whole file's contents) into conf; used by bw_conf_load and
 * the unit tests. */
enum bw_err bw_conf_parse(const char *text, struct bw_conf *conf, char *err, size_t errlen);

/* Resets conf to the defaults. */
void bw_conf_defaults(struct bw_conf *conf);

/* Writes the table of keys, defaults, environment names and meanings. */
void bw_conf_help(FILE *out);

#endif
