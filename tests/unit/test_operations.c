/* Unit tests for the pure parts of operations: the shell-word splitter of exec commands, the
 * active-state rule, operation ids, the result size cap and the preset JSON -> protobuf builder. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sandbox.pb-c.h"
#include "lib/utf8.h"
#include "services/operations.h"
#include "services/pbjson.h"
#include "services/shellsplit.h"
#include "tests/unit/tap.h"

static struct bw_arena *A;

/* Splits s and joins the words with '|' (or returns the error text). */
static const char *split(const char *s)
{
	char **argv = NULL;
	size_t argc = 0;
	const char *err = bw_shell_split(s, A, &argv, &argc);
	if (err != NULL)
		return err;
	char *out = bw_arena_strdup(A, "");
	for (size_t i = 0; i < argc; i++)
		out = bw_arena_printf(A, "%s%s[%s]", out, i ? "|" : "", argv[i]);
	return out;
}

static void test_split(void)
{
	is_str(split("echo hello world"), "[echo]|[hello]|[world]", "blanks separate words");
	is_str(split("  a \t b\n"), "[a]|[b]", "leading, trailing and mixed blanks");
	is_str(split(""), "", "empty string: no words");
	is_str(split("sh -c 'echo $HOME; exit 3'"), "[sh]|[-c]|[echo $HOME; exit 3]",
	       "single quotes keep everything");
	is_str(split("echo \"a \\\"b\\\" \\$x \\n\""), "[echo]|[a \"b\" $x \\n]",
	       "double quotes: backslash escapes only \\ \" $ `");
	is_str(split("a\\ b c"), "[a b]|[c]", "backslash outside quotes escapes a blank");
	is_str(split("x'y'\"z\""), "[xyz]", "adjacent quoted parts make one word");
	is_str(split("''"), "[]", "an empty quoted word is kept");
	is_str(split("echo 'unterminated"), "No closing quotation", "unbalanced single quote");
	is_str(split("echo \"unterminated"), "No closing quotation", "unbalanced double quote");
	is_str(split("trailing\\"), "No escaped character", "a trailing backslash");
	is_str(split("a|b;c&&d"), "[a|b;c&&d]", "no operators: shell metacharacters stay literal");
}

static void test_states(void)
{
	is_int(bw_utf8_prefix("h\xc3\xa9llo", 2), 3,
	       "a prefix of 2 characters keeps the 2-byte one");
	is_int(bw_utf8_prefix("\xf0\x9f\x98\x80x", 1), 4, "a 4-byte character is never split");
	is_int(bw_utf8_prefix("abc", 10), 3, "a short string is kept whole");
	ok(bw_op_state_active("pending"), "pending is active");
	ok(bw_op_state_active("running"), "running is active");
	ok(bw_op_state_active("cancelling"), "cancelling is active");
	ok(!bw_op_state_active("succeeded"), "succeeded is terminal");
	ok(!bw_op_state_active("failed"), "failed is terminal");
	ok(!bw_op_state_active(NULL), "NULL is not active");
	char a[BW_OP_ID_LEN + 1], b[BW_OP_ID_LEN + 1];
	ok(bw_op_new_id(a) == BW_OK && bw_op_new_id(b) == BW_OK, "ids are made");
	is_int(strlen(a), 36, "an id has 36 characters");
	ok(a[14] == '4' && strchr("89ab", a[19]) != NULL, "version 4, RFC 4122 variant");
	ok(strcmp(a, b) != 0, "two ids differ");
}

static struct json_object *big_result(size_t out_len, size_t err_len)
{
	struct json_object *o = json_object_new_object();
	char *s = malloc(out_len + err_len + 2);
	memset(s, 'x', out_len + err_len + 1);
	s[out_len] = '\0';
	json_object_object_add(o, "exit_code", json_object_new_int(0));
	json_object_object_add(o, "stdout", json_object_new_string(s));
	s[out_len] = 'y';
	s[out_len + err_len] = '\0';
	json_object_object_add(o, "stderr", json_object_new_string(s + out_len));
	free(s);
	return o;
}

static void test_fit(void)
{
	struct json_object *small = big_result(10, 10);
	const char *t = bw_op_fit_result(small, A);
	ok(t != NULL && strstr(t, "truncated") == NULL, "a small result is stored as is");
	json_object_put(small);

	struct json_object *o = big_result(70000, 100);
	t = bw_op_fit_result(o, A);
	ok(t != NULL && strlen(t) <= BW_OP_RESULT_MAX, "a large result fits after cutting");
	ok(strstr(t, "\"truncated\":true") != NULL, "and says it was truncated");
	struct json_object *back = json_tokener_parse(t);
	struct json_object *so = NULL, *se = NULL;
	json_object_object_get_ex(back, "stdout", &so);
	json_object_object_get_ex(back, "stderr", &se);
	is_int(json_object_get_string_len(so), 8000, "stdout cut to 8000 characters");
	is_int(json_object_get_string_len(se), 100, "stderr untouched once it fits");
	json_object_put(back);
	json_object_put(o);

	struct json_object *huge = json_object_new_object();
	char *s = malloc(70001);
	memset(s, 'z', 70000);
	s[70000] = '\0';
	json_object_object_add(huge, "blob", json_object_new_string(s));
	free(s);
	is_str(bw_op_fit_result(huge, A),
	       "{\"truncated\":true,\"error\":\"Result too large to store\"}",
	       "an uncuttable result is replaced");
	json_object_put(huge);
	is_str(bw_op_fit_result(NULL, A), "{}", "no result is {}");
}

static void test_pbjson(void)
{
	const char *err = "";
	struct json_object *rule = json_tokener_parse(
	    "{\"name\": \"pypi\", \"endpoints\": [{\"host\": \"pypi.org\", \"port\": 443,"
	    " \"protocol\": \"rest\", \"rules\": [{\"allow\": {\"method\": \"GET\", \"path\": "
	    "\"/**\"}}]}], \"binaries\": [{\"path\": \"/usr/bin/pip\"}]}");
	ProtobufCMessage *m =
	    bw_pbjson_to(&openshell__sandbox__v1__network_policy_rule__descriptor, rule, A, &err);
	ok(m != NULL, "a preset rule converts (%s)", err);
	const Openshell__Sandbox__V1__NetworkPolicyRule *r =
	    (const Openshell__Sandbox__V1__NetworkPolicyRule *)m;
	ok(r != NULL && r->n_endpoints == 1 && strcmp(r->endpoints[0]->host, "pypi.org") == 0 &&
	       r->endpoints[0]->port == 443,
	   "endpoint host and port");
	ok(r != NULL && r->endpoints[0]->n_rules == 1 &&
	       strcmp(r->endpoints[0]->rules[0]->allow->path, "/**") == 0,
	   "nested L7 rule");
	ok(r != NULL && r->n_binaries == 1 && strcmp(r->binaries[0]->path, "/usr/bin/pip") == 0,
	   "binary objects");
	json_object_put(rule);

	struct json_object *bad = json_tokener_parse("{\"binaries\": [\"/usr/bin/node\"]}");
	m = bw_pbjson_to(&openshell__sandbox__v1__network_policy_rule__descriptor, bad, A, &err);
	ok(m == NULL && strstr(err, "binaries") != NULL,
	   "string binaries (the openclaw shape) are an error naming the field: %s", err);
	json_object_put(bad);
	bad = json_tokener_parse("{\"hostt\": \"x\"}");
	m = bw_pbjson_to(&openshell__sandbox__v1__network_endpoint__descriptor, bad, A, &err);
	ok(m == NULL && strstr(err, "hostt: unknown field") != NULL, "unknown keys are refused");
	json_object_put(bad);
	bad = json_tokener_parse("{\"port\": -1}");
	m = bw_pbjson_to(&openshell__sandbox__v1__network_endpoint__descriptor, bad, A, &err);
	ok(m == NULL, "a negative port is refused");
	json_object_put(bad);
}

int main(void)
{
	A = bw_arena_new(4096);
	plan(39);
	test_split();
	test_states();
	test_fit();
	test_pbjson();
	bw_arena_free(A);
	return tap_failed != 0;
}
