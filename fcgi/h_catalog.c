/* h_catalog: the global policy presets (/api/policies/presets...) and sandbox templates
 * (/api/sandbox-templates...). Responses come pre-rendered from services/catalog; a name that
 * is not in the catalog, whatever it looks like, is the reference's 404. */
#include "config.h"

#include <string.h>

#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "services/catalog.h"

/* Names are echoed in the 404 detail as the reference does, but a long one only up to
 * ECHO_MAX bytes, cut on a character boundary so the detail stays valid UTF-8. */
#define ECHO_MAX 200

static void reply_not_found(struct bw_req *req, enum bw_catalog_kind kind, const char *name)
{
	const char *what = kind == BW_CATALOG_PRESETS ? "Preset" : "Template";
	size_t n = strlen(name);
	if (n <= ECHO_MAX) {
		bw_reply_problem(req, 404, NULL, "%s '%s' not found", what, name);
		return;
	}
	n = ECHO_MAX;
	while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
		n--;
	bw_reply_problem(req, 404, NULL, "%s '%.*s...' not found", what, (int)n, name);
}

static void reply_list(struct bw_req *req, enum bw_catalog_kind kind)
{
	const struct bw_catalog *c = bw_catalog_get(req->svc.conf, kind);
	size_t len = 0;
	if (c == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	const char *s = bw_catalog_list_json(c, &len);
	bw_reply(req, 200, "application/json", s, len);
}

static void reply_item(struct bw_req *req, enum bw_catalog_kind kind, const char *name)
{
	const struct bw_catalog *c = bw_catalog_get(req->svc.conf, kind);
	size_t len = 0;
	if (c == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	const char *s = bw_catalog_item_json(c, name, &len);
	if (s == NULL) {
		reply_not_found(req, kind, name);
		return;
	}
	bw_reply(req, 200, "application/json", s, len);
}

void bw_h_presets_list(struct bw_req *req)
{
	reply_list(req, BW_CATALOG_PRESETS);
}

void bw_h_preset_get(struct bw_req *req)
{
	reply_item(req, BW_CATALOG_PRESETS, bw_req_param(req, "preset"));
}

void bw_h_templates_list(struct bw_req *req)
{
	reply_list(req, BW_CATALOG_TEMPLATES);
}

void bw_h_template_get(struct bw_req *req)
{
	reply_item(req, BW_CATALOG_TEMPLATES, bw_req_param(req, "name"));
}
