/* escalation: see escalation.h. */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "lib/db.h"
#include "lib/log.h"
#include "services/escalation.h"
#include "services/svc.h"
#include "services/workflow.h"

/* The one job of the process: its thread and how it is told to stop. */
static struct {
	pthread_t thread;
	bool running;
	bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct bw_conf *conf;
	const uint8_t *key;
} job = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Sleeps one interval; false when asked to stop. */
static bool nap(void)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += BW_ESCALATION_INTERVAL_S;
	pthread_mutex_lock(&job.mu);
	while (!job.stop && pthread_cond_timedwait(&job.cv, &job.mu, &until) == 0)
		;
	bool go_on = !job.stop;
	pthread_mutex_unlock(&job.mu);
	return go_on;
}

static void *run(void *arg)
{
	(void)arg;
	bw_db_thread_init();
	struct bw_db *db = bw_db_new(job.conf);
	struct bw_arena *arena = bw_arena_new(16 * 1024);
	if (db == NULL || arena == NULL) {
		bw_log(BW_LOG_ERROR, "escalation", NULL,
		       "out of memory: escalation job not running");
		goto out;
	}
	struct bw_svc svc = {.db = db, .arena = arena, .master_key = job.key, .conf = job.conf};
	/* A firing request waits for one gateway call at most; twice that and more is dead. */
	int lease_s = 2 * job.conf->grpc_timeout + 30;
	while (nap()) {
		int n = 0;
		enum bw_err rc = bw_wf_escalate_due(&svc, &n);
		if (rc == BW_OK)
			rc = bw_wf_release_stale(&svc, lease_s);
		if (rc != BW_OK)
			bw_log(BW_LOG_WARN, "escalation", NULL, "escalation pass failed: %s",
			       bw_strerror(rc));
		else if (n > 0)
			bw_log(BW_LOG_INFO, "escalation", NULL, "escalated %d approval(s)", n);
		bw_arena_reset(arena);
	}
out:
	bw_arena_free(arena);
	bw_db_close(db);
	bw_db_thread_end();
	return NULL;
}

enum bw_err bw_escalation_start(const struct bw_conf *conf, const uint8_t *master_key)
{
	job.conf = conf;
	job.key = master_key;
	job.stop = false;
	if (pthread_create(&job.thread, NULL, run, NULL) != 0)
		return BW_ENOMEM;
	job.running = true;
	return BW_OK;
}

void bw_escalation_stop(void)
{
	if (!job.running)
		return;
	pthread_mutex_lock(&job.mu);
	job.stop = true;
	pthread_cond_signal(&job.cv);
	pthread_mutex_unlock(&job.mu);
	pthread_join(job.thread, NULL);
	job.running = false;
}
