/* polcore: see polcore.h. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/pbjson.h"
#include "services/polcore.h"

#define D(x) (&openshell__sandbox__v1__##x##__descriptor)

static void say(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t n, const char *fmt, ...)
{
	if (why == NULL || n == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
}

/* ---- host patterns ---------------------------------------------------------------------- */

static bool label_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_';
}

bool bw_pol_host_ok(const char *host, char *why, size_t whylen)
{
	size_t len = host != NULL ? strlen(host) : 0;
	if (len == 0) {
		say(why, whylen, "endpoint host is required");
		return false;
	}
	if (len > 253) {
		say(why, whylen, "host pattern is longer than 253 characters");
		return false;
	}
	/* IP literals (v4, or v6 in brackets or bare) carry no wildcard to check. */
	if (strspn(host, "0123456789abcdefABCDEF:.[]") == len && strchr(host, '*') == NULL)
		return true;
	if (strcmp(host, "*") == 0 || strcmp(host, "**") == 0) {
		say(why, whylen,
		    "host pattern '%s' matches every host; name a domain such as "
		    "'*.example.com'",
		    host);
		return false;
	}
	size_t labels = 0;
	const char *p = host;
	while (1) {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63) {
			say(why, whylen, "host pattern '%.253s' has an empty or over-long label",
			    host);
			return false;
		}
		for (size_t i = 0; i < l; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c == '*' && labels == 0)
				continue;
			if (c == '*') {
				say(why, whylen,
				    "host pattern '%.253s': a wildcard may only appear in the "
				    "leftmost label",
				    host);
				return false;
			}
			if (!label_char(c)) {
				say(why, whylen,
				    "host pattern '%.253s' contains the character '%c' (0x%02x)",
				    host, isprint(c) ? c : '?', c);
				return false;
			}
		}
		labels++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	if (strchr(host, '*') != NULL && labels <= 2) {
		say(why, whylen,
		    "host pattern '%.253s' wildcards at the TLD level; use a more specific "
		    "suffix like '*.example.com'",
		    host);
		return false;
	}
	return true;
}

bool bw_pol_rule_key_ok(const char *key)
{
	size_t n = key != NULL ? strlen(key) : 0;
	if (n == 0 || n > BW_POL_MAX_KEY)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
			return false;
	return true;
}

/* ---- JSON -> protobuf ------------------------------------------------------------------- */

struct conv {
	struct bw_arena *a;
	char *why;
	size_t whylen;
};

static enum bw_err msg_from_json(struct conv *c, const ProtobufCMessageDescriptor *d,
				 struct json_object *obj, const char *path, int depth,
				 ProtobufCMessage **out);

/* protobuf-c has no map flag: a map field is a repeated message whose type is a generated
 * "...Entry" with key = 1 and value = 2. */
static bool is_map_entry(const ProtobufCMessageDescriptor *d)
{
	size_t n = strlen(d->name);
	return d->n_fields == 2 && n > 5 && strcmp(d->name + n - 5, "Entry") == 0 &&
	       d->fields[0].id == 1 && d->fields[1].id == 2;
}

static const char *short_key(struct bw_arena *a, const char *k)
{
	size_t n = strlen(k);
	return n <= 64 ? k : bw_arena_printf(a, "%.60s...", k);
}

static enum bw_err scalar_from_json(struct conv *c, const ProtobufCFieldDescriptor *f,
				    struct json_object *v, const char *path, void *slot)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		if (!json_object_is_type(v, json_type_string)) {
			say(c->why, c->whylen, "'%s' must be a string", path);
			return BW_EINVAL;
		}
		size_t n = (size_t)json_object_get_string_len(v);
		if (n > BW_POL_MAX_STRING) {
			say(c->why, c->whylen, "'%s' is longer than %d bytes", path,
			    BW_POL_MAX_STRING);
			return BW_EINVAL;
		}
		char *s = bw_arena_strndup(c->a, json_object_get_string(v), n);
		if (s == NULL)
			return BW_ENOMEM;
		*(char **)slot = s;
		return BW_OK;
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_object_is_type(v, json_type_boolean)) {
			say(c->why, c->whylen, "'%s' must be a boolean", path);
			return BW_EINVAL;
		}
		*(protobuf_c_boolean *)slot = json_object_get_boolean(v) ? 1 : 0;
		return BW_OK;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64: {
		if (!json_object_is_type(v, json_type_int)) {
			say(c->why, c->whylen, "'%s' must be an integer", path);
			return BW_EINVAL;
		}
		int64_t i = json_object_get_int64(v);
		bool neg_ok = f->type == PROTOBUF_C_TYPE_INT32 || f->type == PROTOBUF_C_TYPE_INT64;
		if ((!neg_ok && i < 0) ||
		    ((f->type == PROTOBUF_C_TYPE_UINT32) && i > (int64_t)UINT32_MAX) ||
		    ((f->type == PROTOBUF_C_TYPE_INT32) && (i > INT32_MAX || i < INT32_MIN))) {
			say(c->why, c->whylen, "'%s' is out of range", path);
			return BW_EINVAL;
		}
		if (f->type == PROTOBUF_C_TYPE_UINT32)
			*(uint32_t *)slot = (uint32_t)i;
		else if (f->type == PROTOBUF_C_TYPE_INT32)
			*(int32_t *)slot = (int32_t)i;
		else if (f->type == PROTOBUF_C_TYPE_INT64)
			*(int64_t *)slot = i;
		else
			*(uint64_t *)slot = (uint64_t)i;
		return BW_OK;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return BW_EINVAL; /* handled by the caller */
	default:
		say(c->why, c->whylen, "'%s' has a type this server does not accept", path);
		return BW_EINVAL;
	}
}

static size_t slot_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
		return 8;
	default:
		return 4;
	}
}

static enum bw_err value_from_json(struct conv *c, const ProtobufCFieldDescriptor *f,
				   struct json_object *v, const char *path, int depth, void *slot)
{
	if (f->type != PROTOBUF_C_TYPE_MESSAGE)
		return scalar_from_json(c, f, v, path, slot);
	const ProtobufCMessageDescriptor *sub = f->descriptor;
	/* A binary written as a bare path (the reference's openclaw preset does this). */
	if (sub == D(network_binary) && json_object_is_type(v, json_type_string)) {
		struct json_object *wrap = json_object_new_object();
		if (wrap == NULL)
			return BW_ENOMEM;
		json_object_object_add(wrap, "path", json_object_get(v));
		enum bw_err rc =
		    msg_from_json(c, sub, wrap, path, depth + 1, (ProtobufCMessage **)slot);
		json_object_put(wrap);
		return rc;
	}
	return msg_from_json(c, sub, v, path, depth + 1, (ProtobufCMessage **)slot);
}

static enum bw_err map_from_json(struct conv *c, const ProtobufCFieldDescriptor *f,
				 struct json_object *v, const char *path, int depth, void *base)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	if (!json_object_is_type(v, json_type_object)) {
		say(c->why, c->whylen, "'%s' must be a mapping", path);
		return BW_EINVAL;
	}
	size_t n = (size_t)json_object_object_length(v);
	if (n > BW_POL_MAX_ITEMS) {
		say(c->why, c->whylen, "'%s' has more than %d entries", path, BW_POL_MAX_ITEMS);
		return BW_EINVAL;
	}
	ProtobufCMessage **arr = bw_arena_zalloc(c->a, (n ? n : 1) * sizeof(*arr));
	if (arr == NULL)
		return BW_ENOMEM;
	size_t i = 0;
	json_object_object_foreach(v, key, val)
	{
		const char *kp = bw_arena_printf(c->a, "%s.%s", path, short_key(c->a, key));
		if (kp == NULL)
			return BW_ENOMEM;
		if (!bw_pol_rule_key_ok(key)) {
			say(c->why, c->whylen,
			    "'%s': keys must be 1..%d bytes without control characters", kp,
			    BW_POL_MAX_KEY);
			return BW_EINVAL;
		}
		ProtobufCMessage *e = bw_arena_zalloc(c->a, ed->sizeof_message);
		if (e == NULL)
			return BW_ENOMEM;
		ed->message_init(e);
		const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
		char *ks = bw_arena_strdup(c->a, key);
		if (ks == NULL)
			return BW_ENOMEM;
		*(char **)((char *)e + kf->offset) = ks;
		if (val == NULL) {
			say(c->why, c->whylen, "'%s' must not be null", kp);
			return BW_EINVAL;
		}
		enum bw_err rc = value_from_json(c, vf, val, kp, depth, (char *)e + vf->offset);
		if (rc != BW_OK)
			return rc;
		arr[i++] = e;
	}
	*(size_t *)((char *)base + f->quantifier_offset) = i;
	*(void **)((char *)base + f->offset) = arr;
	return BW_OK;
}

static enum bw_err repeated_from_json(struct conv *c, const ProtobufCFieldDescriptor *f,
				      struct json_object *v, const char *path, int depth,
				      void *base)
{
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor))
		return map_from_json(c, f, v, path, depth, base);
	if (!json_object_is_type(v, json_type_array)) {
		say(c->why, c->whylen, "'%s' must be a list", path);
		return BW_EINVAL;
	}
	size_t n = json_object_array_length(v), sz = slot_size(f);
	if (n > BW_POL_MAX_ITEMS) {
		say(c->why, c->whylen, "'%s' has more than %d items", path, BW_POL_MAX_ITEMS);
		return BW_EINVAL;
	}
	char *arr = bw_arena_zalloc(c->a, (n ? n : 1) * sz);
	if (arr == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *ip = bw_arena_printf(c->a, "%s[%zu]", path, i);
		struct json_object *item = json_object_array_get_idx(v, i);
		if (ip == NULL)
			return BW_ENOMEM;
		if (item == NULL) {
			say(c->why, c->whylen, "'%s' must not be null", ip);
			return BW_EINVAL;
		}
		enum bw_err rc = value_from_json(c, f, item, ip, depth, arr + i * sz);
		if (rc != BW_OK)
			return rc;
	}
	*(size_t *)((char *)base + f->quantifier_offset) = n;
	*(void **)((char *)base + f->offset) = arr;
	return BW_OK;
}

static enum bw_err msg_from_json(struct conv *c, const ProtobufCMessageDescriptor *d,
				 struct json_object *obj, const char *path, int depth,
				 ProtobufCMessage **out)
{
	if (depth > BW_POL_MAX_DEPTH) {
		say(c->why, c->whylen, "'%s' is nested too deeply", path);
		return BW_EINVAL;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		say(c->why, c->whylen, "'%s' must be a mapping", path[0] ? path : "policy");
		return BW_EINVAL;
	}
	ProtobufCMessage *m = bw_arena_zalloc(c->a, d->sizeof_message);
	if (m == NULL)
		return BW_ENOMEM;
	d->message_init(m);
	json_object_object_foreach(obj, key, val)
	{
		const char *name = key;
		if (d == D(sandbox_policy) && strcmp(key, "filesystem_policy") == 0)
			name = "filesystem";
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(d, name);
		const char *fp =
		    bw_arena_printf(c->a, "%s%s%s", path, path[0] ? "." : "", short_key(c->a, key));
		if (fp == NULL)
			return BW_ENOMEM;
		if (f == NULL || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0) {
			say(c->why, c->whylen, "unknown field '%s'", fp);
			return BW_EINVAL;
		}
		if (val == NULL)
			continue; /* null = absent */
		enum bw_err rc;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			rc = repeated_from_json(c, f, val, fp, depth, m);
		else
			rc = value_from_json(c, f, val, fp, depth, (char *)m + f->offset);
		if (rc != BW_OK)
			return rc;
	}
	*out = m;
	return BW_OK;
}

static enum bw_err check_hosts(const Openshell__Sandbox__V1__NetworkPolicyRule *r, const char *key,
			       char *why, size_t whylen)
{
	char msg[400];
	for (size_t i = 0; i < r->n_endpoints; i++) {
		if (!bw_pol_host_ok(r->endpoints[i]->host, msg, sizeof(msg))) {
			say(why, whylen, "network rule '%.64s': %s", key, msg);
			return BW_EINVAL;
		}
	}
	return BW_OK;
}

enum bw_err bw_pol_from_json(struct json_object *obj, struct bw_arena *a,
			     Openshell__Sandbox__V1__SandboxPolicy **out, char *why, size_t whylen)
{
	struct conv c = {a, why, whylen};
	ProtobufCMessage *m = NULL;
	enum bw_err rc = msg_from_json(&c, D(sandbox_policy), obj, "", 0, &m);
	if (rc != BW_OK)
		return rc;
	Openshell__Sandbox__V1__SandboxPolicy *p = (Openshell__Sandbox__V1__SandboxPolicy *)m;
	for (size_t i = 0; i < p->n_network_policies; i++) {
		rc = check_hosts(p->network_policies[i]->value, p->network_policies[i]->key, why,
				 whylen);
		if (rc != BW_OK)
			return rc;
	}
	*out = p;
	return BW_OK;
}

enum bw_err bw_pol_rule_from_json(struct json_object *obj, const char *key, struct bw_arena *a,
				  Openshell__Sandbox__V1__NetworkPolicyRule **out, char *why,
				  size_t whylen)
{
	struct conv c = {a, why, whylen};
	ProtobufCMessage *m = NULL;
	enum bw_err rc = msg_from_json(&c, D(network_policy_rule), obj, "rule", 1, &m);
	if (rc != BW_OK)
		return rc;
	Openshell__Sandbox__V1__NetworkPolicyRule *r =
	    (Openshell__Sandbox__V1__NetworkPolicyRule *)m;
	rc = check_hosts(r, key, why, whylen);
	if (rc == BW_OK)
		*out = r;
	return rc;
}

/* ---- protobuf -> JSON ------------------------------------------------------------------- */

/* The fields the reference shows even when empty (§3.8 of the gRPC notes). */
static bool always_shown(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f)
{
	if (d == D(sandbox_policy))
		return f->id == 1;
	if (d == D(filesystem_policy) || d == D(process_policy) || d == D(landlock_policy) ||
	    d == D(network_policy_rule))
		return true;
	if (d == D(network_endpoint))
		return f->id == 1 || f->id == 2;
	if (d == D(network_binary))
		return f->id == 1;
	if (d == D(l7_allow) || d == D(l7_deny_rule))
		return f->id <= 3;
	return false;
}

struct json_object *bw_pol_to_json(const ProtobufCMessage *msg)
{
	return msg != NULL ? bw_pbjson_from_shown(msg, always_shown) : NULL;
}

/* ---- canonical JSON --------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct json_object *bw_pol_sorted(struct json_object *v)
{
	if (v == NULL)
		return NULL;
	if (json_object_is_type(v, json_type_array)) {
		struct json_object *out = json_object_new_array();
		size_t n = json_object_array_length(v);
		for (size_t i = 0; out != NULL && i < n; i++)
			json_object_array_add(out, bw_pol_sorted(json_object_array_get_idx(v, i)));
		return out;
	}
	if (!json_object_is_type(v, json_type_object))
		return json_object_get(v);
	size_t n = (size_t)json_object_object_length(v), i = 0;
	char **keys = calloc(n ? n : 1, sizeof(*keys));
	struct json_object *out = json_object_new_object();
	if (keys == NULL || out == NULL) {
		free(keys);
		json_object_put(out);
		return NULL;
	}
	json_object_object_foreach(v, k, val)
	{
		(void)val;
		keys[i++] = k;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++) {
		json_object_object_add(out, keys[i],
				       bw_pol_sorted(json_object_object_get(v, keys[i])));
	}
	free(keys);
	return out;
}

bool bw_pol_json_equal(struct json_object *a, struct json_object *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	struct json_object *sa = bw_pol_sorted(a), *sb = bw_pol_sorted(b);
	bool eq = sa != NULL && sb != NULL &&
		  strcmp(json_object_to_json_string_ext(sa, JSON_C_TO_STRING_PLAIN),
			 json_object_to_json_string_ext(sb, JSON_C_TO_STRING_PLAIN)) == 0;
	json_object_put(sa);
	json_object_put(sb);
	return eq;
}

/* ---- diff --------------------------------------------------------------------------------- */

static struct json_object *member(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;
	if (o != NULL && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, k, &v);
	return v;
}

static const char *str_member(struct json_object *o, const char *k)
{
	struct json_object *v = member(o, k);
	return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
								     : "";
}

static bool in_array(struct json_object *arr, const char *s)
{
	size_t n = arr != NULL && json_object_is_type(arr, json_type_array)
		       ? json_object_array_length(arr)
		       : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		if (e != NULL && strcmp(json_object_get_string(e), s) == 0)
			return true;
	}
	return false;
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_object_get_string(*(struct json_object *const *)a),
		      json_object_get_string(*(struct json_object *const *)b));
}

/* Sorted, de-duplicated strings of a that are not in b. */
static struct json_object *minus(struct json_object *a, struct json_object *b)
{
	struct json_object *out = json_object_new_array();
	size_t n =
	    a != NULL && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	for (size_t i = 0; out != NULL && i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(a, i));
		if (s != NULL && !in_array(b, s) && !in_array(out, s))
			json_object_array_add(out, json_object_new_string(s));
	}
	if (out != NULL)
		json_object_array_sort(out, cmp_json_str);
	return out;
}

static void add_list(struct json_object *o, const char *k, struct json_object *list)
{
	if (list != NULL && json_object_array_length(list) > 0)
		json_object_object_add(o, k, list);
	else
		json_object_put(list);
}

static struct json_object *pair(struct json_object *a, struct json_object *b)
{
	struct json_object *p = json_object_new_array();
	if (p != NULL) {
		json_object_array_add(p, a);
		json_object_array_add(p, b);
	}
	return p;
}

static struct json_object *fs_diff(struct json_object *o, struct json_object *n)
{
	struct json_object *d = json_object_new_object();
	if (d == NULL)
		return NULL;
	struct json_object *oro = member(o, "read_only"), *nro = member(n, "read_only");
	struct json_object *orw = member(o, "read_write"), *nrw = member(n, "read_write");
	add_list(d, "read_only_added", minus(nro, oro));
	add_list(d, "read_only_removed", minus(oro, nro));
	add_list(d, "read_write_added", minus(nrw, orw));
	add_list(d, "read_write_removed", minus(orw, nrw));
	struct json_object *ow = member(o, "include_workdir"), *nw = member(n, "include_workdir");
	bool bo = ow != NULL && json_object_get_boolean(ow),
	     bn = nw != NULL && json_object_get_boolean(nw);
	if (bo != bn)
		json_object_object_add(
		    d, "include_workdir_changed",
		    pair(json_object_new_boolean(bo), json_object_new_boolean(bn)));
	return d;
}

static void changed_str(struct json_object *d, const char *name, struct json_object *o,
			struct json_object *n, const char *field)
{
	const char *a = str_member(o, field), *b = str_member(n, field);
	if (strcmp(a, b) != 0)
		json_object_object_add(d, name,
				       pair(json_object_new_string(a), json_object_new_string(b)));
}

static int cmp_endpoint(const void *x, const void *y)
{
	struct json_object *a = *(struct json_object *const *)x,
			   *b = *(struct json_object *const *)y;
	int c = strcmp(str_member(a, "host"), str_member(b, "host"));
	if (c != 0)
		return c;
	struct json_object *pa = member(a, "port"), *pb = member(b, "port");
	int64_t ia = pa != NULL ? json_object_get_int64(pa) : 0;
	int64_t ib = pb != NULL ? json_object_get_int64(pb) : 0;
	return ia < ib ? -1 : ia > ib;
}

static int cmp_binary(const void *x, const void *y)
{
	struct json_object *a = *(struct json_object *const *)x,
			   *b = *(struct json_object *const *)y;
	return strcmp(str_member(a, "path"), str_member(b, "path"));
}

/* The rule merge mode and the diff both compare: name, endpoints sorted by (host, port),
 * binaries sorted by path; everything else inside an endpoint keeps its order. */
static struct json_object *normal_rule(struct json_object *r)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string(str_member(r, "name")));
	const char *lists[] = {"endpoints", "binaries"};
	for (int i = 0; i < 2; i++) {
		struct json_object *src = member(r, lists[i]);
		struct json_object *copy = json_object_new_array();
		size_t n = src != NULL && json_object_is_type(src, json_type_array)
			       ? json_object_array_length(src)
			       : 0;
		for (size_t k = 0; copy != NULL && k < n; k++)
			json_object_array_add(copy,
					      json_object_get(json_object_array_get_idx(src, k)));
		if (copy != NULL)
			json_object_array_sort(copy, i == 0 ? cmp_endpoint : cmp_binary);
		json_object_object_add(o, lists[i], copy);
	}
	return o;
}

static bool rules_equal(struct json_object *a, struct json_object *b)
{
	struct json_object *na = normal_rule(a), *nb = normal_rule(b);
	bool eq = na != NULL && nb != NULL && bw_pol_json_equal(na, nb);
	json_object_put(na);
	json_object_put(nb);
	return eq;
}

static struct json_object *sorted_keys(struct json_object *o)
{
	struct json_object *arr = json_object_new_array();
	if (arr == NULL || o == NULL || !json_object_is_type(o, json_type_object))
		return arr;
	json_object_object_foreach(o, k, v)
	{
		(void)v;
		json_object_array_add(arr, json_object_new_string(k));
	}
	json_object_array_sort(arr, cmp_json_str);
	return arr;
}

static struct json_object *net_diff(struct json_object *o, struct json_object *n)
{
	struct json_object *d = json_object_new_object();
	struct json_object *added = json_object_new_array(), *removed = json_object_new_array(),
			   *changed = json_object_new_array();
	struct json_object *keys = sorted_keys(n);
	struct json_object *okeys = sorted_keys(o);
	for (size_t i = 0; keys != NULL && i < json_object_array_length(keys); i++) {
		const char *k = json_object_get_string(json_object_array_get_idx(keys, i));
		struct json_object *ov = member(o, k);
		if (ov == NULL)
			json_object_array_add(added, json_object_new_string(k));
		else if (!rules_equal(ov, member(n, k)))
			json_object_array_add(changed, json_object_new_string(k));
	}
	for (size_t i = 0; okeys != NULL && i < json_object_array_length(okeys); i++) {
		const char *k = json_object_get_string(json_object_array_get_idx(okeys, i));
		if (member(n, k) == NULL)
			json_object_array_add(removed, json_object_new_string(k));
	}
	json_object_put(keys);
	json_object_put(okeys);
	if (d != NULL) {
		json_object_object_add(d, "added", added);
		json_object_object_add(d, "removed", removed);
		json_object_object_add(d, "changed", changed);
	}
	return d;
}

struct json_object *bw_pol_diff(struct json_object *old_pol, struct json_object *new_pol)
{
	struct json_object *d = json_object_new_object();
	if (d == NULL)
		return NULL;
	json_object_object_add(
	    d, "filesystem", fs_diff(member(old_pol, "filesystem"), member(new_pol, "filesystem")));
	struct json_object *p = json_object_new_object();
	changed_str(p, "run_as_user_changed", member(old_pol, "process"),
		    member(new_pol, "process"), "run_as_user");
	changed_str(p, "run_as_group_changed", member(old_pol, "process"),
		    member(new_pol, "process"), "run_as_group");
	json_object_object_add(d, "process", p);
	struct json_object *l = json_object_new_object();
	changed_str(l, "compatibility_changed", member(old_pol, "landlock"),
		    member(new_pol, "landlock"), "compatibility");
	json_object_object_add(d, "landlock", l);
	json_object_object_add(
	    d, "network_policies",
	    net_diff(member(old_pol, "network_policies"), member(new_pol, "network_policies")));
	return d;
}

static int64_t count_fs(struct json_object *fs)
{
	int64_t c = 0;
	json_object_object_foreach(fs, k, v)
	{
		c += strcmp(k, "include_workdir_changed") == 0
			 ? 1
			 : (int64_t)json_object_array_length(v);
	}
	return c;
}

struct json_object *bw_pol_diff_summary(struct json_object *diff)
{
	struct json_object *s = json_object_new_object();
	if (s == NULL)
		return NULL;
	int64_t fs = count_fs(member(diff, "filesystem"));
	int64_t pr = json_object_object_length(member(diff, "process"));
	int64_t ll = json_object_object_length(member(diff, "landlock"));
	struct json_object *net = member(diff, "network_policies");
	int64_t nw = (int64_t)(json_object_array_length(member(net, "added")) +
			       json_object_array_length(member(net, "removed")) +
			       json_object_array_length(member(net, "changed")));
	json_object_object_add(s, "filesystem", json_object_new_int64(fs));
	json_object_object_add(s, "process", json_object_new_int64(pr));
	json_object_object_add(s, "landlock", json_object_new_int64(ll));
	json_object_object_add(s, "network_policies", json_object_new_int64(nw));
	json_object_object_add(s, "total", json_object_new_int64(fs + pr + ll + nw));
	return s;
}

bool bw_pol_diff_empty(struct json_object *diff)
{
	struct json_object *s = bw_pol_diff_summary(diff);
	struct json_object *t = member(s, "total");
	bool empty = t != NULL && json_object_get_int64(t) == 0;
	json_object_put(s);
	return empty;
}

/* ---- merge operations --------------------------------------------------------------------- */

static struct json_object *op(const char *type, const char *name, struct json_object *rule)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "rule_name", json_object_new_string(name));
	if (rule != NULL)
		json_object_object_add(o, "rule", json_object_get(rule));
	return o;
}

static int64_t version_of(struct json_object *p)
{
	struct json_object *v = member(p, "version");
	return v != NULL && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

struct json_object *bw_pol_merge_ops(struct json_object *cur, struct json_object *target,
				     const char **section)
{
	/* The static sections are compared as the diff compares them, so merge mode refuses
	 * exactly what the diff reports outside network_policies. */
	struct json_object *d = bw_pol_diff(cur, target);
	if (d == NULL)
		return NULL;
	static const char *const statics[] = {"filesystem", "process", "landlock"};
	for (int i = 0; i < 3; i++) {
		if (json_object_object_length(member(d, statics[i])) > 0) {
			*section = statics[i];
			json_object_put(d);
			return NULL;
		}
	}
	json_object_put(d);
	int64_t vc = version_of(cur), vt = version_of(target);
	if (vc != 0 && vt != 0 && vc != vt) {
		*section = "version";
		return NULL;
	}
	struct json_object *cn = member(cur, "network_policies"),
			   *tn = member(target, "network_policies");
	struct json_object *diff = net_diff(cn, tn);
	struct json_object *ops = json_object_new_array();
	if (diff == NULL || ops == NULL) {
		json_object_put(diff);
		json_object_put(ops);
		return NULL;
	}
	struct json_object *removed = member(diff, "removed"), *changed = member(diff, "changed"),
			   *added = member(diff, "added");
	for (size_t i = 0; i < json_object_array_length(removed); i++)
		json_object_array_add(
		    ops, op("remove_rule",
			    json_object_get_string(json_object_array_get_idx(removed, i)), NULL));
	for (size_t i = 0; i < json_object_array_length(changed); i++) {
		const char *k = json_object_get_string(json_object_array_get_idx(changed, i));
		json_object_array_add(ops, op("remove_rule", k, NULL));
		json_object_array_add(ops, op("add_rule", k, member(tn, k)));
	}
	for (size_t i = 0; i < json_object_array_length(added); i++) {
		const char *k = json_object_get_string(json_object_array_get_idx(added, i));
		json_object_array_add(ops, op("add_rule", k, member(tn, k)));
	}
	json_object_put(diff);
	return ops;
}
