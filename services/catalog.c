/* catalog: see catalog.h. Scanning builds json-c trees and renders them to text; only the text
 * is kept, so the cached catalog is read-only and needs no locking once published (json-c's
 * reference counts are not thread-safe, rendered strings are). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/jsonu.h"
#include "lib/log.h"
#include "services/catalog.h"
#include "services/yamlj.h"

#define SUFFIX ".yaml"
#define SUFFIX_LEN (sizeof(SUFFIX) - 1)

struct entry {
	char stem[BW_CATALOG_MAX_NAME + 1];
	char *item; /* rendered item response */
	size_t item_len;
};

struct bw_catalog {
	enum bw_catalog_kind kind;
	struct entry *v;
	size_t n;
	char *list; /* rendered list response */
	size_t list_len;
};

bool bw_catalog_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > BW_CATALOG_MAX_NAME || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
		      ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

/* Reads a regular file (never through a symlink) of at most BW_YAML_MAX_BYTES; returns a new
 * malloc'ed buffer the caller frees, or NULL with why set. */
static char *read_small_file(int dirfd, const char *file, size_t *len, const char **why)
{
	char *buf = NULL;
	int fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0) {
		*why = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto out;
	}
	if (st.st_size > BW_YAML_MAX_BYTES) {
		*why = "file too large";
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		*why = "out of memory";
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got != (size_t)st.st_size) {
		*why = "short read";
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[got] = '\0';
	*len = got;
out:
	close(fd);
	return buf;
}

/* The string field key of meta, or def when meta lacks it or it is null; -1 when not a string. */
static int meta_string(struct json_object *meta, const char *key, const char *def, const char **out)
{
	struct json_object *v = NULL;
	*out = def;
	if (meta == NULL || !json_object_object_get_ex(meta, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*out = json_object_get_string(v);
	return 0;
}

struct built {
	struct json_object *item, *listed;
};

/* Builds the item and list objects of one parsed file; returns why it is invalid, or NULL. */
static const char *build(enum bw_catalog_kind kind, struct json_object *doc, const char *stem,
			 const char *file, struct built *b)
{
	const char *meta_key = kind == BW_CATALOG_PRESETS ? "preset" : "template";
	struct json_object *meta = NULL, *sandbox = NULL;
	const char *name, *description, *category = "";
	if (doc == NULL || !json_object_is_type(doc, json_type_object))
		return "the document is not a mapping";
	if (json_object_object_get_ex(doc, meta_key, &meta) && meta != NULL &&
	    !json_object_is_type(meta, json_type_object))
		return kind == BW_CATALOG_PRESETS ? "'preset' is not a mapping"
						  : "'template' is not a mapping";
	if (meta_string(meta, "name", stem, &name) != 0 ||
	    meta_string(meta, "description", "", &description) != 0 ||
	    (kind == BW_CATALOG_TEMPLATES && meta_string(meta, "category", "", &category) != 0))
		return "name, description and category must be strings";
	if (kind == BW_CATALOG_TEMPLATES && json_object_object_get_ex(doc, "sandbox", &sandbox) &&
	    sandbox != NULL && !json_object_is_type(sandbox, json_type_object))
		return "'sandbox' is not a mapping";

	b->item = json_object_new_object();
	b->listed = json_object_new_object();
	if (b->item == NULL || b->listed == NULL)
		return "out of memory";
	json_object_object_add(b->item, "name", json_object_new_string(name));
	json_object_object_add(b->item, "description", json_object_new_string(description));
	json_object_object_add(b->listed, "name", json_object_new_string(name));
	json_object_object_add(b->listed, "description", json_object_new_string(description));
	if (kind == BW_CATALOG_TEMPLATES) {
		json_object_object_add(b->item, "category", json_object_new_string(category));
		json_object_object_add(b->listed, "category", json_object_new_string(category));
		json_object_object_add(b->item, "sandbox",
				       sandbox != NULL ? json_object_get(sandbox)
						       : json_object_new_object());
	} else {
		struct json_object *policy = json_object_new_object();
		if (policy == NULL)
			return "out of memory";
		json_object_object_foreach(doc, k, v)
		{
			if (strcmp(k, meta_key) != 0)
				json_object_object_add(policy, k, json_object_get(v));
		}
		json_object_object_add(b->item, "policy", policy);
	}
	json_object_object_add(b->listed, "file", json_object_new_string(file));
	return NULL;
}

static void skip(const char *dir, const char *file, const char *why)
{
	bw_log(BW_LOG_WARN, "catalog", NULL, "skipping %s/%s: %s", dir, file, why);
}

/* Parses one file into entry e and appends its list object to list; false when skipped. */
static bool load_one(struct bw_catalog *c, int dirfd, const char *dir, const char *file,
		     struct json_object *list, struct entry *e)
{
	bool ok = false;
	size_t len = 0, stem_len = strlen(file) - SUFFIX_LEN;
	const char *why = NULL;
	char err[200];
	struct json_object *doc = NULL;
	struct built b = {NULL, NULL};
	memcpy(e->stem, file, stem_len);
	e->stem[stem_len] = '\0';
	char *text = read_small_file(dirfd, file, &len, &why);
	if (text == NULL)
		goto out;
	enum bw_err rc = bw_yaml_to_json(text, len, &doc, err, sizeof(err));
	if (rc != BW_OK) {
		why = err;
		goto out;
	}
	why = build(c->kind, doc, e->stem, file, &b);
	if (why != NULL)
		goto out;
	size_t n = 0;
	const char *s = bw_json_str(b.item, &n);
	e->item = s != NULL ? strndup(s, n) : NULL;
	if (e->item == NULL || json_object_array_add(list, b.listed) != 0) {
		why = "out of memory";
		goto out;
	}
	e->item_len = n;
	b.listed = NULL;
	ok = true;
out:
	if (!ok) {
		skip(dir, file, why != NULL ? why : "unknown error");
		free(e->item);
		e->item = NULL;
	}
	json_object_put(b.item);
	json_object_put(b.listed);
	json_object_put(doc);
	free(text);
	return ok;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the file names in dir that can be catalog entries, sorted; returns the count, or
 * -1 when out of memory. names[] entries are malloc'ed. */
static int list_files(DIR *d, const char *dir, char **names)
{
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= SUFFIX_LEN ||
		    strcmp(de->d_name + len - SUFFIX_LEN, SUFFIX) != 0)
			continue;
		char stem[BW_CATALOG_MAX_NAME + 1];
		if (len - SUFFIX_LEN > BW_CATALOG_MAX_NAME) {
			skip(dir, de->d_name, "name too long");
			continue;
		}
		memcpy(stem, de->d_name, len - SUFFIX_LEN);
		stem[len - SUFFIX_LEN] = '\0';
		if (!bw_catalog_name_ok(stem)) {
			skip(dir, de->d_name, "name outside [a-z0-9._-]");
			continue;
		}
		if (n == BW_CATALOG_MAX_FILES) {
			skip(dir, de->d_name, "too many files");
			continue;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL)
			return -1;
		n++;
	}
	qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
	return n;
}

static bool render_list(struct bw_catalog *c, struct json_object *list)
{
	size_t n = 0;
	const char *s = bw_json_str(list, &n);
	c->list = s != NULL ? strndup(s, n) : NULL;
	c->list_len = n;
	return c->list != NULL;
}

struct bw_catalog *bw_catalog_scan(const char *dir, enum bw_catalog_kind kind)
{
	bool ok = false;
	char *names[BW_CATALOG_MAX_FILES];
	int nnames = 0;
	struct json_object *list = json_object_new_array();
	struct bw_catalog *c = calloc(1, sizeof(*c));
	DIR *d = opendir(dir);
	if (c == NULL || list == NULL)
		goto out;
	c->kind = kind;
	if (d == NULL) {
		if (errno != ENOENT)
			bw_log(BW_LOG_WARN, "catalog", NULL, "cannot read %s: %s", dir,
			       strerror(errno));
		else
			bw_log(BW_LOG_WARN, "catalog", NULL, "%s does not exist: empty catalog",
			       dir);
		ok = render_list(c, list);
		goto out;
	}
	nnames = list_files(d, dir, names);
	if (nnames < 0)
		goto out;
	c->v = calloc((size_t)nnames + 1, sizeof(c->v[0]));
	if (c->v == NULL)
		goto out;
	for (int i = 0; i < nnames; i++)
		if (load_one(c, dirfd(d), dir, names[i], list, &c->v[c->n]))
			c->n++;
	ok = render_list(c, list);
	if (ok)
		bw_log(BW_LOG_INFO, "catalog", NULL, "%zu %s loaded from %s", c->n,
		       kind == BW_CATALOG_PRESETS ? "presets" : "templates", dir);
out:
	for (int i = 0; i < nnames; i++)
		free(names[i]);
	if (d != NULL)
		closedir(d);
	json_object_put(list);
	if (!ok) {
		bw_catalog_free(c);
		c = NULL;
	}
	return c;
}

void bw_catalog_free(struct bw_catalog *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].item);
	free(c->v);
	free(c->list);
	free(c);
}

size_t bw_catalog_count(const struct bw_catalog *c)
{
	return c->n;
}

const char *bw_catalog_list_json(const struct bw_catalog *c, size_t *len)
{
	*len = c->list_len;
	return c->list;
}

const char *bw_catalog_item_json(const struct bw_catalog *c, const char *name, size_t *len)
{
	if (name == NULL || !bw_catalog_name_ok(name))
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].stem, name) == 0) {
			*len = c->v[i].item_len;
			return c->v[i].item;
		}
	}
	return NULL;
}

struct json_object *bw_catalog_item(const struct bw_catalog *c, const char *name)
{
	size_t len = 0;
	const char *s = bw_catalog_item_json(c, name, &len);
	if (s == NULL)
		return NULL;
	struct json_object *obj = NULL;
	struct bw_json_error err;
	if (bw_json_parse(s, len, BW_YAML_MAX_DEPTH + 8, &obj, &err) != BW_JSON_OK)
		return NULL;
	return obj;
}

/* The per-process cache: one catalog per kind, published under the mutex and never replaced. */
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct bw_catalog *cache[2];

const struct bw_catalog *bw_catalog_get(const struct bw_conf *conf, enum bw_catalog_kind kind)
{
	struct bw_catalog *c;
	pthread_mutex_lock(&cache_mu);
	if (cache[kind] == NULL) {
		char dir[PATH_MAX + 16];
		snprintf(dir, sizeof(dir), "%s/%s", conf->data_dir,
			 kind == BW_CATALOG_PRESETS ? "presets" : "templates");
		cache[kind] = bw_catalog_scan(dir, kind);
	}
	c = cache[kind];
	pthread_mutex_unlock(&cache_mu);
	return c;
}
