/* Unit tests for pbjson: a network rule survives JSON -> protobuf -> wire -> protobuf -> JSON
 * (maps included), defaults are omitted below the top level, and hostile JSON is refused with a
 * message naming the field. */
#include "config.h"

#include <string.h>

#include "lib/arena.h"
#include "openshell.pb-c.h"
#include "sandbox.pb-c.h"
#include "services/pbjson.h"
#include "tests/unit/tap.h"

#define RULE_DESC (&openshell__sandbox__v1__network_policy_rule__descriptor)

static const char rule_text[] =
    "{\"name\":\"r\",\"endpoints\":[{\"host\":\"api.example.com\",\"port\":443,"
    "\"protocol\":\"rest\",\"rules\":[{\"allow\":{\"method\":\"GET\",\"path\":\"/v1/**\","
    "\"query\":{\"q\":{\"glob\":\"a*\"},\"tag\":{\"any\":[\"x\",\"y\"]}}}}],"
    "\"ports\":[443,8443],\"allow_encoded_slash\":true}],"
    "\"binaries\":[{\"path\":\"/usr/bin/curl\"}]}";

static void test_round_trip(void)
{
	struct bw_arena *a = bw_arena_new(4096);
	const char *err = NULL;
	struct json_object *in = json_tokener_parse(rule_text);
	ProtobufCMessage *m = bw_pbjson_to(RULE_DESC, in, a, &err);
	ok(m != NULL, "a full rule converts (%s)", err ? err : "no error");
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = bw_arena_alloc(a, len);
	protobuf_c_message_pack(m, buf);
	ProtobufCMessage *back = protobuf_c_message_unpack(RULE_DESC, NULL, len, buf);
	ok(back != NULL, "it packs and unpacks");
	struct json_object *out = bw_pbjson_from(back, 0);
	ok(json_object_equal(in, out), "the JSON comes back unchanged: %s",
	   json_object_to_json_string(out));
	json_object_put(out);
	out = bw_pbjson_from(back, BW_PBJSON_ALL_FIELDS);
	struct json_object *x = NULL;
	ok(json_object_object_get_ex(out, "binaries", &x), "all fields at the top level");
	json_object_put(out);
	protobuf_c_message_free_unpacked(back, NULL);
	json_object_put(in);
	bw_arena_free(a);
}

static void refused(const char *text, const char *want)
{
	struct bw_arena *a = bw_arena_new(4096);
	const char *err = NULL;
	struct json_object *in = json_tokener_parse(text);
	ProtobufCMessage *m = bw_pbjson_to(RULE_DESC, in, a, &err);
	ok(m == NULL && err != NULL && strstr(err, want) != NULL, "%s refused: %s", text,
	   err ? err : "(accepted)");
	json_object_put(in);
	bw_arena_free(a);
}

static void test_refusals(void)
{
	refused("{\"nam\":\"x\"}", "nam: unknown field");
	refused("{\"name\":5}", "name: must be a string");
	refused("{\"endpoints\":[{\"port\":\"443\"}]}", "port:");
	refused("{\"endpoints\":[{\"port\":4294967296}]}", "port:");
	refused("{\"endpoints\":[{\"port\":-1}]}", "port:");
	refused("{\"endpoints\":{}}", "endpoints: must be an array");
	refused("{\"endpoints\":[null]}", "endpoints: null items");
	refused("{\"endpoints\":[{\"rules\":[{\"allow\":{\"query\":{\"q\":1}}}]}]}",
		"value: must be an object");
	refused("{\"binaries\":[{\"harness\":1}]}", "harness: must be a boolean");
	refused("[]", "body: must be an object");
}

int main(void)
{
	plan(14);
	test_round_trip();
	test_refusals();
	return done();
}
