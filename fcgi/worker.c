/* worker: see worker.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <openssl/crypto.h>

#include "fcgi/dispatch.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "fcgi/worker.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/log.h"
#include "services/authcache.h"
#include "lib/metrics.h"
#include "services/gwclient.h"
#include "services/wfapply.h"

/* How often an idle thread looks at the stop flag. */
#define POLL_MS 250

/* Set from the signal handler; the only way a signal talks to the threads. */
static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

struct app {
	const struct bw_conf *conf;
	struct bw_shared *shared;
	struct bw_respcache *cache;
	struct bw_authcache *authcache;
	struct bw_metric_proc *proc; /* this process's DB usage slot; NULL when none was free */
	uint8_t key[BW_KEY_BYTES];
	int listen_fd;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void serve_one(struct app *app, FCGX_Request *fcgx, struct bw_arena *arena, struct bw_db *db)
{
	struct bw_req req;
	bw_req_init(&req, fcgx, arena);
	req.svc.db = db;
	req.svc.arena = arena;
	req.svc.master_key = app->key;
	req.svc.conf = app->conf;
	req.svc.shared = app->shared;
	req.cache = app->cache;
	req.svc.authcache = app->authcache;
	bw_dispatch(&req, app->conf->max_body_bytes);
	double took = now_s() - req.started;
	size_t row = req.route != NULL ? (size_t)(req.route - bw_routes) : BW_METRICS_ROUTES;
	bw_metrics_http(app->shared, row, req.status, took);
	bw_log_request(req.method, req.path, req.status, took * 1000.0, req.request_id,
		       req.client_ip);
}

/* Moves this process's DB handle gauges (open: request threads holding a handle, busy: those
 * serving a request). */
static void db_gauges(struct app *app, int32_t open, int32_t busy)
{
	if (app->proc == NULL)
		return;
	atomic_fetch_add(&app->proc->open, open);
	atomic_fetch_add(&app->proc->busy, busy);
}

static void count_grpc(void *ctx, const char *gateway, const char *method, const char *code)
{
	bw_metrics_grpc(ctx, gateway, method, code);
}

static void *thread_main(void *arg)
{
	struct app *app = arg;
	FCGX_Request fcgx;
	struct bw_arena *arena = bw_arena_new(64 * 1024);
	struct bw_db *db = NULL;
	int ep = -1;
	bw_db_thread_init();
	db = bw_db_new(app->conf);
	if (arena == NULL || db == NULL || FCGX_InitRequest(&fcgx, app->listen_fd, 0) != 0) {
		bw_log(BW_LOG_ERROR, "worker", NULL, "thread start failed: out of memory");
		goto out;
	}
	/* One epoll set per thread with EPOLLEXCLUSIVE: a new connection wakes one idle thread
	 * instead of every thread of every worker (poll() would wake them all to race for it). */
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = app->listen_fd};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, app->listen_fd, &ev) != 0) {
		bw_log(BW_LOG_ERROR, "worker", NULL, "epoll: %s", strerror(errno));
		goto out;
	}
	db_gauges(app, 1, 0);
	while (!stopping) {
		struct epoll_event got;
		int ready = epoll_wait(ep, &got, 1, POLL_MS);
		/* Even when stopping: with EPOLLEXCLUSIVE this thread may be the only one woken for
		 * the pending connection, and skipping it would leave it waiting for the next
		 * arrival (a SIGHUP with one idle client stalled a request that way). */
		if (ready <= 0)
			continue;
		/* The socket is non-blocking: when another thread won the race, accept fails with
		 * EAGAIN and we simply wait again. */
		if (FCGX_Accept_r(&fcgx) < 0)
			continue;
		db_gauges(app, 0, 1);
		serve_one(app, &fcgx, arena, db);
		db_gauges(app, 0, -1);
		FCGX_Finish_r(&fcgx);
		bw_arena_reset(arena);
	}
	FCGX_Free(&fcgx, 1);
	db_gauges(app, -1, 0);
out:
	if (ep >= 0)
		close(ep);
	bw_db_close(db);
	bw_arena_free(arena);
	bw_db_thread_end();
	return NULL;
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
	sigaction(SIGPIPE, &sa, NULL); /* a client gone mid-response is not fatal */
	sigaction(SIGHUP, &sa, NULL);  /* reloads are the master's business */
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL); /* the shutdown deadline (see below) */
	/* Stop signals stay blocked everywhere except in the main thread's sigsuspend, so they
	 * always wake it; request threads inherit this mask. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_SETMASK, &mask, NULL);
}

int bw_worker_main(const struct bw_conf *conf, int listen_fd, struct bw_shared *shared)
{
	struct app app;
	char err[256];
	int code = 1;
	pthread_t *threads = NULL;
	int started = 0;
	/* If the master dies without stopping us, do not linger as an orphan on its socket. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	install_signals();
	app.conf = conf;
	app.listen_fd = listen_fd;
	app.shared = shared;
	app.proc = bw_metrics_proc_claim(shared);
	/* A handful of list renderings (one per distinct filter) is all the cache is for. */
	app.cache = bw_respcache_new(32, 1 << 20, 1000);
	app.authcache = bw_authcache_new(1024);
	if (app.cache == NULL || app.authcache == NULL)
		return 1;
	if (bw_key_load(conf->master_key_file, app.key, err, sizeof(err)) != BW_OK) {
		bw_log(BW_LOG_ERROR, "worker", NULL, "%s", err);
		return 2;
	}
	if (FCGX_Init() != 0) {
		bw_log(BW_LOG_ERROR, "worker", NULL, "FCGX_Init failed");
		goto out;
	}
	bw_db_global_init();
	/* gRPC starts threads of its own: only here, after the fork, never in the master. */
	bw_gw_process_init(conf);
	if (shared != NULL)
		bw_gw_set_call_hook(count_grpc, shared);
	/* GitOps applies vote under approval workflows; hooks are fixed before threads run. */
	bw_wfapply_install();
	threads = calloc((size_t)conf->threads, sizeof(*threads));
	if (threads == NULL)
		goto out;
	for (; started < conf->threads; started++)
		if (pthread_create(&threads[started], NULL, thread_main, &app) != 0)
			break;
	if (started == 0) {
		bw_log(BW_LOG_ERROR, "worker", NULL, "cannot start any request thread");
		goto out;
	}
	bw_log(BW_LOG_INFO, "worker", NULL, "serving with %d threads", started);
	sigset_t none;
	sigemptyset(&none);
	while (!stopping)
		sigsuspend(&none);
	/* In-flight requests get shutdown_timeout seconds; then SIGALRM ends the process. */
	alarm((unsigned)conf->shutdown_timeout);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	bw_log(BW_LOG_INFO, "worker", NULL, "stopped");
	code = 0;
out:
	free(threads);
	bw_respcache_free(app.cache);
	bw_authcache_free(app.authcache);
	bw_gw_process_shutdown();
	bw_db_global_end();
	OPENSSL_cleanse(app.key, sizeof(app.key));
	return code;
}
