/* gwclient: the per-process gRPC client to gateways (grpc core + protobuf-c). Owns the one
 * channel cache of the process: a channel per gateway, created on first use, shared by all
 * threads, keyed by gateway name + endpoint + a SHA-256 fingerprint of its credentials, so new
 * certificates get a new channel while calls on the old one finish (refcount). Also owns the
 * per-gateway reconnect backoff (5 s doubling to 60 s). gRPC status codes stop here: callers get
 * enum bw_gw_status. Network I/O never happens under the cache lock. */
#ifndef BW_GWCLIENT_H
#define BW_GWCLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/conf.h"
#include "lib/err.h"
#include "services/registry.h"

enum bw_gw_status {
	BW_GW_OK = 0,
	BW_GW_NOT_CONNECTED,   /* unreachable, in reconnect backoff, or no usable credentials */
	BW_GW_INVALID,         /* INVALID_ARGUMENT, OUT_OF_RANGE */
	BW_GW_NOT_FOUND,       /* NOT_FOUND */
	BW_GW_CONFLICT,        /* ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION */
	BW_GW_PERMISSION,      /* PERMISSION_DENIED */
	BW_GW_UNAUTHENTICATED, /* UNAUTHENTICATED */
	BW_GW_EXHAUSTED,       /* RESOURCE_EXHAUSTED */
	BW_GW_TIMEOUT,         /* DEADLINE_EXCEEDED */
	BW_GW_UNIMPLEMENTED,   /* UNIMPLEMENTED */
	BW_GW_FAILED           /* anything else */
};

struct bw_gw_result {
	enum bw_gw_status st;
	const char *code_name; /* the gRPC code's name ("NOT_FOUND"), static; "" without one */
	char why[200];         /* for logs and test-connection: what went wrong (no secrets) */
};

/* Where and how to reach one gateway (strings borrowed for the call). */
struct bw_gw_target {
	const char *name;
	const struct bw_gateway_creds *creds;
};

/* Call once per process, in the forked worker (never before fork), before any call. */
enum bw_err bw_gw_process_init(const struct bw_conf *conf);
/* Releases every channel and shuts gRPC down; after all calling threads have ended. */
void bw_gw_process_shutdown(void);

/* Called once per finished unary call (after retries) with the gateway, the full method path
 * and the gRPC status name; for metrics. Set it before request threads start. */
typedef void (*bw_gw_call_hook)(void *ctx, const char *gateway, const char *method,
				const char *code);
void bw_gw_set_call_hook(bw_gw_call_hook fn, void *ctx);

/* Forgets the backoff of a gateway and drops its cached channel (test-connection). */
void bw_gw_reset(const char *name);
/* Drops the cached channel of a gateway (unregistered); calls in flight finish. */
void bw_gw_forget(const char *name);

/* One unary call with the configured deadline. Idempotent reads are retried with jittered
 * exponential backoff on UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED and ABORTED.
 * method is the full path ("/openshell.v1.OpenShell/Health"). On BW_GW_OK *resp is an unpacked
 * message the caller frees with protobuf_c_message_free_unpacked(*resp, NULL). */
struct bw_gw_result bw_gw_unary(const struct bw_gw_target *t, const char *method,
				const ProtobufCMessage *req,
				const ProtobufCMessageDescriptor *resp_desc, bool idempotent,
				ProtobufCMessage **resp);

/* What a stream callback answers: keep reading, or stop (the call is cancelled). */
enum bw_gw_flow { BW_GW_CONTINUE, BW_GW_STOP };

/* Gets each message of a stream as it arrives; msg is freed after the callback returns. */
typedef enum bw_gw_flow (*bw_gw_on_message)(const ProtobufCMessage *msg, void *arg);

/* How a stream ended beyond its status: messages handed to the callback, and whether the
 * callback stopped it (then the result is BW_GW_OK although the gateway saw a cancel). */
struct bw_gw_stream_end {
	unsigned long delivered;
	bool stopped;
};

/* One server-streaming call with a deadline of deadline_s seconds for the whole stream. Each
 * message is received with its own RECV_MESSAGE batch, unpacked with msg_desc and handed to
 * cb, so the stream is never buffered. Messages above the channel's receive cap end the call
 * with RESOURCE_EXHAUSTED. The opening is retried like an idempotent read (when idempotent)
 * but only while no message has been delivered: a stream that delivered anything is never
 * replayed. The final status maps like bw_gw_unary's. */
struct bw_gw_result bw_gw_stream(const struct bw_gw_target *t, const char *method,
				 const ProtobufCMessage *req,
				 const ProtobufCMessageDescriptor *msg_desc, double deadline_s,
				 bool idempotent, bw_gw_on_message cb, void *arg,
				 struct bw_gw_stream_end *end);

/* Pure: whether a failed stream opening may be tried again. code is a grpc_status_code. */
bool bw_gw_stream_may_retry(int code, bool idempotent, unsigned long delivered, int attempt,
			    double left_s);

/* Pure: the call deadline of an exec whose command has timeout_s (0 = none): the command's
 * own timeout (600 s when none) + 10 s, at least 30 s. */
double bw_gw_exec_deadline_s(unsigned timeout_s);

/* The largest message a channel accepts (GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH), bytes. */
#define BW_GW_MAX_MESSAGE_BYTES (16 * 1024 * 1024)

/* One Health probe of a batch: target in, outcome out. */
struct bw_gw_probe {
	struct bw_gw_target t;
	struct bw_gw_result res;
	int health;       /* openshell.v1.ServiceStatus when res.st == BW_GW_OK */
	char version[64]; /* HealthResponse.version (truncated), "" without one */
};

/* Probes every target with Health at the same time, at most concurrency calls in flight, as
 * asynchronous calls on one completion queue; each call has the configured deadline (no
 * retries: the next round is the retry). Gateways in reconnect backoff are not contacted. */
void bw_gw_probe_many(struct bw_gw_probe *probes, size_t n, int concurrency);

#endif
