/* breakwater-worker: the background daemon. Runs the gateway health monitor (services/
 * gwmonitor): every second it claims the gateways whose probe is due, probes them concurrently
 * and records the outcome. Any number of workers may share one database. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/log.h"
#include "services/escalation.h"
#include "services/gwclient.h"
#include "services/gwmonitor.h"
#include "services/hookdeliver.h"
#include "services/registry.h"
#include "worker/opexec.h"

/* How often the worker looks for due gateways and at the stop flag. */
#define TICK_MS 1000
#define BATCH 10000

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: breakwater-worker [--config FILE]\n"
	    "       breakwater-worker --help | --version\n\n"
	    "Runs Breakwater's background jobs in the foreground: the gateway health monitor\n"
	    "probes every registered gateway every health_interval seconds (Health over gRPC,\n"
	    "health_concurrency calls at a time) and records status, last_seen and version.\n"
	    "Several workers may share one database: leases make each gateway probed once per\n"
	    "interval. After 10 consecutive failures a gateway is probed less often (up to\n"
	    "every 300 s).\n"
	    "It also executes long-running operations (sandbox create, exec): ops_concurrency\n"
	    "threads claim them from the database under a lease of ops_lease_seconds; an\n"
	    "operation whose worker died is resumed by another worker (or by this one after a\n"
	    "restart) without creating its sandbox twice. Finished operations are deleted after\n"
	    "operation_retention_days.\n"
	    "It also escalates approval votes left waiting past their workflow's\n"
	    "escalation timeout (checked every 2 s, recorded once per round).\n"
	    "The webhook delivery thread turns new events into deliveries to the subscribed\n"
	    "webhooks and attempts them (HTTP POST, or SMTP for e-mail) with a\n"
	    "webhook_delivery_timeout per attempt, retrying 5xx, 408, 429 and network errors\n"
	    "after the webhook_retry_delays; a delivery left by a dead worker is taken over\n"
	    "after webhook_lease seconds. Finished deliveries and dispatched events are\n"
	    "deleted after webhook_delivery_max_age_days and event_retention_days.\n"
	    "Configuration: --config FILE, else $BREAKWATER_CONFIG, else %s.\n"
	    "Signals: TERM/INT stop after the round in progress; operations stop at their\n"
	    "next step (a running exec first finishes) and the next worker resumes them.\n"
	    "Logs: one JSON object per line on stderr.\n\n",
	    BW_CONF_DEFAULT_PATH);
	bw_conf_help(out);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void tick_sleep(void)
{
	bw_sleep_s(TICK_MS / 1e3); /* a stop signal cuts it short */
}

static int run(const struct bw_conf *conf)
{
	uint8_t key[BW_KEY_BYTES];
	char err[256], owner[128], host[64];
	int code = 1;
	if (bw_key_load(conf->master_key_file, key, err, sizeof(err)) != BW_OK) {
		bw_log(BW_LOG_ERROR, "worker", NULL, "%s", err);
		return 2;
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(owner, sizeof(owner), "%s:%ld", host, (long)getpid());
	bw_db_global_init();
	bw_db_thread_init();
	bw_gw_process_init(conf);
	struct bw_db *db = bw_db_new(conf);
	struct bw_arena *arena = bw_arena_new(64 * 1024);
	if (db == NULL || arena == NULL) {
		bw_log(BW_LOG_ERROR, "worker", NULL, "out of memory");
		goto out;
	}
	struct bw_svc svc = {db,   arena, key,
			     conf, NULL,  NULL}; /* no shared block: a separate process */
	struct bw_hookdeliver *hooks = NULL;
	if (bw_hookdeliver_start(conf, key, owner, &hooks) != BW_OK) {
		code = 78;
		goto out;
	}
	struct bw_monitor_conf mc = {owner, conf->health_interval, conf->health_concurrency,
				     2 * conf->grpc_timeout + 30, BATCH};
	bw_log(BW_LOG_INFO, "worker", NULL, "health monitor %s: every %d s, %d at a time", owner,
	       mc.interval_s, mc.concurrency);
	struct bw_opexec *ops = bw_opexec_start(conf, key, owner);
	if (bw_escalation_start(conf, key) != BW_OK)
		bw_log(BW_LOG_ERROR, "worker", NULL, "escalation job not started");
	while (!stopping) {
		size_t probed = 0;
		enum bw_err rc = bw_monitor_round(&svc, &mc, &probed);
		if (rc != BW_OK)
			bw_log(BW_LOG_WARN, "worker", NULL, "health round failed: %s",
			       bw_strerror(rc));
		else if (probed > 0)
			bw_log(BW_LOG_DEBUG, "worker", NULL, "probed %zu gateways", probed);
		bw_arena_reset(arena);
		if (!stopping)
			tick_sleep();
	}
	bw_opexec_stop(ops);
	bw_escalation_stop();
	/* Another worker takes over these gateways at once instead of after the lease. */
	bw_registry_release_probes(&svc, owner);
	bw_hookdeliver_stop(hooks);
	bw_log(BW_LOG_INFO, "worker", NULL, "stopped");
	code = 0;
out:
	bw_arena_free(arena);
	bw_db_close(db);
	bw_gw_process_shutdown();
	bw_db_thread_end();
	bw_db_global_end();
	OPENSSL_cleanse(key, sizeof(key));
	return code;
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
			printf("breakwater-worker %s\n", PACKAGE_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
			continue;
		}
		fprintf(stderr, "breakwater-worker: unknown argument '%s'\n\n", argv[i]);
		usage(stderr);
		return 64;
	}
	struct bw_conf conf;
	char err[512];
	if (bw_conf_load(config, &conf, err, sizeof(err)) != BW_OK) {
		fprintf(stderr, "breakwater-worker: configuration: %s\n", err);
		return 78;
	}
	int level = bw_log_level_parse(conf.log_level);
	if (level < 0) {
		fprintf(stderr, "breakwater-worker: configuration: unknown log_level '%s'\n",
			conf.log_level);
		return 78;
	}
	bw_log_set_level((enum bw_log_level)level);
	install_signals();
	return run(&conf);
}
