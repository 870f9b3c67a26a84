/* polcore: the pure part of the policy work — SandboxPolicy protobuf <-> JSON (driven by the
 * protobuf-c descriptors, strict about unknown keys and types), host pattern validation, the
 * structural diff of two policies, the merge operations that turn one policy's network rules
 * into another's, and canonical (sorted-key) JSON. No I/O: unit-tested in tests/unit. */
#ifndef BW_POLCORE_H
#define BW_POLCORE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "lib/arena.h"
#include "lib/err.h"
#include "sandbox.pb-c.h"

/* Limits on what a client may send as a policy (the gateway's own caps are similar). */
#define BW_POL_MAX_ITEMS 4096  /* entries of any one list or map */
#define BW_POL_MAX_STRING 4096 /* bytes of any one string */
#define BW_POL_MAX_KEY 253     /* bytes of a network rule key */
#define BW_POL_MAX_DEPTH 12    /* message nesting */

/* True when host is an acceptable endpoint host or glob. Otherwise false with a sentence in
 * why naming the problem (e.g. "host pattern '*.com' wildcards at the TLD level; ..."). */
bool bw_pol_host_ok(const char *host, char *why, size_t whylen);

/* True when key is a usable network rule key: 1..253 bytes, no control characters. */
bool bw_pol_rule_key_ok(const char *key);

/* Converts a JSON policy object ({version, filesystem|filesystem_policy, landlock, process,
 * network_policies}) into a SandboxPolicy whose memory (strings, arrays, sub-messages) lives in
 * a. A binary may be written as a bare path string. Unknown keys, wrong types, over-long
 * strings or lists and bad host patterns give BW_EINVAL with why naming the field. */
enum bw_err bw_pol_from_json(struct json_object *obj, struct bw_arena *a,
			     Openshell__Sandbox__V1__SandboxPolicy **out, char *why, size_t whylen);
/* The same for one network rule (network_policies[key]; key names it in messages). */
enum bw_err bw_pol_rule_from_json(struct json_object *obj, const char *key, struct bw_arena *a,
				  Openshell__Sandbox__V1__NetworkPolicyRule **out, char *why,
				  size_t whylen);

/* Renders any policy message (SandboxPolicy, a rule, ...) as JSON in the reference's shape:
 * absent messages and empty optional scalars/lists are left out, the fields the reference always
 * shows are always there. Returns a new object (json_object_put), NULL when out of memory. */
struct json_object *bw_pol_to_json(const ProtobufCMessage *msg);

/* A deep copy of v with the members of every object in sorted key order, so two equal values
 * serialise to the same bytes. New reference; NULL when out of memory (or v NULL). */
struct json_object *bw_pol_sorted(struct json_object *v);
/* True when a and b are the same JSON value (object key order ignored; NULL equals NULL). */
bool bw_pol_json_equal(struct json_object *a, struct json_object *b);

/* The structural diff of two policy objects (NULL = {}):
 *   {filesystem: {read_only_added?, read_only_removed?, read_write_added?, read_write_removed?,
 *                 include_workdir_changed?: [old, new]},
 *    process: {run_as_user_changed?, run_as_group_changed?},
 *    landlock: {compatibility_changed?},
 *    network_policies: {added, removed, changed}}
 * Rules are compared after the normalisation merge mode uses (endpoints sorted by host and
 * port, binaries by path), so diff and merge agree on what changed. New object or NULL. */
struct json_object *bw_pol_diff(struct json_object *old_pol, struct json_object *new_pol);
/* {filesystem, process, landlock, network_policies, total} change counts of a diff. */
struct json_object *bw_pol_diff_summary(struct json_object *diff);
/* True when a diff lists no change. */
bool bw_pol_diff_empty(struct json_object *diff);

/* The merge operations that take cur's network rules to target's: pure removes, then a
 * remove+add pair per changed rule, then pure adds, each group sorted by rule name; each op is
 * {type: "remove_rule"|"add_rule", rule_name, rule?}. When anything outside network_policies
 * differs (filesystem, process, landlock, or two different non-zero versions) it returns NULL
 * with *section naming the first such section ("filesystem", "process", "landlock",
 * "version"); NULL with *section NULL means out of memory. New array otherwise. */
struct json_object *bw_pol_merge_ops(struct json_object *cur, struct json_object *target,
				     const char **section);

#endif
