/* clock: the monotonic time and the pauses every layer uses — request timing, deadlines,
 * retry backoff, polling loops. Monotonic so that a wall-clock step (NTP, an operator setting
 * the date) never stretches a timeout or fires one early. */
#ifndef BW_CLOCK_H
#define BW_CLOCK_H

#include <stdint.h>

/* Seconds since an arbitrary fixed point, with sub-microsecond resolution. */
double bw_mono_s(void);

/* Whole milliseconds on the same clock (cache ages kept in shared memory as integers). */
int64_t bw_now_ms(void);

/* Sleep s seconds (nothing when s <= 0); a signal may cut it short, which every caller
 * tolerates because it re-checks its own deadline or stop flag. */
void bw_sleep_s(double s);

/* The pause before retry n (1-based): first doubled per retry up to max, then spread by
 * ±jitter (a fraction, 0..1) so callers that failed together do not retry in step. */
double bw_backoff_s(int n, double first, double max, double jitter);

#endif
