/* polyaml: the GitOps YAML form of a policy. Rendering is deterministic (libyaml emitter, block
 * style, keys sorted at every depth, no timestamps), so the same policy always gives the same
 * bytes; parsing goes through yamlj's bounded reader and checks the document's shape. */
#ifndef BW_POLYAML_H
#define BW_POLYAML_H

#include <stddef.h>

#include <json-c/json.h>

#include "lib/err.h"

/* First line of every export. */
#define BW_POLYAML_HEADER "# managed-by: shoreguard-gitops\n"

/* Renders doc (any JSON value; objects are emitted with sorted keys) after the header line.
 * Returns a malloc'd NUL-terminated text the caller frees, *len its length; NULL when out of
 * memory. Strings that would read back as another type are single-quoted. */
char *bw_polyaml_render(struct json_object *doc, size_t *len);

/* Parses an apply document: a mapping with a mapping-valued 'policy' and optional mapping
 * 'metadata'. On BW_OK *policy and *metadata (may be NULL) are borrowed from *doc, which the
 * caller releases with json_object_put. BW_EINVAL / BW_ETOOBIG with why set to the reference's
 * messages ("Malformed YAML: line L, column C: ...", "Top-level YAML must be a mapping",
 * "Missing required 'policy' key", "'policy' must be a mapping", "'metadata' must be a
 * mapping"). */
enum bw_err bw_polyaml_parse(const char *text, size_t len, struct json_object **doc,
			     struct json_object **policy, struct json_object **metadata, char *why,
			     size_t whylen);

#endif
