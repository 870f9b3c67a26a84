/* Unit tests for services/yamlj (YAML -> json-c, including hostile input) and services/catalog
 * (directory scan, skipping of bad files, name lookups, the bundled data/ files). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "services/catalog.h"
#include "services/yamlj.h"
#include "tests/unit/tap.h"

static char errbuf[256];

/* Converts text and renders the result compactly ("null" for a null document); NULL on error. */
static char *conv(const char *text, enum bw_err *rc)
{
	struct json_object *o = NULL;
	*rc = bw_yaml_to_json(text, strlen(text), &o, errbuf, sizeof(errbuf));
	if (*rc != BW_OK)
		return NULL;
	char *s = strdup(o != NULL ? json_object_to_json_string_ext(
					 o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
				   : "null");
	json_object_put(o);
	return s;
}

static void is_json(const char *yaml, const char *want, const char *what)
{
	enum bw_err rc;
	char *got = conv(yaml, &rc);
	is_str(got, want, what);
	if (got == NULL)
		printf("#   error %d: %s\n", rc, errbuf);
	free(got);
}

static void is_refused(const char *yaml, size_t len, enum bw_err want, const char *needle,
		       const char *what)
{
	struct json_object *o = (struct json_object *)1;
	enum bw_err rc = bw_yaml_to_json(yaml, len, &o, errbuf, sizeof(errbuf));
	ok(rc == want && o == NULL && (needle == NULL || strstr(errbuf, needle) != NULL), "%s",
	   what);
	if (rc != want || (needle != NULL && strstr(errbuf, needle) == NULL))
		printf("#   got rc %d (want %d), err '%s'\n", rc, want, errbuf);
}

static void test_scalars(void)
{
	is_json("a: 1\nb: -42\nc: +7\nd: 3.5\ne: 1e3\n",
		"{\"a\":1,\"b\":-42,\"c\":7,\"d\":3.5,\"e\":1000.0}", "ints and floats");
	is_json("t: true\nT: True\nf: false\nF: FALSE\n",
		"{\"t\":true,\"T\":true,\"f\":false,\"F\":false}", "booleans");
	is_json("a: null\nb: ~\nc:\nd: NULL\n", "{\"a\":null,\"b\":null,\"c\":null,\"d\":null}",
		"nulls");
	is_json("a: \"443\"\nb: 'true'\nc: \"null\"\nd: ''\n",
		"{\"a\":\"443\",\"b\":\"true\",\"c\":\"null\",\"d\":\"\"}",
		"quoted scalars stay strings");
	is_json("a: yes\nb: no\nc: on\nd: 0x1f\ne: .inf\n",
		"{\"a\":\"yes\",\"b\":\"no\",\"c\":\"on\",\"d\":\"0x1f\",\"e\":\".inf\"}",
		"YAML 1.1 booleans, hex and .inf are strings");
	is_json(
	    "a: 127.0.0.1\nb: 1.2.3\nc: 99999999999999999999\nd: /**\n",
	    "{\"a\":\"127.0.0.1\",\"b\":\"1.2.3\",\"c\":\"99999999999999999999\",\"d\":\"/**\"}",
	    "addresses, versions, overflowing ints and globs are strings");
	is_json("a: !!str 123\nb: ! 12\n", "{\"a\":\"123\",\"b\":\"12\"}",
		"!!str and ! force strings");
	is_json("k: |\n  line one\n  line two\nf: >-\n  folded\n  text\n",
		"{\"k\":\"line one\\nline two\\n\",\"f\":\"folded text\"}", "block scalars");
	is_json("1: a\ntrue: b\n", "{\"1\":\"a\",\"true\":\"b\"}", "keys stay strings");
	is_json("a: \"caf\\u00e9 \\\"q\\\"\"\n", "{\"a\":\"caf\xc3\xa9 \\\"q\\\"\"}", "escapes");
}

static void test_structure(void)
{
	is_json("a:\n  - 1\n  - {x: [y, z], w: {}}\n  - []\n",
		"{\"a\":[1,{\"x\":[\"y\",\"z\"],\"w\":{}},[]]}", "nested block and flow");
	is_json("- a\n- b\n", "[\"a\",\"b\"]", "a sequence root converts");
	is_json("plain\n", "\"plain\"", "a scalar root converts");
	is_json("---\n", "null", "an empty document is null");
	is_json("---\na: 1\n...\n", "{\"a\":1}", "explicit document markers");
	is_json("# only a comment\nx: 1 # trailing\n", "{\"x\":1}", "comments");
}

static void test_hostile(void)
{
	static const char bomb[] = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
				   "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
				   "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
				   "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
				   "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";
	is_refused(bomb, strlen(bomb), BW_EINVAL, "anchors are not allowed", "alias bomb refused");
	is_refused("a: *x\n", 6, BW_EINVAL, "aliases are not allowed", "a bare alias refused");
	is_refused("a: &x 1\n", 8, BW_EINVAL, "anchors", "an unused anchor refused");
	is_refused("a: 1\n<<: *x\n", 12, BW_EINVAL, NULL, "merge keys refused");

	char deep[200];
	size_t n = 0;
	for (int i = 0; i < BW_YAML_MAX_DEPTH; i++)
		deep[n++] = '[';
	for (int i = 0; i < BW_YAML_MAX_DEPTH; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	struct json_object *o = NULL;
	enum bw_err rc = bw_yaml_to_json(deep, n, &o, errbuf, sizeof(errbuf));
	ok(rc == BW_OK && o != NULL, "%d nested sequences are accepted", BW_YAML_MAX_DEPTH);
	json_object_put(o);
	memmove(deep + 1, deep, n + 1);
	deep[0] = '[';
	deep[n + 1] = ']';
	deep[n + 2] = '\0';
	is_refused(deep, n + 2, BW_EINVAL, "nesting deeper", "one level more is refused");

	size_t big = 100000;
	char *flow = malloc(big * 2 + 8);
	for (size_t i = 0; i < big; i++)
		memcpy(flow + i * 2, "[[", 2);
	is_refused(flow, big * 2, BW_EINVAL, "nesting deeper", "100000 open brackets are refused");
	for (size_t i = 0; i < BW_YAML_MAX_NODES; i++)
		memcpy(flow + 1 + i * 2, "1,", 2);
	flow[0] = '[';
	flow[1 + BW_YAML_MAX_NODES * 2] = ']';
	is_refused(flow, 2 + BW_YAML_MAX_NODES * 2, BW_ETOOBIG, "nodes", "too many nodes refused");
	free(flow);

	char *huge = malloc(BW_YAML_MAX_BYTES + 2);
	memset(huge, ' ', BW_YAML_MAX_BYTES + 1);
	memcpy(huge, "a: b", 4);
	is_refused(huge, BW_YAML_MAX_BYTES + 1, BW_ETOOBIG, "bytes", "a file over the cap refused");
	o = NULL;
	rc = bw_yaml_to_json(huge, BW_YAML_MAX_BYTES, &o, errbuf, sizeof(errbuf));
	ok(rc == BW_OK && o != NULL, "a file at the cap is read");
	json_object_put(o);
	free(huge);

	is_refused("a: \xff\xfe\n", 7, BW_EINVAL, NULL, "invalid UTF-8 refused");
	is_refused("a: \xc0\xaf\n", 7, BW_EINVAL, NULL, "overlong UTF-8 refused");
	is_refused("a: \"\\ud800\"\n", 12, BW_EINVAL, NULL, "a lone surrogate escape refused");
	is_refused("a: \"x\\0y\"\n", 10, BW_EINVAL, "NUL", "an escaped NUL refused");
	is_refused("a: b\0c: d\n", 10, BW_EINVAL, NULL, "a raw NUL byte refused");
	is_refused("a: 1\na: 2\n", 10, BW_EINVAL, "duplicate key", "duplicate keys refused");
	is_refused("? [a]\n: b\n", 10, BW_EINVAL, "keys must be scalars", "complex keys refused");
	is_refused("a: !!python/object:os.system x\n", 31, BW_EINVAL, "not supported",
		   "foreign tags refused");
	is_refused("a: !!int 1\n", 11, BW_EINVAL, "not supported", "other core tags refused");
	is_refused("a: !!map {}\n", 11, BW_EINVAL, "not supported", "tags on collections refused");
	is_refused("a: 1\n---\nb: 2\n", 14, BW_EINVAL, "one YAML document",
		   "two documents refused");
	is_refused("", 0, BW_EINVAL, "no YAML document", "an empty file refused");
	is_refused("a: [1, 2\n", 9, BW_EINVAL, "line", "a syntax error refused with its line");
	is_refused("a: b\n  c: d\n", 12, BW_EINVAL, NULL, "bad indentation refused");
}

static char tmpdir[] = "/tmp/bw-test-catalog-XXXXXX";

static void put(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void rm_all(void)
{
	static const char *const names[] = {"good.yaml",  "b.yaml",       "list.yaml", "bad.yaml",
					    "Upper.yaml", ".hidden.yaml", "bomb.yaml", "link.yaml",
					    "big.yaml",   "notes.txt",    "dir.yaml",  "tags.yaml",
					    "t1.yaml",    "t2.yaml",      "t3.yaml",   NULL};
	char path[256];
	for (int i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
		rmdir(path);
	}
	rmdir(tmpdir);
}

static void test_scan_presets(void)
{
	put("good.yaml", "preset:\n  name: good\n  description: A good one\n"
			 "network_policies:\n  r:\n    name: r\n    endpoints:\n"
			 "      - {host: x.example, port: 443}\n"
			 "filesystem: {read_only: [/usr]}\n");
	put("b.yaml", "network_policies: {}\n");
	put("list.yaml", "- a\n- b\n");
	put("bad.yaml", "a: [\n");
	put("Upper.yaml", "a: 1\n");
	put(".hidden.yaml", "a: 1\n");
	put("bomb.yaml", "a: &a [1]\nb: [*a, *a]\n");
	put("tags.yaml", "preset: {name: 5}\n");
	put("notes.txt", "not yaml at all: [\n");
	char path[256], target[256];
	snprintf(path, sizeof(path), "%s/link.yaml", tmpdir);
	snprintf(target, sizeof(target), "%s/good.yaml", tmpdir);
	ok(symlink(target, path) == 0, "symlink created");
	snprintf(path, sizeof(path), "%s/dir.yaml", tmpdir);
	mkdir(path, 0700);
	char *big = malloc(BW_YAML_MAX_BYTES + 100);
	memset(big, '#', BW_YAML_MAX_BYTES + 99);
	big[BW_YAML_MAX_BYTES + 99] = '\0';
	put("big.yaml", big);
	free(big);

	struct bw_catalog *c = bw_catalog_scan(tmpdir, BW_CATALOG_PRESETS);
	ok(c != NULL, "scan returns a catalog");
	if (c == NULL)
		return;
	is_int(bw_catalog_count(c), 2, "only the two valid files are loaded");
	size_t len = 0;
	is_str(bw_catalog_list_json(c, &len),
	       "[{\"name\":\"b\",\"description\":\"\",\"file\":\"b.yaml\"},"
	       "{\"name\":\"good\",\"description\":\"A good one\",\"file\":\"good.yaml\"}]",
	       "list sorted by file name, defaults from the stem");
	is_str(bw_catalog_item_json(c, "good", &len),
	       "{\"name\":\"good\",\"description\":\"A good one\",\"policy\":{\"network_policies\":"
	       "{\"r\":{\"name\":\"r\",\"endpoints\":[{\"host\":\"x.example\",\"port\":443}]}},"
	       "\"filesystem\":{\"read_only\":[\"/usr\"]}}}",
	       "item: the policy is the document without the preset block");
	is_str(bw_catalog_item_json(c, "b", &len),
	       "{\"name\":\"b\",\"description\":\"\",\"policy\":{\"network_policies\":{}}}",
	       "item without a preset block");
	static const char *const unknown[] = {"missing", "list",    "bad",    "Upper", ".hidden",
					      "bomb",    "link",    "big",    "dir",   "tags",
					      "notes",   "../good", "good/",  "GOOD",  "good.yaml",
					      "",        "./good",  "%2e%2e", NULL};
	for (int i = 0; unknown[i] != NULL; i++)
		ok(bw_catalog_item_json(c, unknown[i], &len) == NULL, "'%s' is not found",
		   unknown[i]);
	char longname[5000];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ok(bw_catalog_item_json(c, longname, &len) == NULL, "a 4999-character name is not found");
	struct json_object *o = bw_catalog_item(c, "good");
	struct json_object *p = NULL, *fs = NULL;
	ok(o != NULL && json_object_object_get_ex(o, "policy", &p) &&
	       json_object_object_get_ex(p, "filesystem", &fs),
	   "bw_catalog_item returns a parsed copy");
	json_object_put(o);
	ok(bw_catalog_item(c, "nope") == NULL, "bw_catalog_item of an unknown name is NULL");
	bw_catalog_free(c);
}

static void test_scan_templates(void)
{
	rm_all();
	memcpy(tmpdir + sizeof(tmpdir) - 7, "XXXXXX", 6);
	ok(mkdtemp(tmpdir) != NULL, "second temp dir");
	put("t1.yaml", "template: {name: one, description: d, category: dev}\n"
		       "sandbox: {image: img, gpu: true, providers: [p], environment: {A: b}}\n");
	put("t2.yaml", "template: {category: x}\n");
	put("t3.yaml", "template: {}\nsandbox: [1]\n");
	struct bw_catalog *c = bw_catalog_scan(tmpdir, BW_CATALOG_TEMPLATES);
	ok(c != NULL && bw_catalog_count(c) == 2,
	   "two valid templates (sandbox must be a mapping)");
	if (c == NULL)
		return;
	size_t len;
	is_str(
	    bw_catalog_list_json(c, &len),
	    "[{\"name\":\"one\",\"description\":\"d\",\"category\":\"dev\",\"file\":\"t1.yaml\"},"
	    "{\"name\":\"t2\",\"description\":\"\",\"category\":\"x\",\"file\":\"t2.yaml\"}]",
	    "template list");
	is_str(
	    bw_catalog_item_json(c, "t1", &len),
	    "{\"name\":\"one\",\"description\":\"d\",\"category\":\"dev\",\"sandbox\":{\"image\":"
	    "\"img\",\"gpu\":true,\"providers\":[\"p\"],\"environment\":{\"A\":\"b\"}}}",
	    "template item (looked up by file stem)");
	is_str(bw_catalog_item_json(c, "t2", &len),
	       "{\"name\":\"t2\",\"description\":\"\",\"category\":\"x\",\"sandbox\":{}}",
	       "sandbox defaults to {}");
	bw_catalog_free(c);

	c = bw_catalog_scan("/nonexistent/bw-catalog", BW_CATALOG_PRESETS);
	ok(c != NULL && bw_catalog_count(c) == 0 &&
	       strcmp(bw_catalog_list_json(c, &len), "[]") == 0,
	   "a missing directory is an empty catalog");
	bw_catalog_free(c);
}

static void test_bundled(void)
{
	struct bw_catalog *p = bw_catalog_scan(BW_TOP_SRCDIR "/data/presets", BW_CATALOG_PRESETS);
	struct bw_catalog *t =
	    bw_catalog_scan(BW_TOP_SRCDIR "/data/templates", BW_CATALOG_TEMPLATES);
	ok(p != NULL && bw_catalog_count(p) == 10, "the 10 bundled presets load");
	ok(t != NULL && bw_catalog_count(t) == 4, "the 4 bundled templates load");
	size_t len;
	const char *s = p != NULL ? bw_catalog_item_json(p, "openclaw", &len) : NULL;
	ok(s != NULL && strstr(s, "\"port\":18789") != NULL &&
	       strstr(s, "\"binaries\":[{\"path\":\"node\"}]") != NULL,
	   "openclaw: typed port, binaries as {path}");
	s = t != NULL ? bw_catalog_item_json(t, "data-science", &len) : NULL;
	ok(s != NULL && strstr(s, "\"gpu\":true") != NULL, "data-science: gpu is a boolean");
	bw_catalog_free(p);
	bw_catalog_free(t);
}

int main(void)
{
	plan(77);
	test_scalars();
	test_structure();
	test_hostile();
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_scan_presets();
	test_scan_templates();
	rm_all();
	test_bundled();
	return done();
}
