/* gwversion: see gwversion.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "services/gwversion.h"

#define V(x, y, z) ((long)(x)*1000000L + (long)(y)*1000L + (long)(z))
#define FIRST_CHECKED V(0, 0, 50)
#define LAST_CHECKED V(0, 0, 111)

/* Versions at which a wire change the client cares about landed. */
static const long changes[] = {V(0, 0, 53), V(0, 0, 61), V(0, 0, 69), V(0, 0, 88)};

struct bw_gwver bw_gwver_parse(const char *version)
{
	struct bw_gwver v = {false, false, LAST_CHECKED};
	unsigned x, y, z;
	int used = 0;
	if (version == NULL || sscanf(version, "%u.%u.%u%n", &x, &y, &z, &used) != 3 || x > 999 ||
	    y > 999 || z > 999)
		return v;
	const char *rest = version + used;
	if (*rest != '\0' && strncmp(rest, "-dev", 4) != 0)
		return v;
	if (x == 0 && y == 0 && z == 0)
		return v;
	v.known = true;
	v.dev = *rest != '\0';
	v.rules = V(x, y, z) - (v.dev && z > 0 ? 1 : 0);
	return v;
}

const char *bw_gwver_verdict(const struct bw_gwver *v)
{
	if (!v->known)
		return "unknown";
	long ver = v->rules + (v->dev ? 1 : 0);
	if (v->dev)
		for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
			if (ver == changes[i])
				return "ambiguous";
	if (v->rules < FIRST_CHECKED)
		return "unsupported";
	if (v->rules > LAST_CHECKED)
		return "newer";
	return "compatible";
}

bool bw_gwver_status_layout(const struct bw_gwver *v)
{
	return v->rules >= V(0, 0, 53);
}

bool bw_gwver_resource_requirements(const struct bw_gwver *v)
{
	return v->rules >= V(0, 0, 69);
}

bool bw_gwver_inference_route_names(const struct bw_gwver *v)
{
	return v->rules >= V(0, 0, 88);
}
