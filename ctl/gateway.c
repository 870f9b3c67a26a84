/* ctl/gateway: see gateway.h. Exit codes: exec ends with the command's own exit code; 64 bad
 * usage, 1 local failure (unknown gateway, database, key), 69 the gateway call failed or the
 * stream ended without an exit status. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ctl/gateway.h"
#include "lib/arena.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/log.h"
#include "services/gwstream.h"

#define EXIT_USAGE 64
#define EXIT_GATEWAY 69
#define WATCH_DEFAULT_DEADLINE_S 3600

struct gw_args {
	const char *verb, *gateway, *sandbox;
	const char *const *argv; /* exec: the command */
	size_t argc;
	unsigned timeout_s;  /* exec: the command's timeout */
	unsigned max_events; /* watch */
	unsigned deadline_s; /* watch */
};

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end = NULL;
	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return false;
	unsigned long v = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

/* exec GATEWAY SANDBOX [--timeout S] -- CMD...; watch GATEWAY SANDBOX [--max-events N]
 * [--deadline S]. False on bad usage. */
static bool parse_args(int argc, char **argv, int i, struct gw_args *a)
{
	memset(a, 0, sizeof(*a));
	a->deadline_s = WATCH_DEFAULT_DEADLINE_S;
	if (i + 2 >= argc)
		return false;
	a->verb = argv[i];
	a->gateway = argv[i + 1];
	a->sandbox = argv[i + 2];
	bool exec = strcmp(a->verb, "exec") == 0;
	if (!exec && strcmp(a->verb, "watch") != 0)
		return false;
	for (int k = i + 3; k < argc; k++) {
		const char *opt = argv[k];
		if (exec && strcmp(opt, "--") == 0) {
			a->argv = (const char *const *)&argv[k + 1];
			a->argc = (size_t)(argc - k - 1);
			return a->argc > 0;
		}
		if (k + 1 >= argc)
			return false;
		bool ok = false;
		if (exec && strcmp(opt, "--timeout") == 0)
			ok = parse_uint(argv[k + 1], 86400, &a->timeout_s);
		else if (!exec && strcmp(opt, "--max-events") == 0)
			ok = parse_uint(argv[k + 1], 1000000, &a->max_events);
		else if (!exec && strcmp(opt, "--deadline") == 0)
			ok = parse_uint(argv[k + 1], 86400, &a->deadline_s) && a->deadline_s > 0;
		if (!ok)
			return false;
		k++;
	}
	return !exec;
}

static void print_output(void *arg, int fd, const uint8_t *data, size_t len)
{
	(void)arg;
	FILE *f = fd == 2 ? stderr : stdout;
	fwrite(data, 1, len, f);
	fflush(f); /* as it streams, never held back */
}

static enum bw_gw_flow print_event(void *arg, const struct bw_watch_event *ev)
{
	(void)arg;
	printf("%s %s\n", ev->kind, ev->text);
	fflush(stdout);
	return BW_GW_CONTINUE;
}

static int report(const struct gw_args *a, enum bw_err rc, const struct bw_gw_result *res,
		  const char *db_error)
{
	if (rc == BW_ENOTFOUND) {
		fprintf(stderr, "breakwaterctl: gateway %s: no gateway '%s' is registered\n",
			a->verb, a->gateway);
		return 1;
	}
	if (rc != BW_OK) {
		fprintf(stderr, "breakwaterctl: gateway %s: %s (%s)\n", a->verb, bw_strerror(rc),
			db_error);
		return 1;
	}
	fprintf(stderr, "breakwaterctl: gateway %s: %s: %s\n", a->verb, a->gateway, res->why);
	return EXIT_GATEWAY;
}

static int run(struct bw_svc *svc, const struct gw_args *a)
{
	struct bw_gw_result res = {BW_GW_OK, "", ""};
	if (strcmp(a->verb, "exec") == 0) {
		struct bw_exec_sink sink = {print_output, NULL};
		struct bw_exec_outcome out;
		enum bw_err rc = bw_gwstream_exec(svc, a->gateway, a->sandbox, a->argv, a->argc,
						  a->timeout_s, &sink, &out, &res);
		if (rc != BW_OK || res.st != BW_GW_OK)
			return report(a, rc, &res, bw_db_error(svc->db));
		if (!out.exited) {
			fprintf(stderr,
				"breakwaterctl: gateway exec: %s: the stream ended without "
				"an exit status\n",
				a->gateway);
			return EXIT_GATEWAY;
		}
		return out.exit_code;
	}
	struct bw_watch_sink sink = {print_event, NULL};
	struct bw_gw_stream_end end;
	enum bw_err rc = bw_gwstream_watch(svc, a->gateway, a->sandbox, a->max_events,
					   a->deadline_s, &sink, &end, &res);
	if (rc != BW_OK || res.st != BW_GW_OK)
		return report(a, rc, &res, bw_db_error(svc->db));
	return 0;
}

int bw_ctl_gateway(const struct bw_conf *conf, int argc, char **argv, int i)
{
	struct gw_args a;
	if (!parse_args(argc, argv, i + 1, &a)) {
		fprintf(stderr,
			"Usage: breakwaterctl gateway exec GATEWAY SANDBOX [--timeout S] -- "
			"CMD...\n"
			"       breakwaterctl gateway watch GATEWAY SANDBOX [--max-events N] "
			"[--deadline S]\n");
		return EXIT_USAGE;
	}
	uint8_t key[BW_KEY_BYTES];
	char err[256];
	int code = 1;
	if (bw_key_load(conf->master_key_file, key, err, sizeof(err)) != BW_OK) {
		fprintf(stderr, "breakwaterctl: %s\n", err);
		return 1;
	}
	bw_db_global_init();
	bw_gw_process_init(conf);
	struct bw_db *db = bw_db_new(conf);
	struct bw_arena *arena = bw_arena_new(16384);
	if (db == NULL || arena == NULL) {
		fprintf(stderr, "breakwaterctl: cannot reach the database\n");
		goto out;
	}
	struct bw_svc svc = {db, arena, key, conf, NULL, NULL};
	code = run(&svc, &a);
out:
	bw_arena_free(arena);
	bw_db_close(db);
	bw_gw_process_shutdown();
	bw_db_global_end();
	OPENSSL_cleanse(key, sizeof(key));
	return code;
}
