/* Unit tests for the pure parts of the sandbox details and provider modules: the SSH session
 * answer check (the proto's charset contract, full match), log level ranks, refresh strategy
 * names, the known provider types, provider rendering with redaction, and the generic
 * protobuf → JSON rendering (maps, oneofs, unset messages, 64-bit numbers). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "datamodel.pb-c.h"
#include "openshell.pb-c.h"
#include "sandbox.pb-c.h"
#include "services/providers.h"
#include "services/sbxinfo.h"
#include "tests/unit/tap.h"

/* protobuf-c string fields are char *; the tests never write through them. */
#define S(lit) ((char *)(uintptr_t)(lit))

static Openshell__V1__CreateSshSessionResponse good(void)
{
	Openshell__V1__CreateSshSessionResponse r =
	    OPENSHELL__V1__CREATE_SSH_SESSION_RESPONSE__INIT;
	r.sandbox_id = S("0b5c-id_1.x");
	r.token = S("AbC.9_~+/=-");
	r.gateway_host = S("[::1]");
	r.gateway_port = 8080;
	r.gateway_scheme = S("https");
	r.host_key_fingerprint = S("SHA256:abc+/=");
	r.expires_at_ms = 1;
	return r;
}

static const char *with(const char *field, const char *value, unsigned port)
{
	Openshell__V1__CreateSshSessionResponse r = good();
	if (strcmp(field, "sandbox_id") == 0)
		r.sandbox_id = (char *)value;
	else if (strcmp(field, "token") == 0)
		r.token = (char *)value;
	else if (strcmp(field, "gateway_host") == 0)
		r.gateway_host = (char *)value;
	else if (strcmp(field, "gateway_scheme") == 0)
		r.gateway_scheme = (char *)value;
	else if (strcmp(field, "host_key_fingerprint") == 0)
		r.host_key_fingerprint = (char *)value;
	else if (strcmp(field, "gateway_port") == 0)
		r.gateway_port = port;
	return bw_sbxinfo_ssh_check(&r, strcmp(field, "sandbox_id") == 0 ? NULL : "0b5c-id_1.x");
}

static void test_ssh_check(void)
{
	Openshell__V1__CreateSshSessionResponse r = good();
	ok(bw_sbxinfo_ssh_check(&r, "0b5c-id_1.x") == NULL, "a clean answer passes");
	is_str(bw_sbxinfo_ssh_check(&r, "other-id"), "sandbox_id", "another sandbox's session");
	r.host_key_fingerprint = S("");
	ok(bw_sbxinfo_ssh_check(&r, NULL) == NULL, "an empty fingerprint is allowed");
	is_str(with("token", "a;b", 0), "token", "shell metacharacter in token");
	is_str(with("token", "abc\n", 0), "token", "a trailing newline is not a match");
	is_str(with("token", "", 0), "token", "empty token");
	is_str(with("token", "a b", 0), "token", "space in token");
	is_str(with("token", "$(id)", 0), "token", "command substitution in token");
	is_str(with("gateway_host", "h`id`", 0), "gateway_host", "backtick in host");
	is_str(with("gateway_host", "", 0), "gateway_host", "empty host");
	is_str(with("gateway_port", NULL, 0), "gateway_port", "port 0");
	is_str(with("gateway_port", NULL, 65536), "gateway_port", "port 65536");
	ok(with("gateway_port", NULL, 65535) == NULL, "port 65535");
	is_str(with("gateway_scheme", "ssh", 0), "gateway_scheme", "scheme other than http(s)");
	is_str(with("gateway_scheme", "HTTPS", 0), "gateway_scheme", "scheme is case-sensitive");
	is_str(with("host_key_fingerprint", "a b", 0), "host_key_fingerprint", "space in key fp");
	is_str(with("sandbox_id", "../x", 0), "sandbox_id", "slash in sandbox_id");
	char big[4098];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_str(with("token", big, 0), "token", "token over 4096 bytes");
	big[4096] = '\0';
	ok(with("token", big, 0) == NULL, "token of 4096 bytes");
}

static void test_ranks_and_names(void)
{
	is_int(bw_sbxinfo_level_rank("ERROR"), 0, "ERROR");
	is_int(bw_sbxinfo_level_rank("warn"), 1, "warn, any case");
	is_int(bw_sbxinfo_level_rank("Trace"), 4, "Trace");
	is_int(bw_sbxinfo_level_rank("loud"), -1, "unknown level");
	is_int(bw_providers_strategy("oauth2_client_credentials"), 4, "strategy by name");
	is_int(bw_providers_strategy("unspecified"), -1, "unspecified is not a choice");
	is_int(bw_providers_strategy("magic"), -1, "unknown strategy");
	ok(bw_provider_type_find("claude") != NULL &&
	       strcmp(bw_provider_type_find("claude")->cred_key, "ANTHROPIC_API_KEY") == 0,
	   "claude uses ANTHROPIC_API_KEY");
	ok(bw_provider_type_find("Claude") == NULL, "types are case-sensitive");
	is_int(bw_provider_types_count, 11, "eleven known types");
}

static void test_provider_json(void)
{
	Openshell__Datamodel__V1__ObjectMeta m = OPENSHELL__DATAMODEL__V1__OBJECT_META__INIT;
	Openshell__Datamodel__V1__Provider p = OPENSHELL__DATAMODEL__V1__PROVIDER__INIT;
	Openshell__Datamodel__V1__Provider__CredentialsEntry c =
	    OPENSHELL__DATAMODEL__V1__PROVIDER__CREDENTIALS_ENTRY__INIT;
	Openshell__Datamodel__V1__Provider__CredentialsEntry *cs[] = {&c};
	m.id = S("id1");
	m.name = S("p1");
	c.key = S("API_KEY");
	c.value = S("sk-raw-secret"); /* a gateway that forgot to redact */
	p.metadata = &m;
	p.type = S("generic");
	p.n_credentials = 1;
	p.credentials = cs;
	struct json_object *o = bw_provider_json(&p.base);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ok(strstr(s, "sk-raw-secret") == NULL, "a raw credential value is never rendered");
	ok(strstr(s, "\"API_KEY\":\"[REDACTED]\"") != NULL, "its key is, redacted");
	ok(strstr(s, "\"name\":\"p1\"") != NULL, "the name comes from metadata");
	json_object_put(o);
}

int main(void)
{
	plan(32);
	test_ssh_check();
	test_ranks_and_names();
	test_provider_json();
	return done();
}
