/* catalog: the bundled policy presets (<data_dir>/presets/NAME.yaml) and sandbox templates
 * (<data_dir>/templates/NAME.yaml). Each directory is read once per process, on first use, into an
 * immutable catalog whose API responses are rendered at load time; the process cache below is
 * its one owner. Lookups only ever compare a requested name with the names found on disk; no
 * path is built from request text. Unreadable, invalid or non-mapping files are skipped with a
 * warning, as the reference does. */
#ifndef BW_CATALOG_H
#define BW_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "lib/conf.h"

enum bw_catalog_kind { BW_CATALOG_PRESETS = 0, BW_CATALOG_TEMPLATES = 1 };

#define BW_CATALOG_MAX_NAME 64
#define BW_CATALOG_MAX_FILES 256

struct bw_catalog;

/* True when name is a possible catalog name: 1-64 of [a-z0-9._-], not starting with '.'. */
bool bw_catalog_name_ok(const char *name);

/* Reads every <name>.yaml directly in dir (a missing dir gives an empty catalog). Returns a new
 * catalog the caller frees with bw_catalog_free, or NULL when out of memory. */
struct bw_catalog *bw_catalog_scan(const char *dir, enum bw_catalog_kind kind);
void bw_catalog_free(struct bw_catalog *c);

size_t bw_catalog_count(const struct bw_catalog *c);

/* The list response (a JSON array sorted by file name), borrowed from c. */
const char *bw_catalog_list_json(const struct bw_catalog *c, size_t *len);

/* The item response for name ({name, description, policy} or {name, description, category,
 * sandbox}), borrowed from c; NULL when name is not in the catalog. */
const char *bw_catalog_item_json(const struct bw_catalog *c, const char *name, size_t *len);

/* The same item as a new json-c object the caller releases with json_object_put; NULL when
 * unknown or out of memory. */
struct json_object *bw_catalog_item(const struct bw_catalog *c, const char *name);

/* The process-wide catalog of kind, loaded from conf->data_dir on the first call (thread-safe)
 * and kept for the life of the process; a SIGHUP reload gets new workers and so a fresh read.
 * NULL only when out of memory. */
const struct bw_catalog *bw_catalog_get(const struct bw_conf *conf, enum bw_catalog_kind kind);

#endif
