/* clock: monotonic time, sleeps and retry backoff (see clock.h). */
#include "config.h"

#include <time.h>

#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/err.h"

double bw_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t bw_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bw_sleep_s(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

double bw_backoff_s(int n, double first, double max, double jitter)
{
	double d = first;
	for (int i = 1; i < n && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	unsigned short u = 0;
	if (bw_random(&u, sizeof(u)) != BW_OK)
		u = 32768; /* no entropy: no spread, still a pause */
	return d * (1.0 + jitter * (2.0 * (double)u / 65535.0 - 1.0));
}
