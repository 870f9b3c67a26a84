/* gwclient: see gwclient.h. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <openssl/evp.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "openshell.pb-c.h"
#include "services/gwclient.h"

#define BACKOFF_MIN_S 5.0
#define BACKOFF_MAX_S 60.0
#define RETRY_ATTEMPTS 4
#define RETRY_INITIAL_S 0.25
#define RETRY_MAX_S 4.0
#define RETRY_JITTER 0.1
#define MAX_MESSAGE_BYTES BW_GW_MAX_MESSAGE_BYTES
#define EXEC_DEFAULT_TIMEOUT_S 600
#define EXEC_MARGIN_S 10
#define EXEC_MIN_DEADLINE_S 30

struct chan {
	char *name;
	char *key; /* endpoint + " " + credential fingerprint */
	grpc_channel *ch;
	int refs; /* one for the cache while listed, one per call in flight */
	struct chan *next;
};

struct backoff {
	char *name;
	double last_attempt, delay; /* monotonic seconds; delay 0 = not backing off */
	struct backoff *next;
};

/* The process's one cache: every field is guarded by mu. */
static struct {
	pthread_mutex_t mu;
	bool up;
	struct chan *chans;
	struct backoff *backoffs;
	int timeout_s;
	bool require_mtls, allow_plaintext;
	bw_gw_call_hook hook;
	void *hook_ctx;
} cache = {PTHREAD_MUTEX_INITIALIZER, false, NULL, NULL, 30, true, false, NULL, NULL};

__attribute__((format(printf, 4, 5))) static void
set_result(struct bw_gw_result *r, enum bw_gw_status st, const char *code, const char *fmt, ...)
{
	va_list ap;
	r->st = st;
	r->code_name = code;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

enum bw_err bw_gw_process_init(const struct bw_conf *conf)
{
	grpc_init();
	pthread_mutex_lock(&cache.mu);
	cache.up = true;
	cache.timeout_s = conf->grpc_timeout;
	cache.require_mtls = conf->require_mtls;
	cache.allow_plaintext = conf->allow_plaintext_gateways;
	pthread_mutex_unlock(&cache.mu);
	return BW_OK;
}

static void chan_free(struct chan *c)
{
	grpc_channel_destroy(c->ch);
	free(c->name);
	free(c->key);
	free(c);
}

/* Drops one reference; the last one destroys the channel (outside the lock). */
static void chan_release(struct chan *c)
{
	pthread_mutex_lock(&cache.mu);
	bool last = --c->refs == 0;
	pthread_mutex_unlock(&cache.mu);
	if (last)
		chan_free(c);
}

/* Unlinks name's channel from the list; returns it when that was its last reference.
 * Caller holds mu. */
static struct chan *unlink_locked(const char *name)
{
	for (struct chan **pp = &cache.chans; *pp != NULL; pp = &(*pp)->next) {
		struct chan *c = *pp;
		if (strcmp(c->name, name) != 0)
			continue;
		*pp = c->next;
		return --c->refs == 0 ? c : NULL;
	}
	return NULL;
}

void bw_gw_set_call_hook(bw_gw_call_hook fn, void *ctx)
{
	pthread_mutex_lock(&cache.mu);
	cache.hook = fn;
	cache.hook_ctx = ctx;
	pthread_mutex_unlock(&cache.mu);
}

static void call_counted(const char *name, const char *method, const char *code)
{
	pthread_mutex_lock(&cache.mu);
	bw_gw_call_hook fn = cache.hook;
	void *ctx = cache.hook_ctx;
	pthread_mutex_unlock(&cache.mu);
	if (fn != NULL)
		fn(ctx, name, method, code);
}

void bw_gw_process_shutdown(void)
{
	pthread_mutex_lock(&cache.mu);
	struct chan *list = cache.chans;
	struct backoff *bo = cache.backoffs;
	cache.chans = NULL;
	cache.backoffs = NULL;
	bool was_up = cache.up;
	cache.up = false;
	pthread_mutex_unlock(&cache.mu);
	while (list != NULL) {
		struct chan *next = list->next;
		chan_release(list);
		list = next;
	}
	while (bo != NULL) {
		struct backoff *next = bo->next;
		free(bo->name);
		free(bo);
		bo = next;
	}
	if (was_up)
		grpc_shutdown_blocking();
}

void bw_gw_forget(const char *name)
{
	pthread_mutex_lock(&cache.mu);
	struct chan *dead = unlink_locked(name);
	pthread_mutex_unlock(&cache.mu);
	if (dead != NULL)
		chan_free(dead);
}

static struct backoff *backoff_locked(const char *name, bool create)
{
	for (struct backoff *b = cache.backoffs; b != NULL; b = b->next)
		if (strcmp(b->name, name) == 0)
			return b;
	if (!create)
		return NULL;
	struct backoff *b = calloc(1, sizeof(*b));
	if (b == NULL || (b->name = strdup(name)) == NULL) {
		free(b);
		return NULL;
	}
	b->next = cache.backoffs;
	cache.backoffs = b;
	return b;
}

void bw_gw_reset(const char *name)
{
	pthread_mutex_lock(&cache.mu);
	struct backoff *b = backoff_locked(name, false);
	if (b != NULL)
		b->delay = 0;
	pthread_mutex_unlock(&cache.mu);
	bw_gw_forget(name);
}

/* True when the gateway is inside its reconnect backoff window: fail fast, no I/O. */
static bool in_backoff(const char *name)
{
	pthread_mutex_lock(&cache.mu);
	struct backoff *b = backoff_locked(name, false);
	bool wait = b != NULL && b->delay > 0 && bw_mono_s() - b->last_attempt < b->delay;
	pthread_mutex_unlock(&cache.mu);
	return wait;
}

/* After a call: success clears the backoff; unreachable extends it (5, 10, 20, 40, 60 s). */
static void note_outcome(const char *name, bool unreachable)
{
	pthread_mutex_lock(&cache.mu);
	struct backoff *b = backoff_locked(name, unreachable);
	if (b != NULL) {
		b->last_attempt = bw_mono_s();
		if (!unreachable)
			b->delay = 0;
		else if (b->delay == 0)
			b->delay = BACKOFF_MIN_S;
		else
			b->delay = b->delay * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : b->delay * 2;
	}
	pthread_mutex_unlock(&cache.mu);
}

/* endpoint + " " + hex SHA-256 over scheme and the three PEMs (length-prefixed, so moving
 * bytes between fields changes it). Heap string or NULL. */
static char *channel_key(const struct bw_gateway_creds *c)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char digest[32];
	unsigned int dlen = 0;
	char *key = NULL;
	const struct bw_blob *parts[3] = {&c->ca_cert, &c->client_cert, &c->client_key};
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	EVP_DigestUpdate(md, c->scheme, strlen(c->scheme) + 1);
	for (int i = 0; i < 3; i++) {
		unsigned long long len = parts[i]->p != NULL ? parts[i]->len + 1 : 0;
		EVP_DigestUpdate(md, &len, sizeof(len));
		if (parts[i]->p != NULL)
			EVP_DigestUpdate(md, parts[i]->p, parts[i]->len);
	}
	if (EVP_DigestFinal_ex(md, digest, &dlen) != 1)
		goto out;
	size_t n = strlen(c->endpoint) + 1 + 64 + 1;
	key = malloc(n);
	if (key == NULL)
		goto out;
	int used = snprintf(key, n, "%s ", c->endpoint);
	for (unsigned i = 0; i < dlen; i++)
		used += snprintf(key + used, n - (size_t)used, "%02x", digest[i]);
out:
	EVP_MD_CTX_free(md);
	return key;
}

/* Channel credentials for the stored bundle, or NULL with r set (policy refusal). */
static grpc_channel_credentials *make_creds(const struct bw_gateway_creds *c, bool require_mtls,
					    bool allow_plaintext, struct bw_gw_result *r)
{
	if (strcmp(c->scheme, "http") == 0) {
		if (allow_plaintext)
			return grpc_insecure_credentials_create();
		set_result(r, BW_GW_NOT_CONNECTED, "",
			   "plaintext gateway '%s' refused (allow_plaintext_gateways is off)",
			   c->endpoint);
		return NULL;
	}
	bool full = c->ca_cert.p != NULL && c->client_cert.p != NULL && c->client_key.p != NULL;
	if (require_mtls && !full) {
		set_result(r, BW_GW_NOT_CONNECTED, "",
			   "mTLS required but no client bundle provided for '%s'", c->endpoint);
		return NULL;
	}
	grpc_ssl_pem_key_cert_pair pair = {(const char *)c->client_key.p,
					   (const char *)c->client_cert.p};
	bool use_pair = c->client_cert.p != NULL && c->client_key.p != NULL;
	return grpc_ssl_credentials_create((const char *)c->ca_cert.p, use_pair ? &pair : NULL,
					   NULL, NULL);
}

static grpc_channel *make_channel(const struct bw_gateway_creds *c, bool require_mtls,
				  bool allow_plaintext, struct bw_gw_result *r)
{
	grpc_channel_credentials *creds = make_creds(c, require_mtls, allow_plaintext, r);
	if (creds == NULL)
		return NULL;
	/* Retries and reconnect pacing are ours (per gateway, across channels); a private
	 * subchannel pool makes a replaced channel really open a new connection. */
	char k_retries[] = GRPC_ARG_ENABLE_RETRIES, k_pool[] = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL,
	     k_initial[] = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
	     k_max[] = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
	     k_recv[] = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	grpc_arg args[] = {
	    {GRPC_ARG_INTEGER, k_retries, {.integer = 0}},
	    {GRPC_ARG_INTEGER, k_pool, {.integer = 1}},
	    {GRPC_ARG_INTEGER, k_initial, {.integer = 1000}},
	    {GRPC_ARG_INTEGER, k_max, {.integer = 5000}},
	    {GRPC_ARG_INTEGER, k_recv, {.integer = MAX_MESSAGE_BYTES}},
	};
	grpc_channel_args ca = {sizeof(args) / sizeof(args[0]), args};
	grpc_channel *ch = grpc_channel_create(c->endpoint, creds, &ca);
	grpc_channel_credentials_release(creds);
	if (ch == NULL)
		set_result(r, BW_GW_NOT_CONNECTED, "", "cannot create a channel to '%s'",
			   c->endpoint);
	return ch;
}

/* The cached channel for t (one reference taken), creating it if needed; NULL with r set. */
static struct chan *acquire(const struct bw_gw_target *t, struct bw_gw_result *r)
{
	char *key = channel_key(t->creds);
	struct chan *c = NULL, *stale = NULL;
	if (key == NULL) {
		set_result(r, BW_GW_FAILED, "", "%s", "out of memory");
		return NULL;
	}
	pthread_mutex_lock(&cache.mu);
	bool up = cache.up, require_mtls = cache.require_mtls, plain = cache.allow_plaintext;
	for (c = cache.chans; c != NULL; c = c->next)
		if (strcmp(c->name, t->name) == 0)
			break;
	if (c != NULL && strcmp(c->key, key) == 0)
		c->refs++;
	else if (c != NULL) {
		stale = unlink_locked(t->name); /* new credentials: old calls finish on it */
		c = NULL;
	}
	pthread_mutex_unlock(&cache.mu);
	if (stale != NULL)
		chan_free(stale);
	if (c != NULL || !up) {
		if (!up)
			set_result(r, BW_GW_NOT_CONNECTED, "", "%s", "gRPC is not initialised");
		free(key);
		return c;
	}
	struct chan *fresh = calloc(1, sizeof(*fresh));
	grpc_channel *ch = make_channel(t->creds, require_mtls, plain, r);
	if (fresh == NULL || ch == NULL || (fresh->name = strdup(t->name)) == NULL) {
		if (ch != NULL)
			grpc_channel_destroy(ch);
		if (fresh == NULL || (ch != NULL && fresh->name == NULL))
			set_result(r, BW_GW_FAILED, "", "%s", "out of memory");
		free(fresh);
		free(key);
		return NULL;
	}
	fresh->key = key;
	fresh->ch = ch;
	fresh->refs = 2;
	pthread_mutex_lock(&cache.mu);
	/* Another thread may have created one meanwhile: keep the first, use ours once. */
	bool raced = false;
	for (struct chan *o = cache.chans; o != NULL; o = o->next)
		raced |= strcmp(o->name, t->name) == 0;
	if (raced)
		fresh->refs = 1;
	else {
		fresh->next = cache.chans;
		cache.chans = fresh;
	}
	pthread_mutex_unlock(&cache.mu);
	return fresh;
}

static const char *code_name(grpc_status_code code)
{
	static const char *const names[] = {"OK",
					    "CANCELLED",
					    "UNKNOWN",
					    "INVALID_ARGUMENT",
					    "DEADLINE_EXCEEDED",
					    "NOT_FOUND",
					    "ALREADY_EXISTS",
					    "PERMISSION_DENIED",
					    "RESOURCE_EXHAUSTED",
					    "FAILED_PRECONDITION",
					    "ABORTED",
					    "OUT_OF_RANGE",
					    "UNIMPLEMENTED",
					    "INTERNAL",
					    "UNAVAILABLE",
					    "DATA_LOSS",
					    "UNAUTHENTICATED"};
	if ((unsigned)code < sizeof(names) / sizeof(names[0]))
		return names[code];
	return "UNKNOWN";
}

static enum bw_gw_status classify(grpc_status_code code)
{
	switch (code) {
	case GRPC_STATUS_OK:
		return BW_GW_OK;
	case GRPC_STATUS_INVALID_ARGUMENT:
	case GRPC_STATUS_OUT_OF_RANGE:
		return BW_GW_INVALID;
	case GRPC_STATUS_NOT_FOUND:
		return BW_GW_NOT_FOUND;
	case GRPC_STATUS_ALREADY_EXISTS:
	case GRPC_STATUS_ABORTED:
	case GRPC_STATUS_FAILED_PRECONDITION:
		return BW_GW_CONFLICT;
	case GRPC_STATUS_PERMISSION_DENIED:
		return BW_GW_PERMISSION;
	case GRPC_STATUS_UNAUTHENTICATED:
		return BW_GW_UNAUTHENTICATED;
	case GRPC_STATUS_RESOURCE_EXHAUSTED:
		return BW_GW_EXHAUSTED;
	case GRPC_STATUS_DEADLINE_EXCEEDED:
		return BW_GW_TIMEOUT;
	case GRPC_STATUS_UNIMPLEMENTED:
		return BW_GW_UNIMPLEMENTED;
	case GRPC_STATUS_UNAVAILABLE:
		return BW_GW_NOT_CONNECTED;
	default:
		return BW_GW_FAILED;
	}
}

static bool retryable(grpc_status_code code)
{
	return code == GRPC_STATUS_UNAVAILABLE || code == GRPC_STATUS_DEADLINE_EXCEEDED ||
	       code == GRPC_STATUS_RESOURCE_EXHAUSTED || code == GRPC_STATUS_ABORTED;
}

/* The call's message bytes, or an empty slice. */
static grpc_slice read_message(grpc_byte_buffer *bb)
{
	grpc_byte_buffer_reader reader;
	if (bb == NULL || !grpc_byte_buffer_reader_init(&reader, bb))
		return grpc_empty_slice();
	grpc_slice s = grpc_byte_buffer_reader_readall(&reader);
	grpc_byte_buffer_reader_destroy(&reader);
	return s;
}

/* One attempt on a private completion queue; the call's deadline bounds the wait. */
static grpc_status_code call_once(grpc_channel *ch, const char *method, grpc_slice payload,
				  double budget_s, grpc_slice *out, char *details, size_t dlen)
{
	grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
	gpr_timespec deadline =
	    gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
			 gpr_time_from_millis((int64_t)(budget_s * 1000), GPR_TIMESPAN));
	grpc_slice path = grpc_slice_from_static_string(method);
	grpc_call *call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, path,
						   NULL, deadline, NULL);
	grpc_metadata_array init_md, trail_md;
	grpc_metadata_array_init(&init_md);
	grpc_metadata_array_init(&trail_md);
	grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&payload, 1);
	grpc_byte_buffer *recv = NULL;
	grpc_status_code status = GRPC_STATUS_INTERNAL;
	grpc_slice status_details = grpc_empty_slice();
	grpc_op ops[6];
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &recv;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &trail_md;
	ops[5].data.recv_status_on_client.status = &status;
	ops[5].data.recv_status_on_client.status_details = &status_details;
	snprintf(details, dlen, "%s", "");
	if (call != NULL && grpc_call_start_batch(call, ops, 6, call, NULL) == GRPC_CALL_OK) {
		/* The deadline makes the batch complete; the margin only guards against a stall. */
		gpr_timespec wait = gpr_time_add(deadline, gpr_time_from_seconds(5, GPR_TIMESPAN));
		grpc_event ev = grpc_completion_queue_next(cq, wait, NULL);
		if (ev.type != GRPC_OP_COMPLETE) {
			grpc_call_cancel(call, NULL);
			grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
			status = GRPC_STATUS_DEADLINE_EXCEEDED;
		}
	}
	if (status == GRPC_STATUS_OK)
		*out = read_message(recv);
	else if (GRPC_SLICE_LENGTH(status_details) > 0)
		snprintf(details, dlen, "%.*s", (int)GRPC_SLICE_LENGTH(status_details),
			 (const char *)GRPC_SLICE_START_PTR(status_details));
	grpc_slice_unref(status_details);
	grpc_byte_buffer_destroy(send);
	if (recv != NULL)
		grpc_byte_buffer_destroy(recv);
	grpc_metadata_array_destroy(&init_md);
	grpc_metadata_array_destroy(&trail_md);
	if (call != NULL)
		grpc_call_unref(call);
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
	       GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(cq);
	return status;
}

/* Sleep before retry n (1-based), clamped to what is left of the budget. */
static void retry_pause(int n, double left_s)
{
	double d = bw_backoff_s(n, RETRY_INITIAL_S, RETRY_MAX_S, RETRY_JITTER);
	bw_sleep_s(d < left_s ? d : left_s);
}

struct bw_gw_result bw_gw_unary(const struct bw_gw_target *t, const char *method,
				const ProtobufCMessage *req,
				const ProtobufCMessageDescriptor *resp_desc, bool idempotent,
				ProtobufCMessage **resp)
{
	struct bw_gw_result r = {BW_GW_OK, "", ""};
	*resp = NULL;
	if (in_backoff(t->name)) {
		set_result(&r, BW_GW_NOT_CONNECTED, "", "gateway '%s' is in reconnect backoff",
			   t->name);
		return r;
	}
	struct chan *c = acquire(t, &r);
	if (c == NULL)
		return r;
	size_t len = protobuf_c_message_get_packed_size(req);
	grpc_slice payload = grpc_slice_malloc(len);
	protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(payload));
	double start = bw_mono_s(), budget = cache.timeout_s;
	grpc_status_code code = GRPC_STATUS_UNKNOWN;
	grpc_slice out = grpc_empty_slice();
	char details[160];
	for (int attempt = 1;; attempt++) {
		double left = budget - (bw_mono_s() - start);
		code = left > 0
			   ? call_once(c->ch, method, payload, left, &out, details, sizeof(details))
			   : GRPC_STATUS_DEADLINE_EXCEEDED;
		left = budget - (bw_mono_s() - start);
		if (code == GRPC_STATUS_OK || !idempotent || !retryable(code) ||
		    attempt >= RETRY_ATTEMPTS || left <= 0)
			break;
		bw_log(BW_LOG_DEBUG, "gwclient", NULL, "%s %s: %s, retrying", t->name, method,
		       code_name(code));
		retry_pause(attempt, left);
	}
	grpc_slice_unref(payload);
	r.st = classify(code);
	r.code_name = code_name(code);
	snprintf(r.why, sizeof(r.why), "%s%s%s", code_name(code), details[0] ? ": " : "", details);
	if (code == GRPC_STATUS_OK) {
		*resp = protobuf_c_message_unpack(resp_desc, NULL, GRPC_SLICE_LENGTH(out),
						  GRPC_SLICE_START_PTR(out));
		if (*resp == NULL)
			set_result(&r, BW_GW_FAILED, "INTERNAL", "%s",
				   "the gateway's answer does not decode");
	}
	grpc_slice_unref(out);
	call_counted(t->name, method, code_name(code));
	note_outcome(t->name, code == GRPC_STATUS_UNAVAILABLE);
	chan_release(c);
	/* A broken connection is replaced on the next attempt after the backoff, like a
	 * fresh connect. */
	if (code == GRPC_STATUS_UNAVAILABLE)
		bw_gw_forget(t->name);
	if (r.st != BW_GW_OK)
		bw_log(BW_LOG_WARN, "gwclient", NULL, "%s %s: %s", t->name, method, r.why);
	return r;
}

bool bw_gw_stream_may_retry(int code, bool idempotent, unsigned long delivered, int attempt,
			    double left_s)
{
	return idempotent && delivered == 0 && retryable((grpc_status_code)code) &&
	       attempt < RETRY_ATTEMPTS && left_s > 0;
}

double bw_gw_exec_deadline_s(unsigned timeout_s)
{
	double d = (double)(timeout_s ? timeout_s : EXEC_DEFAULT_TIMEOUT_S) + EXEC_MARGIN_S;
	return d < EXEC_MIN_DEADLINE_S ? EXEC_MIN_DEADLINE_S : d;
}

/* The pieces of one streaming attempt, all freed by stream_close. */
struct stream_call {
	grpc_completion_queue *cq;
	grpc_call *call;
	grpc_metadata_array init_md, trail_md;
	grpc_byte_buffer *send, *recv;
	grpc_status_code status;
	grpc_slice details;
	int pending; /* batches started whose event has not been taken */
	bool cancelled;
};

enum { TAG_START = 1, TAG_STATUS, TAG_RECV };

static bool stream_batch(struct stream_call *sc, grpc_op *ops, size_t n, intptr_t tag)
{
	if (grpc_call_start_batch(sc->call, ops, n, (void *)tag, NULL) != GRPC_CALL_OK)
		return false;
	sc->pending++;
	return true;
}

/* Starts the request batch, the status batch and the first RECV_MESSAGE. */
static bool stream_open(struct stream_call *sc, grpc_channel *ch, const char *method,
			grpc_slice payload, gpr_timespec deadline)
{
	sc->call =
	    grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, sc->cq,
				     grpc_slice_from_static_string(method), NULL, deadline, NULL);
	if (sc->call == NULL)
		return false;
	sc->send = grpc_raw_byte_buffer_create(&payload, 1);
	grpc_op ops[4];
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = sc->send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &sc->init_md;
	if (!stream_batch(sc, ops, 4, TAG_START))
		return false;
	grpc_op st;
	memset(&st, 0, sizeof(st));
	st.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	st.data.recv_status_on_client.trailing_metadata = &sc->trail_md;
	st.data.recv_status_on_client.status = &sc->status;
	st.data.recv_status_on_client.status_details = &sc->details;
	return stream_batch(sc, &st, 1, TAG_STATUS);
}

static bool stream_recv(struct stream_call *sc)
{
	grpc_op op;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &sc->recv;
	sc->recv = NULL;
	return stream_batch(sc, &op, 1, TAG_RECV);
}

static void stream_cancel(struct stream_call *sc)
{
	if (!sc->cancelled)
		grpc_call_cancel(sc->call, NULL);
	sc->cancelled = true;
}

/* Hands the received message to cb; false when the stream must end here (stopped by the
 * callback, or an undecodable message). */
static bool stream_deliver(struct stream_call *sc, const ProtobufCMessageDescriptor *desc,
			   bw_gw_on_message cb, void *arg, struct bw_gw_stream_end *end, bool *bad)
{
	grpc_slice s = read_message(sc->recv);
	grpc_byte_buffer_destroy(sc->recv);
	sc->recv = NULL;
	ProtobufCMessage *msg =
	    protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
	grpc_slice_unref(s);
	if (msg == NULL) {
		*bad = true;
		return false;
	}
	end->delivered++;
	enum bw_gw_flow flow = cb(msg, arg);
	protobuf_c_message_free_unpacked(msg, NULL);
	if (flow == BW_GW_STOP)
		end->stopped = true;
	return flow == BW_GW_CONTINUE;
}

static void stream_close(struct stream_call *sc)
{
	grpc_slice_unref(sc->details);
	if (sc->send != NULL)
		grpc_byte_buffer_destroy(sc->send);
	if (sc->recv != NULL)
		grpc_byte_buffer_destroy(sc->recv);
	grpc_metadata_array_destroy(&sc->init_md);
	grpc_metadata_array_destroy(&sc->trail_md);
	if (sc->call != NULL)
		grpc_call_unref(sc->call);
	grpc_completion_queue_shutdown(sc->cq);
	while (grpc_completion_queue_next(sc->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
	       GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(sc->cq);
}

/* One streaming attempt: returns the final status (CANCELLED turned into OK when the callback
 * stopped the stream, INTERNAL for an undecodable message). */
static grpc_status_code stream_once(grpc_channel *ch, const char *method, grpc_slice payload,
				    double budget_s, const ProtobufCMessageDescriptor *desc,
				    bw_gw_on_message cb, void *arg, struct bw_gw_stream_end *end,
				    char *details, size_t dlen)
{
	struct stream_call sc;
	memset(&sc, 0, sizeof(sc));
	sc.cq = grpc_completion_queue_create_for_next(NULL);
	sc.status = GRPC_STATUS_INTERNAL;
	sc.details = grpc_empty_slice();
	grpc_metadata_array_init(&sc.init_md);
	grpc_metadata_array_init(&sc.trail_md);
	gpr_timespec deadline =
	    gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
			 gpr_time_from_millis((int64_t)(budget_s * 1000), GPR_TIMESPAN));
	gpr_timespec guard = gpr_time_add(deadline, gpr_time_from_seconds(5, GPR_TIMESPAN));
	bool bad = false;
	snprintf(details, dlen, "%s", "");
	if (!stream_open(&sc, ch, method, payload, deadline) || !stream_recv(&sc)) {
		if (sc.call != NULL)
			stream_cancel(&sc);
	}
	while (sc.pending > 0) {
		/* The deadline ends every batch; the guard only protects against a stall. */
		grpc_event ev = grpc_completion_queue_next(
		    sc.cq, sc.cancelled ? gpr_inf_future(GPR_CLOCK_MONOTONIC) : guard, NULL);
		if (ev.type != GRPC_OP_COMPLETE) {
			stream_cancel(&sc);
			continue;
		}
		sc.pending--;
		if ((intptr_t)ev.tag != TAG_RECV || sc.recv == NULL)
			continue; /* the end of the stream: the status batch completes */
		if (sc.cancelled || !stream_deliver(&sc, desc, cb, arg, end, &bad) ||
		    !stream_recv(&sc))
			stream_cancel(&sc);
	}
	grpc_status_code code = sc.status;
	if (end->stopped && code == GRPC_STATUS_CANCELLED)
		code = GRPC_STATUS_OK;
	if (bad) {
		code = GRPC_STATUS_INTERNAL;
		snprintf(details, dlen, "%s", "a streamed message does not decode");
	} else if (code != GRPC_STATUS_OK && GRPC_SLICE_LENGTH(sc.details) > 0) {
		snprintf(details, dlen, "%.*s", (int)GRPC_SLICE_LENGTH(sc.details),
			 (const char *)GRPC_SLICE_START_PTR(sc.details));
	}
	stream_close(&sc);
	return code;
}

struct bw_gw_result bw_gw_stream(const struct bw_gw_target *t, const char *method,
				 const ProtobufCMessage *req,
				 const ProtobufCMessageDescriptor *msg_desc, double deadline_s,
				 bool idempotent, bw_gw_on_message cb, void *arg,
				 struct bw_gw_stream_end *end)
{
	struct bw_gw_result r = {BW_GW_OK, "", ""};
	memset(end, 0, sizeof(*end));
	if (in_backoff(t->name)) {
		set_result(&r, BW_GW_NOT_CONNECTED, "", "gateway '%s' is in reconnect backoff",
			   t->name);
		return r;
	}
	struct chan *c = acquire(t, &r);
	if (c == NULL)
		return r;
	size_t len = protobuf_c_message_get_packed_size(req);
	grpc_slice payload = grpc_slice_malloc(len);
	protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(payload));
	double start = bw_mono_s();
	grpc_status_code code = GRPC_STATUS_UNKNOWN;
	char details[160] = "";
	for (int attempt = 1;; attempt++) {
		double left = deadline_s - (bw_mono_s() - start);
		code = left > 0 ? stream_once(c->ch, method, payload, left, msg_desc, cb, arg, end,
					      details, sizeof(details))
				: GRPC_STATUS_DEADLINE_EXCEEDED;
		left = deadline_s - (bw_mono_s() - start);
		if (code == GRPC_STATUS_OK ||
		    !bw_gw_stream_may_retry(code, idempotent, end->delivered, attempt, left))
			break;
		bw_log(BW_LOG_DEBUG, "gwclient", NULL,
		       "%s %s: %s before the first message, retrying", t->name, method,
		       code_name(code));
		retry_pause(attempt, left);
	}
	grpc_slice_unref(payload);
	r.st = classify(code);
	r.code_name = code_name(code);
	snprintf(r.why, sizeof(r.why), "%s%s%s", code_name(code), details[0] ? ": " : "", details);
	note_outcome(t->name, code == GRPC_STATUS_UNAVAILABLE);
	chan_release(c);
	if (code == GRPC_STATUS_UNAVAILABLE)
		bw_gw_forget(t->name);
	if (r.st != BW_GW_OK)
		bw_log(BW_LOG_WARN, "gwclient", NULL, "%s %s: %s", t->name, method, r.why);
	return r;
}

/* One asynchronous Health call of bw_gw_probe_many. */
struct probe_call {
	struct bw_gw_probe *p;
	struct chan *c;
	grpc_call *call;
	grpc_metadata_array init_md, trail_md;
	grpc_byte_buffer *send, *recv;
	grpc_status_code status;
	grpc_slice details;
};

static bool probe_start(struct probe_call *pc, grpc_completion_queue *cq, grpc_slice payload,
			double budget_s)
{
	struct bw_gw_probe *p = pc->p;
	if (in_backoff(p->t.name)) {
		set_result(&p->res, BW_GW_NOT_CONNECTED, "", "gateway '%s' is in reconnect backoff",
			   p->t.name);
		return false;
	}
	pc->c = acquire(&p->t, &p->res);
	if (pc->c == NULL)
		return false;
	gpr_timespec deadline =
	    gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
			 gpr_time_from_millis((int64_t)(budget_s * 1000), GPR_TIMESPAN));
	pc->call = grpc_channel_create_call(
	    pc->c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
	    grpc_slice_from_static_string("/openshell.v1.OpenShell/Health"), NULL, deadline, NULL);
	grpc_metadata_array_init(&pc->init_md);
	grpc_metadata_array_init(&pc->trail_md);
	pc->send = grpc_raw_byte_buffer_create(&payload, 1);
	pc->details = grpc_empty_slice();
	pc->status = GRPC_STATUS_INTERNAL;
	grpc_op ops[6];
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = pc->send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &pc->init_md;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &pc->recv;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &pc->trail_md;
	ops[5].data.recv_status_on_client.status = &pc->status;
	ops[5].data.recv_status_on_client.status_details = &pc->details;
	if (pc->call != NULL && grpc_call_start_batch(pc->call, ops, 6, pc, NULL) == GRPC_CALL_OK)
		return true;
	set_result(&p->res, BW_GW_FAILED, "INTERNAL", "%s", "cannot start the call");
	return true; /* cleaned up by probe_finish without waiting for an event */
}

static void probe_finish(struct probe_call *pc)
{
	struct bw_gw_probe *p = pc->p;
	if (p->res.st == BW_GW_OK) {
		p->res.st = classify(pc->status);
		p->res.code_name = code_name(pc->status);
		snprintf(p->res.why, sizeof(p->res.why), "%s", code_name(pc->status));
	}
	if (pc->status == GRPC_STATUS_OK) {
		grpc_slice msg = read_message(pc->recv);
		Openshell__V1__HealthResponse *h = openshell__v1__health_response__unpack(
		    NULL, GRPC_SLICE_LENGTH(msg), GRPC_SLICE_START_PTR(msg));
		if (h != NULL) {
			p->health = h->status;
			snprintf(p->version, sizeof(p->version), "%s",
				 h->version ? h->version : "");
			openshell__v1__health_response__free_unpacked(h, NULL);
		} else {
			set_result(&p->res, BW_GW_FAILED, "INTERNAL", "%s",
				   "the gateway's answer does not decode");
		}
		grpc_slice_unref(msg);
	}
	grpc_slice_unref(pc->details);
	grpc_byte_buffer_destroy(pc->send);
	if (pc->recv != NULL)
		grpc_byte_buffer_destroy(pc->recv);
	grpc_metadata_array_destroy(&pc->init_md);
	grpc_metadata_array_destroy(&pc->trail_md);
	if (pc->call != NULL)
		grpc_call_unref(pc->call);
	pc->call = NULL;
	note_outcome(p->t.name, pc->status == GRPC_STATUS_UNAVAILABLE);
	chan_release(pc->c);
	if (pc->status == GRPC_STATUS_UNAVAILABLE)
		bw_gw_forget(p->t.name);
}

void bw_gw_probe_many(struct bw_gw_probe *probes, size_t n, int concurrency)
{
	struct probe_call *calls = calloc(n > 0 ? n : 1, sizeof(*calls));
	grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
	Openshell__V1__HealthRequest req = OPENSHELL__V1__HEALTH_REQUEST__INIT;
	uint8_t empty[1];
	size_t len = protobuf_c_message_pack(&req.base, empty);
	grpc_slice payload = grpc_slice_from_copied_buffer((const char *)empty, len);
	size_t next = 0, active = 0;
	double budget = cache.timeout_s;
	if (calls == NULL) {
		for (size_t i = 0; i < n; i++)
			set_result(&probes[i].res, BW_GW_FAILED, "", "%s", "out of memory");
		goto out;
	}
	for (;;) {
		while (next < n && (int)active < concurrency) {
			struct probe_call *pc = &calls[next];
			pc->p = &probes[next++];
			memset(&pc->p->res, 0, sizeof(pc->p->res));
			pc->p->res.code_name = "";
			pc->p->version[0] = '\0';
			if (!probe_start(pc, cq, payload, budget))
				continue;
			if (pc->p->res.st != BW_GW_OK)
				probe_finish(pc); /* the batch never started */
			else
				active++;
		}
		if (active == 0)
			break;
		/* Every call has a deadline, so each event arrives; the margin guards a stall. */
		grpc_event ev = grpc_completion_queue_next(
		    cq,
		    gpr_time_add(
			gpr_now(GPR_CLOCK_MONOTONIC),
			gpr_time_from_millis((int64_t)(budget * 1000) + 5000, GPR_TIMESPAN)),
		    NULL);
		if (ev.type != GRPC_OP_COMPLETE) {
			bw_log(BW_LOG_ERROR, "gwclient", NULL, "probe batch stalled; cancelling");
			for (size_t i = 0; i < next; i++)
				if (calls[i].call != NULL)
					grpc_call_cancel(calls[i].call, NULL);
			continue;
		}
		probe_finish(ev.tag);
		active--;
	}
out:
	grpc_slice_unref(payload);
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
	       GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(cq);
	free(calls);
}
