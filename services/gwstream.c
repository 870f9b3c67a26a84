/* gwstream: see gwstream.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "openshell.pb-c.h"
#include "services/gwcall.h"
#include "services/gwstream.h"

#define RPC(m) "/openshell.v1.OpenShell/" m

const char *bw_gwstream_phase_name(int sandbox_phase, int status_phase)
{
	static const char *const names[] = {"unspecified", "provisioning", "ready",
					    "error",       "deleting",     "unknown",
					    "stopping",    "stopped",      "starting"};
	int p = status_phase != 0 ? status_phase : sandbox_phase;
	if (p < 0 || (size_t)p >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[p];
}

struct exec_state {
	const struct bw_exec_sink *sink;
	struct bw_exec_outcome *out;
};

static enum bw_gw_flow on_exec(const ProtobufCMessage *msg, void *arg)
{
	struct exec_state *st = arg;
	const Openshell__V1__ExecSandboxEvent *ev = (const Openshell__V1__ExecSandboxEvent *)msg;
	switch (ev->payload_case) {
	case OPENSHELL__V1__EXEC_SANDBOX_EVENT__PAYLOAD_STDOUT:
		st->sink->output(st->sink->arg, 1, ev->stdout->data.data, ev->stdout->data.len);
		return BW_GW_CONTINUE;
	case OPENSHELL__V1__EXEC_SANDBOX_EVENT__PAYLOAD_STDERR:
		st->sink->output(st->sink->arg, 2, ev->stderr->data.data, ev->stderr->data.len);
		return BW_GW_CONTINUE;
	case OPENSHELL__V1__EXEC_SANDBOX_EVENT__PAYLOAD_EXIT:
		st->out->exited = true;
		st->out->exit_code = ev->exit->exit_code;
		return BW_GW_CONTINUE; /* the gateway closes the stream after the exit event */
	default:
		return BW_GW_CONTINUE; /* a newer payload kind: skipped */
	}
}

enum bw_err bw_gwstream_exec(struct bw_svc *svc, const char *gw, const char *sandbox,
			     const char *const *argv, size_t argc, unsigned timeout_s,
			     const struct bw_exec_sink *sink, struct bw_exec_outcome *out,
			     struct bw_gw_result *res)
{
	struct bw_exec_req er = {argv, argc, timeout_s, NULL, NULL, 0, false};
	return bw_gwstream_exec_req(svc, gw, sandbox, &er, sink, out, res);
}

enum bw_err bw_gwstream_exec_req(struct bw_svc *svc, const char *gw, const char *sandbox,
				 const struct bw_exec_req *er, const struct bw_exec_sink *sink,
				 struct bw_exec_outcome *out, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	const char *id = NULL;
	memset(out, 0, sizeof(*out));
	enum bw_err rc = bw_gwcall_sandbox_id(svc, gw, sandbox, &creds, &t, &id, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	Openshell__V1__ExecSandboxRequest req = OPENSHELL__V1__EXEC_SANDBOX_REQUEST__INIT;
	req.sandbox_id = (char *)id;
	req.command = (char **)er->argv;
	req.n_command = er->argc;
	req.timeout_seconds = er->timeout_s;
	req.workdir = (char *)(er->workdir != NULL ? er->workdir : "");
	req.tty = er->tty;
	Openshell__V1__ExecSandboxRequest__EnvironmentEntry *ents = NULL, **envp = NULL;
	if (er->env_n > 0) {
		ents = bw_arena_zalloc(svc->arena, er->env_n * sizeof(*ents));
		envp = bw_arena_zalloc(svc->arena, er->env_n * sizeof(*envp));
		if (ents == NULL || envp == NULL)
			return BW_ENOMEM;
		for (size_t i = 0; i < er->env_n; i++) {
			openshell__v1__exec_sandbox_request__environment_entry__init(&ents[i]);
			ents[i].key = (char *)er->env[2 * i];
			ents[i].value = (char *)er->env[2 * i + 1];
			envp[i] = &ents[i];
		}
		req.environment = envp;
		req.n_environment = er->env_n;
	}
	struct exec_state st = {sink, out};
	struct bw_gw_stream_end end;
	*res = bw_gw_stream(&t, RPC("ExecSandbox"), &req.base,
			    &openshell__v1__exec_sandbox_event__descriptor,
			    /* Never retried: a command the gateway may already have started
			     * must not run twice. */
			    bw_gw_exec_deadline_s(er->timeout_s), false, on_exec, &st, &end);
	return BW_OK;
}

struct watch_state {
	const struct bw_watch_sink *sink;
	unsigned max_events;
	unsigned long seen;
};

static struct bw_watch_event watch_event_of(const Openshell__V1__SandboxStreamEvent *ev)
{
	struct bw_watch_event w = {"unknown", ""};
	switch (ev->payload_case) {
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_SANDBOX:
		w.kind = "sandbox";
		w.text = bw_gwstream_phase_name(
		    ev->sandbox->phase, ev->sandbox->status ? ev->sandbox->status->phase : 0);
		break;
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_LOG:
		w.kind = "log";
		w.text = ev->log->message ? ev->log->message : "";
		break;
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_EVENT:
		w.kind = "event";
		w.text = ev->event->message ? ev->event->message : "";
		break;
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_WARNING:
		w.kind = "warning";
		w.text = ev->warning->message ? ev->warning->message : "";
		break;
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_DRAFT_POLICY_UPDATE:
		w.kind = "draft_policy_update";
		break;
	default:
		break;
	}
	return w;
}

static enum bw_gw_flow on_watch(const ProtobufCMessage *msg, void *arg)
{
	struct watch_state *st = arg;
	struct bw_watch_event w = watch_event_of((const Openshell__V1__SandboxStreamEvent *)msg);
	st->seen++;
	if (st->sink->event(st->sink->arg, &w) == BW_GW_STOP)
		return BW_GW_STOP;
	return st->max_events != 0 && st->seen >= st->max_events ? BW_GW_STOP : BW_GW_CONTINUE;
}

enum bw_err bw_gwstream_watch(struct bw_svc *svc, const char *gw, const char *sandbox,
			      unsigned max_events, double deadline_s,
			      const struct bw_watch_sink *sink, struct bw_gw_stream_end *end,
			      struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	const char *id = NULL;
	memset(end, 0, sizeof(*end));
	enum bw_err rc = bw_gwcall_sandbox_id(svc, gw, sandbox, &creds, &t, &id, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	Openshell__V1__WatchSandboxRequest req = OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	req.id = (char *)id;
	req.follow_status = true;
	req.follow_logs = true;
	req.follow_events = true;
	struct watch_state st = {sink, max_events, 0};
	*res = bw_gw_stream(&t, RPC("WatchSandbox"), &req.base,
			    &openshell__v1__sandbox_stream_event__descriptor, deadline_s, true,
			    on_watch, &st, end);
	return BW_OK;
}
