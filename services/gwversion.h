/* gwversion: what a gateway's Health version string means for Breakwater (proto/README.md):
 * the compatibility verdict shown to operators and the wire choices that depend on the version.
 * Pure functions, no state. */
#ifndef BW_GWVERSION_H
#define BW_GWVERSION_H

#include <stdbool.h>

struct bw_gwver {
	bool known; /* parsed and not 0.0.0 */
	bool dev;   /* X.Y.Z-dev.N+gSHA: a build after tag X.Y.(Z-1) */
	long rules; /* the version whose rules apply, as X*1000000 + Y*1000 + Z */
};

/* Parses a Health version; never fails (unparsable gives known = false). */
struct bw_gwver bw_gwver_parse(const char *version);

/* "compatible" (0.0.50-0.0.111), "newer" (above 0.0.111, not checked), "unsupported" (below
 * 0.0.50), "ambiguous" (a -dev build of a version where a wire change landed), "unknown". */
const char *bw_gwver_verdict(const struct bw_gwver *v);

/* Sandbox phase/policy version live in SandboxStatus (v0.0.53+). Unknown: the newest layout. */
bool bw_gwver_status_layout(const struct bw_gwver *v);
/* SandboxSpec field 9 is ResourceRequirements (v0.0.69+) rather than bool gpu. */
bool bw_gwver_resource_requirements(const struct bw_gwver *v);
/* Inference RPC names: Set/GetInferenceRoute (v0.0.88+) rather than Set/GetClusterInference. */
bool bw_gwver_inference_route_names(const struct bw_gwver *v);

#endif
