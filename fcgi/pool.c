/* pool: see pool.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi/pool.h"
#include "fcgi/worker.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/shm.h"

#define MAX_WORKERS 256

static volatile sig_atomic_t got_stop, got_reload, got_child;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_reload = 1;
	else if (sig == SIGCHLD)
		got_child = 1;
	else
		got_stop = 1;
}

struct slot {
	pid_t pid;
	int generation;
	time_t started;
};

struct pool {
	struct bw_conf *conf;
	const char *config_path;
	int listen_fd;
	int generation;
	struct bw_shared *shared;
	struct slot w[MAX_WORKERS * 2]; /* room for two generations during a reload */
};

static int worker_count(const struct bw_conf *conf)
{
	if (conf->workers > 0)
		return conf->workers;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 && n <= MAX_WORKERS ? (int)n : 2;
}

static void spawn(struct pool *p, struct slot *s)
{
	pid_t pid = fork();
	if (pid < 0) {
		bw_log(BW_LOG_ERROR, "pool", NULL, "fork failed: %s", strerror(errno));
		return;
	}
	if (pid == 0)
		_exit(bw_worker_main(p->conf, p->listen_fd, p->shared));
	s->pid = pid;
	s->generation = p->generation;
	s->started = time(NULL);
}

static void spawn_generation(struct pool *p)
{
	int want = worker_count(p->conf), have = 0;
	for (size_t i = 0; i < sizeof(p->w) / sizeof(p->w[0]) && have < want; i++) {
		if (p->w[i].pid != 0)
			continue;
		spawn(p, &p->w[i]);
		have++;
	}
	bw_log(BW_LOG_INFO, "pool", NULL, "generation %d: %d workers", p->generation, have);
}

static void signal_generation(struct pool *p, int sig, int below_generation)
{
	for (size_t i = 0; i < sizeof(p->w) / sizeof(p->w[0]); i++)
		if (p->w[i].pid != 0 && p->w[i].generation < below_generation)
			kill(p->w[i].pid, sig);
}

static int live(const struct pool *p)
{
	int n = 0;
	for (size_t i = 0; i < sizeof(p->w) / sizeof(p->w[0]); i++)
		n += p->w[i].pid != 0;
	return n;
}

/* Reaps dead workers; those of the current generation are replaced unless we are stopping. */
static void reap(struct pool *p)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < sizeof(p->w) / sizeof(p->w[0]); i++) {
			struct slot *s = &p->w[i];
			if (s->pid != pid)
				continue;
			s->pid = 0;
			if (got_stop || s->generation != p->generation)
				break;
			bw_log(BW_LOG_WARN, "pool", NULL, "worker %ld died (status %d); restarting",
			       (long)pid, status);
			/* A worker that dies at once would otherwise be restarted in a tight loop.
			 */
			if (time(NULL) - s->started < 1)
				sleep(1);
			spawn(p, s);
			break;
		}
	}
}

static void reload(struct pool *p)
{
	struct bw_conf fresh;
	char err[256];
	if (bw_conf_load(p->config_path, &fresh, err, sizeof(err)) != BW_OK) {
		bw_log(BW_LOG_ERROR, "pool", NULL,
		       "reload refused, keeping the old configuration: %s", err);
		return;
	}
	if (strcmp(fresh.socket, p->conf->socket) != 0)
		bw_log(BW_LOG_WARN, "pool", NULL, "the socket path changes only on a restart");
	snprintf(fresh.socket, sizeof(fresh.socket), "%s", p->conf->socket);
	*p->conf = fresh;
	int level = bw_log_level_parse(fresh.log_level);
	if (level >= 0)
		bw_log_set_level((enum bw_log_level)level);
	p->generation++;
	spawn_generation(p);
	/* The old generation finishes its in-flight requests and exits. */
	signal_generation(p, SIGTERM, p->generation);
}

static void stop_all(struct pool *p)
{
	signal_generation(p, SIGTERM, p->generation + 1);
	time_t deadline = time(NULL) + p->conf->shutdown_timeout + 5;
	while (live(p) > 0 && time(NULL) < deadline) {
		usleep(50 * 1000);
		reap(p);
	}
	if (live(p) > 0) {
		bw_log(BW_LOG_WARN, "pool", NULL, "killing %d workers that did not stop", live(p));
		signal_generation(p, SIGKILL, p->generation + 1);
		while (live(p) > 0 && waitpid(-1, NULL, 0) > 0)
			reap(p);
	}
}

static int open_socket(const struct bw_conf *conf)
{
	/* A socket file left by a killed master would make bind fail. */
	unlink(conf->socket);
	int fd = FCGX_OpenSocket(conf->socket, 1024);
	if (fd < 0) {
		bw_log(BW_LOG_ERROR, "pool", NULL, "cannot listen on %s: %s", conf->socket,
		       strerror(errno));
		return -1;
	}
	if (chmod(conf->socket, conf->socket_mode) != 0)
		bw_log(BW_LOG_WARN, "pool", NULL, "chmod %s: %s", conf->socket, strerror(errno));
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	return fd;
}

int bw_pool_run(const char *config_path, struct bw_conf *conf)
{
	struct pool p;
	char err[256];
	uint8_t key[BW_KEY_BYTES];
	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.config_path = config_path;
	/* Refuse to start without a usable master key rather than let every worker fail alone. */
	if (bw_key_load(conf->master_key_file, key, err, sizeof(err)) != BW_OK) {
		bw_log(BW_LOG_ERROR, "pool", NULL, "%s", err);
		return 2;
	}
	explicit_bzero(key, sizeof(key));
	sigset_t block, orig;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &orig);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	p.shared = bw_shared_create();
	if (p.shared == NULL) {
		bw_log(BW_LOG_ERROR, "pool", NULL, "cannot map the shared block");
		return 1;
	}
	p.listen_fd = open_socket(conf);
	if (p.listen_fd < 0) {
		bw_shared_destroy(p.shared);
		return 1;
	}
	bw_log(BW_LOG_INFO, "pool", NULL, "listening on %s", conf->socket);
	spawn_generation(&p);
	while (!got_stop) {
		sigsuspend(&orig); /* signals are only delivered here: no races with the flags */
		if (got_child) {
			got_child = 0;
			reap(&p);
		}
		if (got_reload && !got_stop) {
			got_reload = 0;
			reload(&p);
		}
	}
	bw_log(BW_LOG_INFO, "pool", NULL, "stopping");
	stop_all(&p);
	close(p.listen_fd);
	unlink(conf->socket);
	bw_shared_destroy(p.shared);
	bw_log(BW_LOG_INFO, "pool", NULL, "stopped");
	return 0;
}
