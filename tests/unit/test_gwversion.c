/* Unit tests for services/gwversion: version parsing, verdicts and the wire choices. */
#include "config.h"

#include <string.h>

#include "services/gwversion.h"
#include "tests/unit/tap.h"

struct vcase {
	const char *version, *verdict;
	int status_layout, resource_requirements, route_names;
};

static const struct vcase cases[] = {
    {"0.0.50", "compatible", 0, 0, 0},
    {"0.0.52", "compatible", 0, 0, 0},
    {"0.0.53", "compatible", 1, 0, 0},
    {"0.0.69", "compatible", 1, 1, 0},
    {"0.0.88", "compatible", 1, 1, 1},
    {"0.0.111", "compatible", 1, 1, 1},
    {"0.0.112", "newer", 1, 1, 1},
    {"1.2.3", "newer", 1, 1, 1},
    {"0.0.49", "unsupported", 0, 0, 0},
    {"0.0.35", "unsupported", 0, 0, 0},
    /* A -dev build of Z follows tag Z-1; at a version where a change landed it is ambiguous. */
    {"0.0.53-dev.3+gabc123", "ambiguous", 0, 0, 0},
    {"0.0.69-dev.1+g1", "ambiguous", 1, 0, 0},
    {"0.0.88-dev.7+gfff", "ambiguous", 1, 1, 0},
    {"0.0.60-dev.1+g1", "compatible", 1, 0, 0},
    /* Unknown: the newest checked layout. */
    {"0.0.0", "unknown", 1, 1, 1},
    {"", "unknown", 1, 1, 1},
    {"banana", "unknown", 1, 1, 1},
    {"0.0.50rc1", "unknown", 1, 1, 1},
    {"1.2", "unknown", 1, 1, 1},
    {NULL, "unknown", 1, 1, 1},
};

int main(void)
{
	size_t n = sizeof(cases) / sizeof(cases[0]);
	plan((int)(n * 4));
	for (size_t i = 0; i < n; i++) {
		const struct vcase *c = &cases[i];
		const char *label = c->version ? c->version : "(null)";
		struct bw_gwver v = bw_gwver_parse(c->version);
		ok(strcmp(bw_gwver_verdict(&v), c->verdict) == 0, "%s: verdict %s", label,
		   c->verdict);
		ok(bw_gwver_status_layout(&v) == (c->status_layout != 0), "%s: status layout",
		   label);
		ok(bw_gwver_resource_requirements(&v) == (c->resource_requirements != 0),
		   "%s: resource requirements", label);
		ok(bw_gwver_inference_route_names(&v) == (c->route_names != 0),
		   "%s: inference route names", label);
	}
	return done();
}
