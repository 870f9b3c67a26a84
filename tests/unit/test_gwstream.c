/* Unit tests for the pure parts of streaming: the retry rule of a stream opening, the exec
 * call deadline and the phase read from both wire layouts. */
#include "config.h"

#include <string.h>

#include <grpc/status.h>

#include "services/gwclient.h"
#include "services/gwstream.h"
#include "tests/unit/tap.h"

static void test_retry_rule(void)
{
	ok(bw_gw_stream_may_retry(GRPC_STATUS_UNAVAILABLE, true, 0, 1, 10.0),
	   "UNAVAILABLE before the first message is retried");
	ok(bw_gw_stream_may_retry(GRPC_STATUS_DEADLINE_EXCEEDED, true, 0, 1, 10.0),
	   "DEADLINE_EXCEEDED with budget left is retried");
	ok(bw_gw_stream_may_retry(GRPC_STATUS_RESOURCE_EXHAUSTED, true, 0, 2, 1.0),
	   "RESOURCE_EXHAUSTED is retried");
	ok(bw_gw_stream_may_retry(GRPC_STATUS_ABORTED, true, 0, 3, 1.0), "ABORTED is retried");
	ok(!bw_gw_stream_may_retry(GRPC_STATUS_UNAVAILABLE, true, 1, 1, 10.0),
	   "a stream that delivered a message is never retried");
	ok(!bw_gw_stream_may_retry(GRPC_STATUS_UNAVAILABLE, false, 0, 1, 10.0),
	   "a non-idempotent opening is not retried");
	ok(!bw_gw_stream_may_retry(GRPC_STATUS_NOT_FOUND, true, 0, 1, 10.0), "NOT_FOUND is final");
	ok(!bw_gw_stream_may_retry(GRPC_STATUS_INVALID_ARGUMENT, true, 0, 1, 10.0),
	   "INVALID_ARGUMENT is final");
	ok(!bw_gw_stream_may_retry(GRPC_STATUS_UNAVAILABLE, true, 0, 4, 10.0),
	   "at most four attempts");
	ok(!bw_gw_stream_may_retry(GRPC_STATUS_UNAVAILABLE, true, 0, 1, 0.0),
	   "no retry without budget left");
}

static void test_exec_deadline(void)
{
	ok(bw_gw_exec_deadline_s(0) == 610.0, "no timeout: 600 + 10 s");
	ok(bw_gw_exec_deadline_s(1) == 30.0, "short timeouts get at least 30 s");
	ok(bw_gw_exec_deadline_s(20) == 30.0, "20 + 10 = 30 s");
	ok(bw_gw_exec_deadline_s(21) == 31.0, "21 + 10 = 31 s");
	ok(bw_gw_exec_deadline_s(3600) == 3610.0, "the command's own timeout + 10 s");
}

static void test_phase(void)
{
	ok(strcmp(bw_gwstream_phase_name(2, 0), "ready") == 0, "v0.0.50 layout: Sandbox.phase");
	ok(strcmp(bw_gwstream_phase_name(0, 2), "ready") == 0, "v0.0.53 layout: status.phase");
	ok(strcmp(bw_gwstream_phase_name(1, 3), "error") == 0, "status.phase wins when set");
	ok(strcmp(bw_gwstream_phase_name(0, 0), "unspecified") == 0, "neither set");
	ok(strcmp(bw_gwstream_phase_name(0, 8), "starting") == 0, "v0.0.105 phases");
	ok(strcmp(bw_gwstream_phase_name(0, 42), "unknown") == 0, "unknown numbers");
	ok(strcmp(bw_gwstream_phase_name(-1, 0), "unknown") == 0, "negative numbers");
}

int main(void)
{
	plan(22);
	test_retry_rule();
	test_exec_deadline();
	test_phase();
	return done();
}
