/* opexec: see opexec.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/crypto.h"
#include "lib/jsonu.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/utf8.h"
#include "services/audit.h"
#include "services/events.h"
#include "services/gwstream.h"
#include "services/operations.h"
#include "services/sandboxes.h"
#include "worker/opexec.h"

#define IDLE_MS 1000
#define READY_POLL_MS 500
#define CREATE_TRIES 3
#define HOUSEKEEPING_S 60
#define OUTPUT_CAP (256 * 1024)

struct bw_opexec {
	const struct bw_conf *conf;
	const uint8_t *key;
	char owner[128];
	int lease_s;
	pthread_t *threads;
	int nthreads;
	pthread_t keeper;
	bool keeper_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
};

/* What one executor thread works with. */
struct job {
	struct bw_opexec *x;
	struct bw_svc svc;
	const struct bw_op_claim *op;
};

static bool stopping(struct bw_opexec *x)
{
	pthread_mutex_lock(&x->mu);
	bool s = x->stopping;
	pthread_mutex_unlock(&x->mu);
	return s;
}

/* Sleeps ms unless stopping; true when stopping. */
static bool nap(struct bw_opexec *x, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&x->mu);
	while (!x->stopping && pthread_cond_timedwait(&x->cv, &x->mu, &ts) != ETIMEDOUT)
		;
	bool s = x->stopping;
	pthread_mutex_unlock(&x->mu);
	return s;
}

static struct bw_actor actor_of(const struct bw_op_claim *op)
{
	return (struct bw_actor){op->actor, op->actor_role, NULL, NULL};
}

/* Progress; *cancel when a cancel was asked for. false when the lease is gone (stop work). */
static bool step(struct job *j, int pct, const char *msg, bool *cancel)
{
	enum bw_err rc = bw_op_progress(&j->svc, j->op->id, j->x->owner, pct, msg, cancel);
	if (rc == BW_ECONFLICT) {
		bw_log(BW_LOG_WARN, "opexec", NULL, "operation %s: lease lost", j->op->id);
		return false;
	}
	return true; /* a failed progress write is not a reason to abandon the work */
}

static void fail(struct job *j, const char *error, const char *code)
{
	enum bw_err rc = bw_op_finish(&j->svc, j->op->id, j->x->owner, NULL, error, code);
	if (rc != BW_OK)
		bw_log(BW_LOG_WARN, "opexec", NULL, "operation %s: recording failure: %s",
		       j->op->id, bw_strerror(rc));
}

static void fail_cancelled(struct job *j)
{
	fail(j, "Operation was cancelled", "cancelled");
}

/* The sealed secret part of the request (a JSON object) or NULL. */
static struct json_object *open_secret(struct job *j)
{
	uint8_t *pt = NULL;
	size_t n = 0;
	if (j->op->sealed == NULL)
		return NULL;
	if (bw_open(j->x->key, BW_OP_SEAL_AAD, j->op->sealed, j->op->sealed_len, j->svc.arena, &pt,
		    &n) != BW_OK)
		return NULL;
	struct json_object *o = json_tokener_parse((const char *)pt);
	if (o != NULL)
		bw_arena_defer(j->svc.arena, bw_json_release, o);
	OPENSSL_cleanse(pt, n);
	return o;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Finishes a succeeded operation with its event and audit row in one transaction. */
static void succeed(struct job *j, struct json_object *result, const char *event,
		    struct json_object *event_data, const struct bw_audit *audit)
{
	const char *text = bw_op_fit_result(result, j->svc.arena);
	struct bw_actor actor = actor_of(j->op);
	enum bw_err rc = bw_db_begin(j->svc.db);
	if (rc == BW_OK)
		rc = bw_op_finish_tx(&j->svc, j->op->id, j->x->owner, text, NULL, NULL);
	if (rc == BW_OK && event != NULL)
		rc = bw_event_emit(&j->svc, event, j->op->gateway, event_data);
	if (rc == BW_OK && audit != NULL)
		rc = bw_audit_write(&j->svc, &actor, audit);
	if (rc == BW_OK)
		rc = bw_db_commit(j->svc.db);
	if (rc != BW_OK) {
		bw_db_rollback(j->svc.db);
		bw_log(BW_LOG_WARN, "opexec", NULL, "operation %s: recording success: %s",
		       j->op->id, bw_strerror(rc));
	}
}

enum wait_outcome { W_READY, W_ERROR, W_TIMEOUT, W_CANCEL, W_LOST, W_GWFAIL };

/* Polls GetSandbox once a second until ready, error, the timeout, or a cancel. */
static enum wait_outcome wait_ready(struct job *j, const char *name, struct json_object **rec,
				    struct bw_gw_result *res)
{
	time_t end = time(NULL) + j->x->conf->sandbox_ready_timeout;
	int gw_failures = 0;
	for (;;) {
		const char *phase = NULL;
		bool cancel = false;
		*rec = NULL;
		enum bw_err rc = bw_sandbox_get(&j->svc, j->op->gateway, name, rec, &phase, res);
		if (rc == BW_OK && res->st == BW_GW_OK) {
			gw_failures = 0;
			if (strcmp(phase, "ready") == 0)
				return W_READY;
			if (strcmp(phase, "error") == 0)
				return W_ERROR;
		} else if (rc != BW_OK || ++gw_failures >= 10) {
			return W_GWFAIL;
		}
		json_object_put(*rec);
		*rec = NULL;
		if (!step(j, -1, NULL, &cancel))
			return W_LOST;
		if (cancel)
			return W_CANCEL;
		if (time(NULL) >= end)
			return W_TIMEOUT;
		if (nap(j->x, READY_POLL_MS))
			return W_LOST; /* stopping: the lease runs out and a successor resumes */
	}
}

static struct json_object *apply_presets(struct job *j, const char *name,
					 struct json_object *presets, struct json_object **failed)
{
	struct json_object *ok = json_object_new_array();
	size_t n = presets ? json_object_array_length(presets) : 0;
	*failed = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const char *p = json_object_get_string(json_object_array_get_idx(presets, i));
		const char *why = NULL;
		bool cancel = false;
		struct bw_gw_result res;
		step(j, 60 + (int)(30 * i / n),
		     bw_arena_printf(j->svc.arena, "Applying preset %s", p), &cancel);
		enum bw_err rc =
		    bw_sandbox_apply_preset(&j->svc, j->op->gateway, name, p, &why, &res);
		if (rc == BW_OK && why == NULL) {
			json_object_array_add(ok, json_object_new_string(p));
			continue;
		}
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "preset", json_object_new_string(p));
		json_object_object_add(e, "error",
				       json_object_new_string(why ? why : bw_strerror(rc)));
		json_object_array_add(*failed, e);
	}
	return ok;
}

/* Whether the sandbox of this operation exists at the gateway (found by its operation label);
 * *name is its name then. */
static bool find_ours(struct job *j, const char **name)
{
	struct bw_gw_result res;
	enum bw_err rc = bw_sandbox_find_by_op(&j->svc, j->op->gateway, j->op->id, name, &res);
	return rc == BW_OK && res.st == BW_GW_OK && *name != NULL;
}

/* A CreateSandbox outcome after which the sandbox may exist all the same: the call timed out
 * or the connection broke after the gateway acted, or a lost earlier try of ours made it. */
static bool maybe_created(enum bw_gw_status st)
{
	return st == BW_GW_TIMEOUT || st == BW_GW_NOT_CONNECTED || st == BW_GW_CONFLICT ||
	       st == BW_GW_FAILED;
}

/* Creates the sandbox unless a predecessor (or a timed-out try) did; *name is its name.
 * CreateSandbox is never blindly repeated: before each new try the gateway is asked whether
 * the sandbox of this operation exists. */
static bool ensure_created(struct job *j, struct json_object *req, const char **name)
{
	struct bw_gw_result res;
	struct json_object *v = NULL;
	*name = NULL;
	if (j->op->attempts > 1 && find_ours(j, name)) {
		bw_log(BW_LOG_INFO, "opexec", NULL,
		       "operation %s: resuming; sandbox %s already exists", j->op->id, *name);
		return true;
	}
	struct bw_sandbox_spec spec = {
	    jstr(req, "name"), jstr(req, "image"), jstr(req, "log_level"), false, NULL,
	    open_secret(j),    j->op->id};
	if (json_object_object_get_ex(req, "gpu", &v))
		spec.gpu = json_object_get_boolean(v);
	json_object_object_get_ex(req, "providers", &spec.providers);
	for (int tries = 1;; tries++) {
		enum bw_err rc = bw_sandbox_create(&j->svc, j->op->gateway, &spec, name, &res);
		if (rc != BW_OK) {
			fail(j,
			     rc == BW_ENOTFOUND
				 ? bw_arena_printf(j->svc.arena, "Gateway '%s' not connected.",
						   j->op->gateway)
				 : bw_strerror(rc),
			     "internal");
			return false;
		}
		if (res.st == BW_GW_OK)
			return true;
		if (maybe_created(res.st) && find_ours(j, name)) {
			bw_log(BW_LOG_INFO, "opexec", NULL,
			       "operation %s: CreateSandbox answered %s but the sandbox exists",
			       j->op->id, res.code_name);
			return true;
		}
		if (res.st == BW_GW_CONFLICT || !maybe_created(res.st) || tries >= CREATE_TRIES)
			break;
		if (nap(j->x, 1000 * tries))
			return false; /* stopping: a successor resumes from the lease */
	}
	fail(j, bw_sandbox_gw_text(&j->svc, j->op->gateway, &res),
	     res.st == BW_GW_NOT_CONNECTED ? "grpc_unavailable" : "internal");
	return false;
}

static void run_sandbox(struct job *j, struct json_object *req)
{
	const char *name = NULL;
	bool cancel = false;
	struct json_object *presets = NULL, *labels = NULL, *rec = NULL, *failed = NULL;
	struct bw_gw_result res;
	if (!step(j, 10, "Creating sandbox", &cancel))
		return;
	if (cancel) {
		fail_cancelled(j);
		return;
	}
	if (!ensure_created(j, req, &name))
		return;
	const char *desc = jstr(req, "description");
	json_object_object_get_ex(req, "labels", &labels);
	if ((desc != NULL || labels != NULL) &&
	    bw_sandbox_meta_put(&j->svc, j->op->gateway, name, desc, labels) != BW_OK)
		bw_log(BW_LOG_WARN, "opexec", NULL, "operation %s: storing metadata failed",
		       j->op->id);
	if (!step(j, 30, "Waiting for ready state", &cancel))
		return;
	enum wait_outcome w = cancel ? W_CANCEL : wait_ready(j, name, &rec, &res);
	switch (w) {
	case W_LOST:
		return;
	case W_CANCEL:
		fail_cancelled(j);
		return;
	case W_ERROR:
		json_object_put(rec);
		fail(j, "Sandbox entered error state", "internal");
		return;
	case W_GWFAIL:
		fail(j, bw_sandbox_gw_text(&j->svc, j->op->gateway, &res), "internal");
		return;
	case W_READY:
	case W_TIMEOUT:
		break;
	}
	json_object_object_get_ex(req, "presets", &presets);
	struct json_object *applied = NULL;
	if (w == W_READY && presets != NULL && json_object_array_length(presets) > 0) {
		applied = apply_presets(j, name, presets, &failed);
		json_object_put(rec);
		rec = NULL;
		bw_sandbox_get(&j->svc, j->op->gateway, name, &rec, NULL, &res); /* re-read */
	}
	if (rec == NULL) /* timed out: the record as it is now */
		bw_sandbox_get(&j->svc, j->op->gateway, name, &rec, NULL, &res);
	if (rec == NULL) {
		rec = json_object_new_object();
		json_object_object_add(rec, "name", json_object_new_string(name));
	}
	if (w == W_TIMEOUT) {
		json_object_object_add(
		    rec, "warning",
		    json_object_new_string("Sandbox created but did not become ready in time"));
		/* Requested presets are reported, never silently dropped. */
		failed = json_object_new_array();
		for (size_t i = 0; presets != NULL && i < json_object_array_length(presets); i++) {
			struct json_object *e = json_object_new_object();
			json_object_object_add(
			    e, "preset", json_object_get(json_object_array_get_idx(presets, i)));
			json_object_object_add(
			    e, "error",
			    json_object_new_string("Sandbox did not become ready in time"));
			json_object_array_add(failed, e);
		}
	}
	/* Unlike the reference, the per-preset outcome survives the re-read. */
	json_object_object_add(rec, "presets_applied", applied ? applied : json_object_new_array());
	if (failed != NULL && json_object_array_length(failed) > 0)
		json_object_object_add(rec, "presets_failed", failed);
	else
		json_object_put(failed);
	struct json_object *detail = json_object_new_object();
	const char *image = jstr(req, "image"), *ll = jstr(req, "log_level");
	json_object_object_add(detail, "image", json_object_new_string(image ? image : ""));
	json_object_object_add(detail, "log_level",
			       json_object_new_string(ll && ll[0] ? ll : "(gateway default)"));
	struct json_object *data = json_object_new_object();
	json_object_object_add(data, "sandbox", json_object_new_string(name));
	json_object_object_add(data, "operation_id", json_object_new_string(j->op->id));
	struct bw_audit audit = {"sandbox.create", "sandbox", name, j->op->gateway, detail};
	succeed(j, rec, "sandbox.created", data, &audit);
	json_object_put(detail);
	json_object_put(data);
	json_object_put(rec);
}

/* Output kept per stream: at most OUTPUT_CAP bytes (the stored result keeps far less). */
struct outbuf {
	char *p;
	size_t n;
	bool cut;
};

struct capture {
	struct outbuf out[2];
};

static void on_output(void *arg, int fd, const uint8_t *data, size_t len)
{
	struct capture *c = arg;
	struct outbuf *b = &c->out[fd == 2 ? 1 : 0];
	if (b->p == NULL)
		b->p = malloc(OUTPUT_CAP + 1);
	if (b->p == NULL || b->n + len > OUTPUT_CAP) {
		b->cut = true;
		len = b->p == NULL ? 0 : OUTPUT_CAP - b->n;
	}
	if (len > 0)
		memcpy(b->p + b->n, data, len);
	b->n += len;
}

/* Decodes bytes as UTF-8, replacing invalid sequences with U+FFFD (arena). */
static const char *utf8_lossy(struct bw_arena *a, const char *p, size_t n)
{
	char *o = bw_arena_alloc(a, n * 3 + 1);
	size_t k = 0;
	if (o == NULL)
		return "";
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)p[i];
		size_t len = c < 0x80             ? 1
			     : (c & 0xe0) == 0xc0 ? 2
			     : (c & 0xf0) == 0xe0 ? 3
			     : (c & 0xf8) == 0xf0 ? 4
						  : 0;
		bool good = len > 0 && i + len <= n && c != 0;
		for (size_t m = 1; good && m < len; m++)
			good = ((unsigned char)p[i + m] & 0xc0) == 0x80;
		if (good && len == 2)
			good = c >= 0xc2;
		if (good) {
			memcpy(o + k, p + i, len);
			k += len;
			i += len;
		} else {
			memcpy(o + k, "\xef\xbf\xbd", 3);
			k += 3;
			i++;
		}
	}
	o[k] = '\0';
	return o;
}

static void run_exec(struct job *j, struct json_object *req)
{
	bool cancel = false;
	struct json_object *cmd = NULL, *v = NULL;
	if (j->op->attempts > 1) {
		/* The command may already have run: never run it a second time. */
		fail(j, "The worker running this command stopped; it is not run again", "orphaned");
		return;
	}
	if (!step(j, 10, "Running command", &cancel))
		return;
	if (cancel) {
		fail_cancelled(j);
		return;
	}
	json_object_object_get_ex(req, "argv", &cmd);
	size_t argc = cmd ? json_object_array_length(cmd) : 0;
	const char **argv = bw_arena_zalloc(j->svc.arena, (argc + 1) * sizeof(*argv));
	for (size_t i = 0; argv != NULL && i < argc; i++)
		argv[i] = json_object_get_string(json_object_array_get_idx(cmd, i));
	struct json_object *env = open_secret(j);
	size_t env_n = env ? (size_t)json_object_object_length(env) : 0, e = 0;
	const char **envp = bw_arena_zalloc(j->svc.arena, (2 * env_n + 1) * sizeof(*envp));
	if (argv == NULL || envp == NULL) {
		fail(j, "out of memory", "internal");
		return;
	}
	if (env != NULL) {
		json_object_object_foreach(env, k, val)
		{
			envp[e++] = k;
			envp[e++] = json_object_get_string(val);
		}
	}
	struct bw_exec_req er = {argv, argc, 0, jstr(req, "workdir"), envp, env_n, false};
	if (json_object_object_get_ex(req, "timeout_seconds", &v))
		er.timeout_s = (unsigned)json_object_get_int(v);
	if (json_object_object_get_ex(req, "tty", &v))
		er.tty = json_object_get_boolean(v);
	struct capture cap;
	memset(&cap, 0, sizeof(cap));
	struct bw_exec_sink sink = {on_output, &cap};
	struct bw_exec_outcome out;
	struct bw_gw_result res;
	const char *sandbox = jstr(req, "sandbox");
	enum bw_err rc = bw_gwstream_exec_req(&j->svc, j->op->gateway, sandbox ? sandbox : "", &er,
					      &sink, &out, &res);
	const char *error = NULL, *code = "internal";
	if (rc == BW_OK && res.st == BW_GW_NOT_CONNECTED)
		code = "grpc_unavailable";
	if (rc != BW_OK)
		error = rc == BW_ENOTFOUND
			    ? bw_arena_printf(j->svc.arena, "Gateway '%s' not connected.",
					      j->op->gateway)
			    : bw_strerror(rc);
	else if (res.st != BW_GW_OK)
		error = bw_sandbox_gw_text(&j->svc, j->op->gateway, &res);
	struct json_object *result = json_object_new_object();
	json_object_object_add(result, "exit_code",
			       out.exited ? json_object_new_int(out.exit_code) : NULL);
	json_object_object_add(result, "stdout",
			       json_object_new_string(utf8_lossy(
				   j->svc.arena, cap.out[0].p ? cap.out[0].p : "", cap.out[0].n)));
	json_object_object_add(result, "stderr",
			       json_object_new_string(utf8_lossy(
				   j->svc.arena, cap.out[1].p ? cap.out[1].p : "", cap.out[1].n)));
	free(cap.out[0].p);
	free(cap.out[1].p);
	struct json_object *detail = json_object_new_object();
	const char *shown = jstr(req, "command");
	json_object_object_add(
	    detail, "command",
	    json_object_new_string_len(shown ? shown : "",
				       shown ? (int)bw_utf8_prefix(shown, 200) : 0));
	json_object_object_add(detail, "exit_code",
			       out.exited ? json_object_new_int(out.exit_code) : NULL);
	json_object_object_add(detail, "timeout_seconds", json_object_new_int((int)er.timeout_s));
	json_object_object_add(detail, "tty", json_object_new_boolean(er.tty));
	json_object_object_add(detail, "status",
			       json_object_new_string(error == NULL ? "success" : "failed"));
	struct bw_audit audit = {"sandbox.exec", "sandbox", sandbox, j->op->gateway, detail};
	/* A running command cannot be interrupted through ExecSandbox; a cancel asked for
	 * meanwhile still ends the operation as cancelled (the output is dropped). */
	if (!step(j, -1, NULL, &cancel)) {
		json_object_put(detail);
		json_object_put(result);
		return;
	}
	if (cancel) {
		error = "Operation was cancelled";
		code = "cancelled";
	}
	if (error == NULL) {
		succeed(j, result, NULL, NULL, &audit);
	} else {
		struct bw_actor actor = actor_of(j->op);
		enum bw_err rc2 = bw_db_begin(j->svc.db);
		if (rc2 == BW_OK)
			rc2 = bw_op_finish_tx(&j->svc, j->op->id, j->x->owner, NULL, error, code);
		if (rc2 == BW_OK)
			rc2 = bw_audit_write(&j->svc, &actor, &audit);
		if (rc2 == BW_OK)
			rc2 = bw_db_commit(j->svc.db);
		if (rc2 != BW_OK)
			bw_db_rollback(j->svc.db);
	}
	json_object_put(detail);
	json_object_put(result);
}

static void run_one(struct job *j)
{
	struct json_object *req = json_tokener_parse(j->op->request_json);
	if (req == NULL || !json_object_is_type(req, json_type_object)) {
		fail(j, "Stored request is unreadable", "internal");
		json_object_put(req);
		return;
	}
	if (j->op->cancelling)
		fail_cancelled(j);
	else if (strcmp(j->op->resource_type, "sandbox") == 0)
		run_sandbox(j, req);
	else if (strcmp(j->op->resource_type, "exec") == 0)
		run_exec(j, req);
	else
		fail(j, "Unknown operation type", "internal");
	json_object_put(req);
}

/* Opens a thread's database handle and arena; false when out of memory. */
static bool thread_svc(struct bw_opexec *x, struct bw_svc *svc)
{
	bw_db_thread_init();
	*svc = (struct bw_svc){.db = bw_db_new(x->conf),
			       .arena = bw_arena_new(64 * 1024),
			       .master_key = x->key,
			       .conf = x->conf,
			       .shared = NULL,
			       .authcache = NULL};
	return svc->db != NULL && svc->arena != NULL;
}

static void thread_svc_end(struct bw_svc *svc)
{
	bw_arena_free(svc->arena);
	bw_db_close(svc->db);
	bw_db_thread_end();
}

static void *executor(void *arg)
{
	struct bw_opexec *x = arg;
	struct job j = {x, {0}, NULL};
	if (!thread_svc(x, &j.svc)) {
		bw_log(BW_LOG_ERROR, "opexec", NULL, "executor: out of memory");
		thread_svc_end(&j.svc);
		return NULL;
	}
	while (!stopping(x)) {
		struct bw_op_claim op;
		bool got = false;
		enum bw_err rc = bw_op_claim(&j.svc, x->owner, x->lease_s, &op, &got);
		if (rc == BW_OK && got) {
			j.op = &op;
			bw_log(BW_LOG_INFO, "opexec", NULL, "operation %s (%s) attempt %u", op.id,
			       op.resource_type, op.attempts);
			run_one(&j);
			j.op = NULL;
		} else if (rc != BW_OK) {
			bw_log(BW_LOG_WARN, "opexec", NULL, "claim failed: %s", bw_strerror(rc));
		}
		bw_arena_reset(j.svc.arena);
		if (!got)
			nap(x, IDLE_MS + rand() % 250);
	}
	thread_svc_end(&j.svc);
	return NULL;
}

/* Frees the leases of workers on this host whose process is gone (kill -9, crash), so their
 * operations resume now instead of when the lease runs out. */
static void reclaim_dead(struct bw_opexec *x, struct bw_svc *svc)
{
	struct bw_dbres r;
	const char *colon = strrchr(x->owner, ':');
	size_t hostlen = colon ? (size_t)(colon - x->owner) : 0;
	if (colon == NULL || bw_op_lease_owners(svc, &r) != BW_OK)
		return;
	for (size_t i = 0; i < r.nrows; i++) {
		const char *o = bw_db_cell(&r, i, 0);
		const char *c = strrchr(o, ':');
		if (c == NULL || (size_t)(c - o) != hostlen || strncmp(o, x->owner, hostlen) != 0 ||
		    strcmp(o, x->owner) == 0)
			continue;
		long pid = strtol(c + 1, NULL, 10);
		if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
			bw_log(BW_LOG_INFO, "opexec", NULL, "taking over operations of %s", o);
			bw_op_release_owner(svc, o);
		}
	}
}

static void *keeper(void *arg)
{
	struct bw_opexec *x = arg;
	struct bw_svc svc;
	int beat = x->lease_s / 3 > 0 ? x->lease_s / 3 : 1;
	time_t next_house = 0;
	if (!thread_svc(x, &svc)) {
		thread_svc_end(&svc);
		return NULL;
	}
	do {
		enum bw_err rc = bw_op_heartbeat(&svc, x->owner, x->lease_s);
		if (rc != BW_OK)
			bw_log(BW_LOG_WARN, "opexec", NULL, "lease renewal failed: %s",
			       bw_strerror(rc));
		if (time(NULL) >= next_house) {
			long long deleted = 0;
			reclaim_dead(x, &svc);
			if (bw_op_cleanup(&svc, x->conf->operation_retention_days, &deleted) ==
				BW_OK &&
			    deleted > 0)
				bw_log(BW_LOG_INFO, "opexec", NULL, "deleted %lld old operations",
				       deleted);
			next_house = time(NULL) + HOUSEKEEPING_S;
		}
		bw_arena_reset(svc.arena);
	} while (!nap(x, beat * 1000));
	/* Leases of operations cut short by the stop end now: another worker resumes them. */
	bw_op_release_owner(&svc, x->owner);
	thread_svc_end(&svc);
	return NULL;
}

struct bw_opexec *bw_opexec_start(const struct bw_conf *conf, const uint8_t *master_key,
				  const char *owner)
{
	struct bw_opexec *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return NULL;
	x->conf = conf;
	x->key = master_key;
	snprintf(x->owner, sizeof(x->owner), "%s", owner);
	x->lease_s = conf->ops_lease_seconds;
	x->nthreads = conf->ops_concurrency;
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->cv, NULL);
	x->threads = calloc((size_t)x->nthreads, sizeof(*x->threads));
	if (x->threads == NULL) {
		free(x);
		return NULL;
	}
	int started = 0;
	for (; started < x->nthreads; started++)
		if (pthread_create(&x->threads[started], NULL, executor, x) != 0)
			break;
	x->nthreads = started;
	x->keeper_started = pthread_create(&x->keeper, NULL, keeper, x) == 0;
	bw_log(BW_LOG_INFO, "opexec", NULL, "operations executor %s: %d threads, lease %d s",
	       x->owner, x->nthreads, x->lease_s);
	return x;
}

void bw_opexec_stop(struct bw_opexec *x)
{
	if (x == NULL)
		return;
	pthread_mutex_lock(&x->mu);
	x->stopping = true;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
	for (int i = 0; i < x->nthreads; i++)
		pthread_join(x->threads[i], NULL);
	if (x->keeper_started)
		pthread_join(x->keeper, NULL);
	pthread_cond_destroy(&x->cv);
	pthread_mutex_destroy(&x->mu);
	free(x->threads);
	free(x);
}
