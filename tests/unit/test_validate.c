/* Unit tests for services/validate and services/netaddr: the registry's input rules. Name
 * resolution goes to the fake getaddrinfo below, so no test touches DNS. */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "services/netaddr.h"
#include "services/validate.h"
#include "tests/unit/tap.h"

static const char FORMAT_MSG[] = "endpoint must be in host:port format (e.g. '10.0.0.5:8443')";
static const char PORT_MSG[] = "endpoint port must be between 1 and 65535";
static const char PRIVATE_MSG[] =
    "endpoint must not point to a private/loopback address; use a routable IP or hostname";

/* The fake resolver: IP literals as themselves, names ending in "cluster.local" and
 * "private.test" to private addresses, "public.test" to a public one; anything else fails.
 * It replaces libc's getaddrinfo/freeaddrinfo for this program. */
static int lookups;

static const char *fake_address(const char *node)
{
	static const char cl[] = "cluster.local";
	size_t n = strlen(node), cn = sizeof(cl) - 1;
	if (n >= cn && strcasecmp(node + n - cn, cl) == 0)
		return "10.0.0.5";
	if (strcmp(node, "private.test") == 0)
		return "10.1.2.3";
	if (strcmp(node, "private6.test") == 0)
		return "fd00::1";
	if (strcmp(node, "public.test") == 0)
		return "8.8.4.4";
	return node;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	(void)service;
	(void)hints;
	lookups++;
	*res = NULL;
	if (node == NULL)
		return EAI_NONAME;
	const char *addr = fake_address(node);
	struct addrinfo *ai = calloc(1, sizeof(*ai) + sizeof(struct sockaddr_in6));
	if (ai == NULL)
		return EAI_MEMORY;
	struct sockaddr_in *in4 = (struct sockaddr_in *)(void *)(ai + 1);
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)(ai + 1);
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		ai->ai_addrlen = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		ai->ai_addrlen = sizeof(*in6);
	} else {
		free(ai);
		return EAI_NONAME;
	}
	ai->ai_family = ((struct sockaddr *)(void *)(ai + 1))->sa_family;
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_addr = (struct sockaddr *)(void *)(ai + 1);
	*res = ai;
	return 0;
}

void freeaddrinfo(struct addrinfo *res)
{
	free(res);
}

/* n copies of the UTF-8 character c (arena). */
static char *repeat(struct bw_arena *a, const char *c, size_t n)
{
	size_t cl = strlen(c);
	char *s = bw_arena_alloc(a, cl * n + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * cl, c, cl);
	s[cl * n] = '\0';
	return s;
}

static void test_names(struct bw_arena *a)
{
	ok(bw_valid_gateway_name("a"), "name of 1 char");
	ok(bw_valid_gateway_name("Prod-gw_1.example"), "letters, digits, '.', '_', '-'");
	ok(bw_valid_gateway_name("9"), "a digit first");
	ok(bw_valid_gateway_name(repeat(a, "a", 253)), "name of 253 chars");
	ok(!bw_valid_gateway_name(repeat(a, "a", 254)), "name of 254 chars rejected");
	ok(!bw_valid_gateway_name(""), "empty name rejected");
	ok(!bw_valid_gateway_name("-gw"), "leading '-' rejected");
	ok(!bw_valid_gateway_name(".gw"), "leading '.' rejected");
	ok(!bw_valid_gateway_name("_gw"), "leading '_' rejected");
	ok(!bw_valid_gateway_name("a/b"), "'/' rejected");
	ok(!bw_valid_gateway_name("../x"), "'../x' rejected");
	ok(!bw_valid_gateway_name("a b"), "space rejected");
	ok(!bw_valid_gateway_name("gw\n"), "trailing newline rejected");
	ok(!bw_valid_gateway_name("caf\xc3\xa9"), "non-ASCII rejected");
	ok(!bw_valid_gateway_name("\xc3\xa9t\xc3\xa9"), "non-ASCII first rejected");
	ok(!bw_valid_gateway_name("a:b"), "':' rejected");
}

/* Checks in and returns the message (NULL when accepted); *norm gets the normalised form. */
static const char *ep(const char *in, bool local, struct bw_arena *a, char **norm)
{
	*norm = NULL;
	return bw_check_endpoint(in, local, a, norm);
}

static void test_endpoints(struct bw_arena *a)
{
	char *norm = NULL;
	is_str(ep("8.8.8.8:443", false, a, &norm), NULL, "public IP literal accepted");
	is_str(norm, "8.8.8.8:443", "normalised endpoint");
	is_str(ep("  8.8.8.8:443 \t\n", false, a, &norm), NULL, "surrounding white space trimmed");
	is_str(norm, "8.8.8.8:443", "normalised endpoint is trimmed");
	is_str(ep("", false, a, &norm), "endpoint must not be empty", "empty");
	is_str(ep("  \t ", false, a, &norm), "endpoint must not be empty", "blank");
	is_str(ep("8.8.8.8", false, a, &norm), FORMAT_MSG, "missing port");
	is_str(ep("8.8.8.8:", false, a, &norm), FORMAT_MSG, "empty port");
	is_str(ep(":443", false, a, &norm), FORMAT_MSG, "empty host");
	is_str(ep("8.8.8.8:123456", false, a, &norm), FORMAT_MSG, "6-digit port");
	is_str(ep("8.8.8.8:44a", false, a, &norm), FORMAT_MSG, "non-digit port");
	is_str(ep("8.8.8.8:-1", false, a, &norm), FORMAT_MSG, "negative port");
	is_str(ep("8.8.8.8:+80", false, a, &norm), FORMAT_MSG, "signed port");
	is_str(ep("[::1]:80", false, a, &norm), FORMAT_MSG, "bracketed IPv6 literal");
	is_str(ep("https://x:1", false, a, &norm), FORMAT_MSG, "scheme");
	is_str(ep("x:1/path", false, a, &norm), FORMAT_MSG, "path");
	is_str(ep("a:1:2", false, a, &norm), FORMAT_MSG, "two colons");
	is_str(ep("a b:80", false, a, &norm), FORMAT_MSG, "space in the host");
	is_str(ep("8.8.8.8:0", false, a, &norm), PORT_MSG, "port 0");
	is_str(ep("8.8.8.8:00000", false, a, &norm), PORT_MSG, "port 00000");
	is_str(ep("8.8.8.8:65536", false, a, &norm), PORT_MSG, "port 65536");
	is_str(ep("8.8.8.8:99999", false, a, &norm), PORT_MSG, "port 99999");
	is_str(ep("8.8.8.8:65535", false, a, &norm), NULL, "port 65535");
	is_str(ep("8.8.8.8:1", false, a, &norm), NULL, "port 1");
	is_str(ep("127.0.0.1:8443", true, a, &norm), NULL, "local mode allows 127.0.0.1");
	is_str(norm, "127.0.0.1:8443", "local mode keeps the endpoint");
	is_str(ep("localhost:8443", true, a, &norm), NULL, "local mode allows localhost");
	is_str(ep("127.0.0.1:8443", false, a, &norm), PRIVATE_MSG, "127.0.0.1 rejected");
	ok(norm == NULL, "norm is not set on rejection");
	is_str(ep("10.0.0.1:443", false, a, &norm), PRIVATE_MSG, "10.0.0.1 rejected");
	is_str(ep("192.168.1.10:443", false, a, &norm), PRIVATE_MSG, "192.168.1.10 rejected");
	is_str(ep("169.254.169.254:80", false, a, &norm), PRIVATE_MSG, "metadata IP rejected");
	is_str(ep("0.0.0.0:80", false, a, &norm), PRIVATE_MSG, "0.0.0.0 rejected");
	is_str(ep("localhost:443", false, a, &norm), PRIVATE_MSG, "localhost rejected");
	is_str(ep("LocalHost.LocalDomain:443", false, a, &norm), PRIVATE_MSG,
	       "localhost.localdomain rejected case-insensitively");
	int before = lookups;
	is_str(ep("gw.svc.cluster.local:443", false, a, &norm), NULL,
	       "cluster-local name allowed without local mode");
	is_str(ep("GW.ns.SVC.Cluster.Local:443", false, a, &norm), NULL,
	       "cluster-local suffix is case-insensitive");
	is_int(lookups, before, "cluster-local names are not resolved");
	is_str(ep("svc.cluster.local:443", false, a, &norm), PRIVATE_MSG,
	       "the bare suffix is not a cluster-local name");
	is_str(ep("private.test:443", false, a, &norm), PRIVATE_MSG,
	       "a name resolving to a private address rejected");
	ok(lookups > before, "the name was resolved");
	is_str(ep("private6.test:443", false, a, &norm), PRIVATE_MSG,
	       "a name resolving to a private IPv6 address rejected");
	is_str(ep("private.test:443", true, a, &norm), NULL, "local mode allows it");
	is_str(ep("public.test:443", false, a, &norm), NULL,
	       "a name resolving to a public address");
	is_str(ep("nowhere.test:443", false, a, &norm), NULL,
	       "a name that does not resolve is allowed (fail-open)");
	is_str(ep("100.64.0.1:443", false, a, &norm), NULL, "CGNAT address allowed");
}

/* A labels object with n entries k0..k(n-1) = "v". */
static struct json_object *labels_n(int n)
{
	struct json_object *o = json_object_new_object();
	for (int i = 0; i < n; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%d", i);
		json_object_object_add(o, k, json_object_new_string("v"));
	}
	return o;
}

/* Checks a single label key = value (string) and returns the message. */
static const char *one_label(const char *key, const char *value, struct bw_arena *a, bool *te)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, key, json_object_new_string(value));
	const char *msg = bw_check_labels(o, a, te);
	json_object_put(o);
	return msg;
}

static void test_labels(struct bw_arena *a)
{
	bool te = true;
	struct json_object *o = labels_n(20);
	is_str(bw_check_labels(o, a, &te), NULL, "20 labels accepted");
	ok(!te, "no type error");
	json_object_put(o);
	o = labels_n(21);
	is_str(bw_check_labels(o, a, &te), "Too many labels (max 20)", "21 labels rejected");
	ok(!te, "too many labels is not a type error");
	json_object_put(o);
	o = labels_n(0);
	is_str(bw_check_labels(o, a, &te), NULL, "empty labels accepted");
	json_object_put(o);

	char *k63 = repeat(a, "k", 63), *k64 = repeat(a, "k", 64);
	is_str(one_label(k63, "v", a, &te), NULL, "key of 63 chars accepted");
	is_str(one_label(k64, "v", a, &te),
	       bw_arena_printf(a,
			       "Invalid label key '%s': must match [a-zA-Z0-9][a-zA-Z0-9._-]* "
			       "(max 63 chars)",
			       k64),
	       "key of 64 chars rejected with the reference message");
	ok(!te, "a bad key is not a type error");
	ok(one_label("-env", "v", a, &te) != NULL, "key starting with '-' rejected");
	ok(one_label("", "v", a, &te) != NULL, "empty key rejected");
	ok(one_label("a/b", "v", a, &te) != NULL, "key with '/' rejected");
	is_str(one_label("app.kubernetes_io-x", "v", a, &te), NULL, "key with '.', '_', '-' ok");

	is_str(one_label("k", repeat(a, "\xc3\xa9", 253), a, &te), NULL,
	       "value of 253 code points (506 bytes) accepted");
	is_str(one_label("k", repeat(a, "\xc3\xa9", 254), a, &te),
	       "Label value for 'k' exceeds maximum length of 253",
	       "value of 254 code points rejected");
	ok(!te, "a long value is not a type error");
	is_str(one_label("k", "", a, &te), NULL, "empty value accepted");
	is_str(one_label("-bad", repeat(a, "x", 300), a, &te),
	       bw_arena_printf(a,
			       "Invalid label key '%s': must match [a-zA-Z0-9][a-zA-Z0-9._-]* "
			       "(max 63 chars)",
			       "-bad"),
	       "the key is checked before the value");

	o = json_object_new_object();
	json_object_object_add(o, "k", json_object_new_int(1));
	te = false;
	is_str(bw_check_labels(o, a, &te), "Label value for 'k' must be a string",
	       "non-string value rejected");
	ok(te, "non-string value sets type_error");
	json_object_put(o);
	o = json_object_new_object();
	json_object_object_add(o, "k", NULL);
	te = false;
	ok(bw_check_labels(o, a, &te) != NULL && te, "null value is a type error");
	json_object_put(o);
	o = json_object_new_array();
	te = false;
	ok(bw_check_labels(o, a, &te) != NULL && te,
	   "an array instead of an object is a type error");
	json_object_put(o);
}

static void test_description(struct bw_arena *a)
{
	char *d1000 = repeat(a, "\xe2\x82\xac", 1000), *d1001 = repeat(a, "\xe2\x82\xac", 1001);
	is_str(bw_check_description(d1000, strlen(d1000)), NULL,
	       "1000 code points (3000 bytes) accepted");
	is_str(bw_check_description(d1001, strlen(d1001)),
	       "description exceeds maximum length of 1000", "1001 code points rejected");
	is_str(bw_check_description("", 0), NULL, "empty description accepted");
}

static void test_filters(struct bw_arena *a)
{
	char *k = NULL, *v = NULL;
	ok(bw_parse_label_filter("a:b:c", a, &k, &v), "a:b:c parses");
	is_str(k, "a", "split at the first colon: key");
	is_str(v, "b:c", "split at the first colon: value");
	ok(bw_parse_label_filter("k:", a, &k, &v), "k: parses");
	is_str(k, "k", "k: key");
	is_str(v, "", "k: empty value");
	ok(bw_parse_label_filter("env:prod", a, &k, &v) && strcmp(k, "env") == 0 &&
	       strcmp(v, "prod") == 0,
	   "env:prod");
	ok(!bw_parse_label_filter("nocolon", a, &k, &v), "no colon rejected");
	ok(!bw_parse_label_filter(":v", a, &k, &v), "leading colon rejected");
	ok(!bw_parse_label_filter("", a, &k, &v), "empty filter rejected");
}

static void test_runtimes(void)
{
	const char *lower = NULL;
	ok(bw_valid_runtime("docker", &lower), "docker");
	is_str(lower, "docker", "docker canonical");
	ok(bw_valid_runtime("Kubernetes", &lower), "Kubernetes");
	is_str(lower, "kubernetes", "Kubernetes lower-cased");
	ok(bw_valid_runtime("LIBKRUN", &lower), "LIBKRUN");
	is_str(lower, "libkrun", "LIBKRUN lower-cased");
	ok(!bw_valid_runtime("podman", &lower), "podman rejected");
	ok(!bw_valid_runtime("", &lower), "empty rejected");
	ok(!bw_valid_runtime("docker ", &lower), "trailing space rejected");
}

struct acase {
	const char *addr;
	bool priv;
};

static const struct acase addrs[] = {
    {"10.1.2.3", true},
    {"172.16.0.1", true},
    {"172.31.255.255", true},
    {"172.32.0.1", false},
    {"172.15.255.255", false},
    {"192.168.1.1", true},
    {"127.0.0.1", true},
    {"127.255.255.254", true},
    {"169.254.169.254", true},
    {"0.0.0.0", true},
    {"100.64.0.1", false},
    {"8.8.8.8", false},
    {"1.1.1.1", false},
    {"192.0.0.1", true},
    {"192.0.0.9", false},
    {"192.0.0.10", false},
    {"192.0.0.170", true},
    {"192.0.2.1", true},
    {"198.18.0.1", true},
    {"198.19.255.255", true},
    {"198.20.0.1", false},
    {"198.51.100.7", true},
    {"203.0.113.7", true},
    {"224.0.0.1", false},
    {"240.0.0.1", true},
    {"255.255.255.255", true},
    {"::1", true},
    {"::", true},
    {"fe80::1", true},
    {"fc00::1", true},
    {"fd12:3456::1", true},
    {"2001:db8::1", true},
    {"::ffff:8.8.8.8", true},
    {"::ffff:10.0.0.1", true},
    {"2606:4700::1", false},
    {"2a00:1450:4001::1", false},
    {"2002::1", true},
    {"64:ff9b:1::1", true},
    {"100::1", true},
    {"2001::1", true},
    {"ff02::1", false},
    /* IPv6 reserved blocks (Python is_reserved, reference shoreguard-auth.md §20). */
    {"::2", true},
    {"4000::1", true},
    {"fe00::1", true},
    {"3fff::1", true},
    /* Globally reachable exceptions inside 2001::/23. */
    {"2001:1::1", false},
    {"2001:20::1", false},
};

/* 1 when the IP literal s is private, 0 when public, -1 when it does not parse. */
static int private_literal(const char *s)
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
	memset(&in4, 0, sizeof(in4));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, s, &in4.sin_addr) == 1) {
		in4.sin_family = AF_INET;
		return bw_addr_is_private((const struct sockaddr *)&in4);
	}
	if (inet_pton(AF_INET6, s, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		return bw_addr_is_private((const struct sockaddr *)&in6);
	}
	return -1;
}

static void test_addresses(void)
{
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		ok(private_literal(addrs[i].addr) == (addrs[i].priv ? 1 : 0), "%s is %s",
		   addrs[i].addr, addrs[i].priv ? "private" : "public");
	struct sockaddr_un un;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	ok(bw_addr_is_private((const struct sockaddr *)&un), "a non-IP family counts as private");
	ok(bw_host_is_private("localhost"), "host localhost");
	ok(bw_host_is_private("LOCALHOST"), "host LOCALHOST");
	ok(bw_host_is_private("10.0.0.1"), "host 10.0.0.1 literal");
	ok(bw_host_is_private("::1"), "host ::1 literal");
	ok(!bw_host_is_private("8.8.8.8"), "host 8.8.8.8 literal");
}

#define NADDRS ((int)(sizeof(addrs) / sizeof(addrs[0])))

int main(void)
{
	plan(111 + NADDRS);
	struct bw_arena *a = bw_arena_new(4096);
	test_names(a);
	test_endpoints(a);
	test_labels(a);
	test_description(a);
	test_filters(a);
	test_runtimes();
	test_addresses();
	bw_arena_free(a);
	return done();
}
