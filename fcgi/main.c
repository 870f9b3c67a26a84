/* breakwater-fcgi: the FastCGI responder pool behind nginx. Parses the command line and the
 * configuration, then hands over to the master loop (pool.c). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/pool.h"
#include "fcgi/routes.h"
#include "lib/conf.h"
#include "lib/log.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: breakwater-fcgi [--config FILE]\n"
	    "       breakwater-fcgi --help | --version | --routes\n\n"
	    "Runs the Breakwater FastCGI responder pool in the foreground: a master process that\n"
	    "listens on the configured unix socket and forks the worker processes.\n"
	    "Configuration: --config FILE, else $BREAKWATER_CONFIG, else %s.\n"
	    "Signals: TERM/INT stop gracefully (in-flight requests finish), HUP re-reads the\n"
	    "configuration and replaces the workers.\n"
	    "Logs: one JSON object per line on stderr.\n"
	    "--routes prints the route table as a JSON array of {method, pattern, min_role}.\n\n",
	    BW_CONF_DEFAULT_PATH);
	bw_conf_help(out);
}

static const char *role_name(enum bw_role r)
{
	switch (r) {
	case BW_ROLE_ADMIN:
	case BW_ROLE_METRICS: /* admin under the default metrics_access */
		return "admin";
	case BW_ROLE_OPERATOR:
		return "operator";
	case BW_ROLE_VIEWER:
		return "viewer";
	default:
		return "public";
	}
}

/* The table as JSON, one route per line, so tests can walk every route (patterns hold no
 * characters that need escaping). */
static void print_routes(void)
{
	printf("[\n");
	for (size_t i = 0; i < bw_routes_count; i++) {
		char m[16];
		printf("{\"method\": \"%s\", \"pattern\": \"%s\", \"min_role\": \"%s\"}%s\n",
		       bw_methods_format(bw_routes[i].method, m, sizeof(m)), bw_routes[i].pattern,
		       role_name(bw_routes[i].min_role), i + 1 < bw_routes_count ? "," : "");
	}
	printf("]\n");
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("breakwater-fcgi %s\n", PACKAGE_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--routes") == 0) {
			print_routes();
			return 0;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
			continue;
		}
		fprintf(stderr, "breakwater-fcgi: unknown argument '%s'\n\n", argv[i]);
		usage(stderr);
		return 64;
	}
	struct bw_conf conf;
	char err[512];
	if (bw_conf_load(config, &conf, err, sizeof(err)) != BW_OK) {
		fprintf(stderr, "breakwater-fcgi: configuration: %s\n", err);
		return 78;
	}
	int level = bw_log_level_parse(conf.log_level);
	if (level < 0) {
		fprintf(stderr, "breakwater-fcgi: configuration: unknown log_level '%s'\n",
			conf.log_level);
		return 78;
	}
	bw_log_set_level((enum bw_log_level)level);
	return bw_pool_run(config, &conf);
}
