/* Unit tests for the pure webhook rules (services/hookfmt): the signature, the retry schedule,
 * the outcome classes, the URL checks and the SSRF address checker, and the channel bodies. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/arena.h"
#include "services/hookfmt.h"
#include "tests/unit/tap.h"

static void test_signature(void)
{
	char sig[BW_HOOK_SIG_LEN];
	/* RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?". */
	bw_hook_sign("Jefe", "what do ya want for nothing?", 28, sig);
	is_str(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	       "HMAC-SHA256 over the exact bytes, key = the secret's text");
	bw_hook_sign("Jefe", "what do ya want for nothing?!", 29, sig);
	ok(strcmp(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") !=
	       0,
	   "one more byte changes the signature");
}

static void test_schedule(void)
{
	int d[BW_HOOK_MAX_DELAYS];
	is_int(bw_hook_parse_delays("5,30,120", d, BW_HOOK_MAX_DELAYS), 3, "reference schedule");
	is_int(d[0], 5, "first delay");
	is_int(d[2], 120, "last delay");
	is_int(bw_hook_next_delay(d, 3, 1), 5, "after attempt 1: 5 s");
	is_int(bw_hook_next_delay(d, 3, 2), 30, "after attempt 2: 30 s");
	is_int(bw_hook_next_delay(d, 3, 3), 120, "after attempt 3: 120 s");
	is_int(bw_hook_next_delay(d, 3, 4), -1, "attempt 4 was the last");
	is_int(bw_hook_parse_delays("1, 2", d, BW_HOOK_MAX_DELAYS), 2, "spaces allowed");
	is_int(bw_hook_parse_delays("", d, BW_HOOK_MAX_DELAYS), 0, "empty: one attempt only");
	is_int(bw_hook_parse_delays("5,x", d, BW_HOOK_MAX_DELAYS), -1, "garbage refused");
	is_int(bw_hook_parse_delays("-1", d, BW_HOOK_MAX_DELAYS), -1, "negative refused");
	is_int(bw_hook_parse_delays("1,2,3", d, 2), -1, "too many refused");
}

static void test_classify(void)
{
	is_int(bw_hook_classify(200), BW_HOOK_SUCCESS, "200 delivered");
	is_int(bw_hook_classify(399), BW_HOOK_SUCCESS, "399 delivered (redirect not followed)");
	is_int(bw_hook_classify(400), BW_HOOK_PERMANENT, "400 not retried");
	is_int(bw_hook_classify(404), BW_HOOK_PERMANENT, "404 not retried");
	is_int(bw_hook_classify(499), BW_HOOK_PERMANENT, "499 not retried");
	is_int(bw_hook_classify(429), BW_HOOK_RETRY, "429 retried");
	is_int(bw_hook_classify(408), BW_HOOK_RETRY, "408 retried");
	is_int(bw_hook_classify(500), BW_HOOK_RETRY, "500 retried");
	is_int(bw_hook_classify(503), BW_HOOK_RETRY, "503 retried");
}

static bool allowed(const char *text, bool loopback)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	return bw_hook_addr_allowed((struct sockaddr *)&ss, loopback);
}

static void test_addresses(void)
{
	ok(!allowed("10.1.2.3", false), "10/8 refused");
	ok(!allowed("10.1.2.3", true), "10/8 refused with loopback allowed");
	ok(!allowed("169.254.169.254", true), "metadata address refused");
	ok(!allowed("192.168.1.1", true), "192.168/16 refused");
	ok(!allowed("172.16.0.1", false), "172.16/12 refused");
	ok(!allowed("127.0.0.1", false), "loopback refused by default");
	ok(allowed("127.0.0.1", true), "loopback allowed by the switch");
	ok(!allowed("::1", false), "::1 refused by default");
	ok(allowed("::1", true), "::1 allowed by the switch");
	ok(!allowed("fe80::1", true), "IPv6 link-local refused");
	ok(!allowed("fd00::1", true), "IPv6 ULA refused");
	ok(!allowed("::ffff:10.0.0.1", true), "IPv4-mapped private refused");
	ok(!allowed("0.0.0.0", true), "unspecified refused");
	ok(allowed("8.8.8.8", false), "public IPv4 allowed");
	ok(allowed("2606:4700:4700::1111", false), "public IPv6 allowed");
	char pin[64];
	is_int(bw_hook_resolve("10.0.0.5", true, pin, sizeof(pin)), BW_HOOK_BLOCKED,
	       "literal 10.0.0.5 blocked");
	is_int(bw_hook_resolve("169.254.169.254", true, pin, sizeof(pin)), BW_HOOK_BLOCKED,
	       "literal metadata blocked");
	is_int(bw_hook_resolve("::1", false, pin, sizeof(pin)), BW_HOOK_BLOCKED, "::1 blocked");
	is_int(bw_hook_resolve("localhost", false, pin, sizeof(pin)), BW_HOOK_BLOCKED,
	       "localhost blocked without the switch");
	is_int(bw_hook_resolve("127.0.0.1", true, pin, sizeof(pin)), BW_HOOK_RESOLVED,
	       "loopback literal with the switch");
	is_str(pin, "127.0.0.1", "pinned to the checked address");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(bw_hook_resolve("no-such-host.invalid", false, pin, sizeof(pin)), BW_HOOK_NO_DNS,
	       "an unresolvable name is reported as such");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok(t1.tv_sec - t0.tv_sec <= BW_HOOK_DNS_MS / 1000 + 1, "within the DNS budget (%ld s)",
	   (long)(t1.tv_sec - t0.tv_sec));
}

static void test_urls(struct bw_arena *a)
{
	struct bw_hook_url u;
	ok(bw_hook_url_parse(a, "  https://example.com:8443/x?y=1 ", &u) == NULL, "https URL");
	is_str(u.host, "example.com", "host");
	is_int(u.port, 8443, "port");
	ok(bw_hook_url_parse(a, "http://[::1]:9/", &u) == NULL && strcmp(u.host, "::1") == 0 &&
	       u.literal,
	   "IPv6 literal without brackets");
	ok(bw_hook_url_parse(a, "http://example.com/", &u) == NULL && u.port == 80, "default port");
	is_str(bw_hook_url_parse(a, "ftp://example.com/", &u),
	       "URL scheme must be http or https, got 'ftp'", "ftp refused");
	is_str(bw_hook_url_parse(a, "example.com/x", &u),
	       "URL scheme must be http or https, got ''", "no scheme refused");
	is_str(bw_hook_url_parse(a, "http://user:pw@example.com/", &u),
	       "URL must not contain credentials", "credentials refused");
	is_str(bw_hook_url_parse(a, "http:///path", &u), "URL must include a hostname",
	       "no host refused");
}

static void test_bodies(struct bw_arena *a)
{
	struct json_object *data = json_object_new_object();
	json_object_object_add(data, "gateway", json_object_new_string("gw1"));
	json_object_object_add(data, "actor", json_object_new_string("a@b"));
	size_t len = 0;
	const char *subject = NULL;
	const char *g = bw_hook_body(a, "generic", "gateway.registered", "T", data, &len, NULL);
	is_str(
	    g,
	    "{\"event\":\"gateway.registered\",\"timestamp\":\"T\",\"data\":{\"gateway\":\"gw1\","
	    "\"actor\":\"a@b\"}}",
	    "generic body");
	ok(len == strlen(g), "generic length");
	const char *s = bw_hook_body(a, "slack", "gateway.registered", "T", data, &len, NULL);
	ok(s != NULL && strstr(s, "\"color\":\"good\"") != NULL &&
	       strstr(s, "*Gateway Registered*\\n*Gateway:* gw1\\n*Actor:* a@b") != NULL &&
	       strstr(s, "ShoreGuard | T") != NULL,
	   "slack body: colour, label, fields, footer");
	const char *d = bw_hook_body(a, "discord", "gateway.unregistered", "T", data, &len, NULL);
	ok(d != NULL && strstr(d, "\"color\":16753920") != NULL &&
	       strstr(d, "{\"name\":\"Gateway\",\"value\":\"gw1\",\"inline\":true}") != NULL,
	   "discord body: colour and inline fields");
	const char *e = bw_hook_body(a, "email", "webhook.test", "T", data, &len, &subject);
	is_str(subject, "ShoreGuard \xe2\x80\x94 Test Event", "email subject is the first line");
	ok(e != NULL && strstr(e, "Time: T\n\nGateway: gw1\nActor: a@b") != NULL, "email text");
	is_str(bw_hook_label(a, "policy.drift_detected"), "Policy Drift Detected",
	       "unknown label: words title-cased");
	ok(bw_hook_body(a, "fax", "x", "T", data, &len, NULL) == NULL, "unknown channel");
	json_object_put(data);
}

int main(void)
{
	struct bw_arena *a = bw_arena_new(4096);
	plan(2 + 12 + 9 + 23 + 9 + 8);
	test_signature();
	test_schedule();
	test_classify();
	test_addresses();
	test_urls(a);
	test_bodies(a);
	bw_arena_free(a);
	return tap_failed == 0 ? 0 : 1;
}
