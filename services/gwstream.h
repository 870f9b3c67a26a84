/* gwstream: the server-streaming gateway operations — exec output and sandbox watch — read one
 * message at a time through bw_gw_stream and handed to the face's sink as they arrive. Owns the
 * sandbox name → id lookup these RPCs need and the reading of the phase in both wire layouts.
 * Local errors come back as enum bw_err; when that is BW_OK, *res says how the gateway call
 * went. Faces (CLI today, REST routes later) only supply sinks. */
#ifndef BW_GWSTREAM_H
#define BW_GWSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/gwclient.h"
#include "services/svc.h"

struct bw_exec_sink {
	/* One chunk of output as it arrives; fd is 1 (stdout) or 2 (stderr). */
	void (*output)(void *arg, int fd, const uint8_t *data, size_t len);
	void *arg;
};

struct bw_exec_outcome {
	bool exited;   /* the gateway sent the exit event */
	int exit_code; /* when exited */
};

/* Runs argv (argc entries) in sandbox (a name) on gateway gw with the command timeout
 * timeout_s (0 = none); the call deadline is bw_gw_exec_deadline_s(timeout_s). */
enum bw_err bw_gwstream_exec(struct bw_svc *svc, const char *gw, const char *sandbox,
			     const char *const *argv, size_t argc, unsigned timeout_s,
			     const struct bw_exec_sink *sink, struct bw_exec_outcome *out,
			     struct bw_gw_result *res);

/* An exec with every option of ExecSandboxRequest the REST route offers (borrowed). */
struct bw_exec_req {
	const char *const *argv;
	size_t argc;
	unsigned timeout_s;     /* 0 = none */
	const char *workdir;    /* NULL or "" = the sandbox default */
	const char *const *env; /* env_n KEY, VALUE pairs, flattened */
	size_t env_n;
	bool tty;
};

/* Like bw_gwstream_exec with workdir, environment and tty. */
enum bw_err bw_gwstream_exec_req(struct bw_svc *svc, const char *gw, const char *sandbox,
				 const struct bw_exec_req *er, const struct bw_exec_sink *sink,
				 struct bw_exec_outcome *out, struct bw_gw_result *res);

/* One event of a watch, borrowed for the callback. */
struct bw_watch_event {
	const char *kind; /* "sandbox", "log", "event", "warning", "draft_policy_update" */
	const char *text; /* sandbox: the phase name; otherwise the message ("" without one) */
};

struct bw_watch_sink {
	enum bw_gw_flow (*event)(void *arg, const struct bw_watch_event *ev);
	void *arg;
};

/* Watches sandbox (status, logs, platform events) until the gateway ends the stream, the sink
 * answers BW_GW_STOP, max_events (0 = no limit) events arrived, or deadline_s passed. */
enum bw_err bw_gwstream_watch(struct bw_svc *svc, const char *gw, const char *sandbox,
			      unsigned max_events, double deadline_s,
			      const struct bw_watch_sink *sink, struct bw_gw_stream_end *end,
			      struct bw_gw_result *res);

/* Pure: the lower-case name of a sandbox phase given Sandbox.phase (up to v0.0.52) and
 * SandboxStatus.phase (from v0.0.53): the non-zero one wins; unknown numbers are "unknown". */
const char *bw_gwstream_phase_name(int sandbox_phase, int status_phase);

#endif
