/* Unit tests for the pure policy code: host pattern validation, JSON <-> protobuf, the
 * structural diff, merge operations and the deterministic YAML form. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/jsonu.h"
#include "services/polcore.h"
#include "services/polyaml.h"
#include "tests/unit/tap.h"

static struct json_object *js(const char *text)
{
	struct json_object *o = NULL;
	struct bw_json_error err;
	if (bw_json_parse(text, strlen(text), 32, &o, &err) != BW_JSON_OK)
		return NULL;
	return o;
}

static void test_hosts(void)
{
	char why[300];
	ok(bw_pol_host_ok("example.com", why, sizeof(why)), "a plain host");
	ok(bw_pol_host_ok("*.example.com", why, sizeof(why)), "a subdomain wildcard");
	ok(bw_pol_host_ok("**.example.com", why, sizeof(why)), "a deep subdomain wildcard");
	ok(bw_pol_host_ok("10.0.0.1", why, sizeof(why)), "an IPv4 literal");
	ok(bw_pol_host_ok("[2001:db8::1]", why, sizeof(why)), "an IPv6 literal");
	ok(!bw_pol_host_ok("*.com", why, sizeof(why)), "a TLD wildcard is refused");
	ok(strstr(why, "'*.com' wildcards at the TLD level") != NULL, "and the message says so: %s",
	   why);
	ok(!bw_pol_host_ok("**.org", why, sizeof(why)), "a deep TLD wildcard is refused");
	ok(!bw_pol_host_ok("*", why, sizeof(why)), "a bare star is refused");
	ok(!bw_pol_host_ok("", why, sizeof(why)), "an empty host is refused");
	ok(!bw_pol_host_ok("a.*.example.com", why, sizeof(why)), "a wildcard in an inner label");
	ok(!bw_pol_host_ok("a..example.com", why, sizeof(why)), "an empty label");
	ok(!bw_pol_host_ok("bad host.com", why, sizeof(why)), "a space");
	ok(!bw_pol_host_ok("x\n.com", why, sizeof(why)), "a control character");
	ok(bw_pol_rule_key_ok("pypi"), "a rule key");
	ok(!bw_pol_rule_key_ok(""), "an empty rule key");
	ok(!bw_pol_rule_key_ok("a\tb"), "a rule key with a control character");
}

static void test_convert(void)
{
	struct bw_arena *a = bw_arena_new(4096);
	char why[300];
	Openshell__Sandbox__V1__SandboxPolicy *p = NULL;
	struct json_object *in =
	    js("{\"version\":1,\"filesystem_policy\":{\"read_only\":[\"/usr\"]},"
	       "\"network_policies\":{\"gh\":{\"name\":\"gh\",\"endpoints\":[{\"host\":\"api."
	       "github.com\","
	       "\"port\":443,\"rules\":[{\"allow\":{\"method\":\"GET\",\"path\":\"/**\"}}]}],"
	       "\"binaries\":[\"/usr/bin/git\"]}}}");
	ok(bw_pol_from_json(in, a, &p, why, sizeof(why)) == BW_OK, "converts (%s)", why);
	struct json_object *back = p != NULL ? bw_pol_to_json(&p->base) : NULL;
	const char *s = back != NULL ? bw_json_str(back, NULL) : "";
	ok(strstr(s, "\"filesystem\":{\"include_workdir\":false,\"read_only\":[\"/"
		     "usr\"],\"read_write\":[]}") != NULL,
	   "filesystem_policy is an alias, the section is shown whole: %s", s);
	ok(strstr(s, "\"binaries\":[{\"path\":\"/usr\\/bin\\/git\"}]") != NULL ||
	       strstr(s, "\"binaries\":[{\"path\":\"/usr/bin/git\"}]") != NULL,
	   "a bare binary path becomes {path}");
	ok(strstr(s, "\"method\":\"GET\",\"path\":\"/**\",\"command\":\"\"") != NULL,
	   "L7 allow fields");
	json_object_put(back);
	json_object_put(in);

	const char *bad[][2] = {
	    {"{\"bogus\":1}", "unknown field 'bogus'"},
	    {"{\"version\":-1}", "'version' is out of range"},
	    {"{\"version\":\"1\"}", "'version' must be an integer"},
	    {"{\"network_policies\":{\"x\":{\"endpoints\":[{\"host\":\"*.com\",\"port\":1}]}}}",
	     "wildcards at the TLD level"},
	    {"{\"network_policies\":[]}", "'network_policies' must be a mapping"},
	    {"{\"network_policies\":{\"x\":{\"endpoints\":[{\"hostx\":\"a.com\"}]}}}",
	     "unknown field 'network_policies.x.endpoints[0].hostx'"},
	    {"{\"filesystem\":{\"read_only\":[1]}}", "'filesystem.read_only[0]' must be a string"},
	    {"{\"network_policies\":{\"\":{}}}", "keys must be"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = js(bad[i][0]);
		why[0] = '\0';
		ok(o != NULL && bw_pol_from_json(o, a, &p, why, sizeof(why)) == BW_EINVAL &&
		       strstr(why, bad[i][1]) != NULL,
		   "refused: %s -> %s", bad[i][0], why);
		json_object_put(o);
	}
	bw_arena_free(a);
}

static void test_diff_and_merge(void)
{
	struct json_object *a = js(
	    "{\"version\":1,\"filesystem\":{\"include_workdir\":true,\"read_only\":[\"/a\",\"/b\"],"
	    "\"read_write\":[]},\"process\":{\"run_as_user\":\"sandbox\",\"run_as_group\":"
	    "\"sandbox\"},"
	    "\"landlock\":{\"compatibility\":\"best_effort\"},\"network_policies\":{"
	    "\"keep\":{\"name\":\"keep\",\"endpoints\":[{\"host\":\"a.com\",\"port\":1},{\"host\":"
	    "\"b.com\",\"port\":2}],\"binaries\":[]},"
	    "\"gone\":{\"name\":\"gone\",\"endpoints\":[{\"host\":\"g.com\",\"port\":1}],"
	    "\"binaries\":[]},"
	    "\"chg\":{\"name\":\"chg\",\"endpoints\":[{\"host\":\"c.com\",\"port\":1}],"
	    "\"binaries\":[]}}}");
	struct json_object *b = js(
	    "{\"version\":1,\"filesystem\":{\"include_workdir\":true,\"read_only\":[\"/b\",\"/a\"],"
	    "\"read_write\":[]},\"process\":{\"run_as_user\":\"sandbox\",\"run_as_group\":"
	    "\"sandbox\"},"
	    "\"landlock\":{\"compatibility\":\"best_effort\"},\"network_policies\":{"
	    "\"keep\":{\"name\":\"keep\",\"endpoints\":[{\"host\":\"b.com\",\"port\":2},{\"host\":"
	    "\"a.com\",\"port\":1}],\"binaries\":[]},"
	    "\"chg\":{\"name\":\"chg\",\"endpoints\":[{\"host\":\"c.com\",\"port\":2}],"
	    "\"binaries\":[]},"
	    "\"new\":{\"name\":\"new\",\"endpoints\":[{\"host\":\"n.com\",\"port\":1}],"
	    "\"binaries\":[]}}}");
	struct json_object *d = bw_pol_diff(a, b);
	is_str(bw_json_str(json_object_object_get(d, "network_policies"), NULL),
	       "{\"added\":[\"new\"],\"removed\":[\"gone\"],\"changed\":[\"chg\"]}",
	       "network rules: a reordered rule is not a change");
	is_str(bw_json_str(json_object_object_get(d, "filesystem"), NULL), "{}",
	       "reordered paths are no change");
	struct json_object *s = bw_pol_diff_summary(d);
	is_int(json_object_get_int64(json_object_object_get(s, "total")), 3, "three changes");
	json_object_put(s);
	const char *section = NULL;
	struct json_object *ops = bw_pol_merge_ops(a, b, &section);
	ok(ops != NULL && json_object_array_length(ops) == 4, "four merge operations");
	if (ops != NULL) {
		const char *want[] = {"remove_rule:gone", "remove_rule:chg", "add_rule:chg",
				      "add_rule:new"};
		for (size_t i = 0; i < 4; i++) {
			struct json_object *o = json_object_array_get_idx(ops, i);
			char got[64];
			snprintf(got, sizeof(got), "%s:%s",
				 json_object_get_string(json_object_object_get(o, "type")),
				 json_object_get_string(json_object_object_get(o, "rule_name")));
			ok(strcmp(got, want[i]) == 0, "merge op %zu: %s", i, got);
		}
	}
	json_object_put(ops);
	json_object_put(d);
	/* Landlock is compared (the reference ignores it) and blocks merge mode. */
	json_object_object_add(json_object_object_get(b, "landlock"), "compatibility",
			       json_object_new_string("hard_requirement"));
	d = bw_pol_diff(a, b);
	ok(!bw_pol_diff_empty(d), "a landlock change is a change");
	json_object_put(d);
	ops = bw_pol_merge_ops(a, b, &section);
	ok(ops == NULL && section != NULL && strcmp(section, "landlock") == 0,
	   "merge mode refuses a landlock change");
	json_object_put(a);
	json_object_put(b);
	d = bw_pol_diff(NULL, NULL);
	ok(bw_pol_diff_empty(d), "null vs null is empty");
	json_object_put(d);
}

static void test_yaml(void)
{
	struct json_object *doc =
	    js("{\"policy\":{\"version\":1,\"network_policies\":{\"z\":{\"name\":\"z\","
	       "\"endpoints\":[{"
	       "\"host\":\"*.example.com\",\"port\":443}],\"binaries\":[]},\"a\":{\"name\":\"007\","
	       "\"endpoints\":[{\"host\":\"true\",\"port\":1}],\"binaries\":[{\"path\":\"\"}]}}},"
	       "\"metadata\":{\"sandbox\":\"s\",\"gateway\":\"g\",\"version\":3,\"policy_hash\":"
	       "\"abc\"}}");
	size_t n1 = 0, n2 = 0;
	char *y1 = bw_polyaml_render(doc, &n1), *y2 = bw_polyaml_render(doc, &n2);
	ok(y1 != NULL && y2 != NULL && n1 == n2 && memcmp(y1, y2, n1) == 0, "byte-identical");
	ok(y1 != NULL && strncmp(y1, BW_POLYAML_HEADER, strlen(BW_POLYAML_HEADER)) == 0,
	   "header line");
	ok(y1 != NULL &&
	       strstr(
		   y1,
		   "metadata:\n  gateway: g\n  policy_hash: abc\n  sandbox: s\n  version: 3\n") !=
		   NULL,
	   "sorted block metadata");
	struct json_object *back = NULL, *pol = NULL, *meta = NULL;
	char why[300];
	ok(y1 != NULL && bw_polyaml_parse(y1, n1, &back, &pol, &meta, why, sizeof(why)) == BW_OK,
	   "parses back (%s)", why);
	ok(back != NULL && bw_pol_json_equal(back, doc), "round trip gives the same value");
	json_object_put(back);
	free(y1);
	free(y2);
	json_object_put(doc);

	const char *bad[][2] = {
	    {"policy: [1", "Malformed YAML: line"},
	    {"- a\n- b\n", "Top-level YAML must be a mapping"},
	    {"metadata: {}\n", "Missing required 'policy' key"},
	    {"policy: 3\n", "'policy' must be a mapping"},
	    {"policy: {}\nmetadata: x\n", "'metadata' must be a mapping"},
	    {"policy: {a: &x 1, b: *x}\n", "Malformed YAML"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		enum bw_err rc = bw_polyaml_parse(bad[i][0], strlen(bad[i][0]), &back, &pol, &meta,
						  why, sizeof(why));
		ok(rc != BW_OK && strstr(why, bad[i][1]) != NULL, "refused: %s", why);
	}
	why[0] = '\0';
	bw_polyaml_parse("policy: [1", 10, &back, &pol, &meta, why, sizeof(why));
	ok(strstr(why, "column") != NULL, "the position has a column: %s", why);
}

int main(void)
{
	plan(52);
	test_hosts();
	test_convert();
	test_diff_and_merge();
	test_yaml();
	return done();
}
