/* Unit tests for lib/clock: monotonic readings, sleep length, backoff growth, cap and spread. */
#include "config.h"

#include "lib/clock.h"
#include "tests/unit/tap.h"

static void test_monotonic(void)
{
	double a = bw_mono_s();
	int64_t ma = bw_now_ms();
	bw_sleep_s(0.05);
	double b = bw_mono_s();
	int64_t mb = bw_now_ms();
	ok(b - a >= 0.049, "a 50 ms sleep advances the clock by at least 49 ms (%.4f s)", b - a);
	ok(mb - ma >= 49, "the millisecond clock agrees (%lld ms)", (long long)(mb - ma));
	double c = bw_mono_s();
	bw_sleep_s(0);
	bw_sleep_s(-1);
	ok(bw_mono_s() - c < 1.0, "a zero or negative sleep does not sleep (nor hang)");
}

static void test_backoff(void)
{
	int grows = 1, capped = 1, spread = 0;
	for (int n = 1; n <= 4; n++) {
		double want = 0.1 * (double)(1 << (n - 1));
		double d = bw_backoff_s(n, 0.1, 10, 0);
		if (d < want - 1e-9 || d > want + 1e-9)
			grows = 0;
	}
	ok(grows, "without jitter retry n waits first * 2^(n-1)");
	for (int n = 1; n <= 40; n++) {
		double d = bw_backoff_s(n, 0.1, 1.0, 0.5);
		if (d > 1.5 + 1e-9 || d < 0.05 - 1e-9)
			capped = 0;
	}
	ok(capped,
	   "with ±50%% jitter every pause stays within [first/2, 1.5 * max], even at n = 40");
	double first = bw_backoff_s(30, 0.1, 1.0, 0.5);
	for (int i = 0; i < 20 && !spread; i++)
		spread = bw_backoff_s(30, 0.1, 1.0, 0.5) != first;
	ok(spread, "jitter spreads the pauses of callers that fail together");
	double lo = 2, hi = 0;
	for (int i = 0; i < 200; i++) {
		double d = bw_backoff_s(3, 0.02, 0.32, 0.5);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	ok(lo >= 0.04 && hi <= 0.12 && hi - lo > 0.02,
	   "retry 3 of 20 ms doubling spreads over 40..120 ms (seen %.3f..%.3f)", lo, hi);
}

int main(void)
{
	plan(7);
	test_monotonic();
	test_backoff();
	return done();
}
