/* ctl/gateway: breakwaterctl's gateway commands — exec and watch, streamed to the terminal as
 * the gateway sends them (services/gwstream does the work; this face parses and prints). */
#ifndef BW_CTL_GATEWAY_H
#define BW_CTL_GATEWAY_H

#include "lib/conf.h"

/* "gateway exec|watch ..." from argv[i] ("gateway") on; returns the process exit code. */
int bw_ctl_gateway(const struct bw_conf *conf, int argc, char **argv, int i);

#endif
