/* sandboxes: see sandboxes.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.pb-c.h"
#include "sandbox.pb-c.h"
#include "services/audit.h"
#include "services/catalog.h"
#include "services/events.h"
#include "services/gwcall.h"
#include "services/gwstream.h"
#include "services/gwversion.h"
#include "services/pbjson.h"
#include "services/registry.h"
#include "services/sandboxes.h"

#define RPC(m) "/openshell.v1.OpenShell/" m

static const char SQL_META_GET[] =
    "SELECT description, labels_json FROM sandbox_meta WHERE gateway_name = ? AND sandbox_name = ?";
static const char SQL_META_ALL[] =
    "SELECT sandbox_name, description, labels_json FROM sandbox_meta WHERE gateway_name = ?";
static const char SQL_META_PUT[] =
    "INSERT INTO sandbox_meta (gateway_name, sandbox_name, description, labels_json, created_at,"
    " updated_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))"
    " ON DUPLICATE KEY UPDATE description = IF(?, VALUES(description), description),"
    " labels_json = IF(?, VALUES(labels_json), labels_json), updated_at = UTC_TIMESTAMP(6)";
static const char SQL_META_DEL[] =
    "DELETE FROM sandbox_meta WHERE gateway_name = ? AND sandbox_name = ?";

const char *bw_sandbox_gw_text(struct bw_svc *svc, const char *gw, const struct bw_gw_result *r)
{
	switch (r->st) {
	case BW_GW_OK:
		return "";
	case BW_GW_NOT_CONNECTED:
		return bw_arena_printf(svc->arena, "Gateway '%s' not connected.", gw);
	case BW_GW_PERMISSION:
		return "Permission denied by the gateway.";
	case BW_GW_UNAUTHENTICATED:
		return "Authentication required. Check gateway credentials.";
	case BW_GW_UNIMPLEMENTED:
		return "Not supported by the current gateway version.";
	default:
		return bw_arena_printf(svc->arena, "gRPC error: %s",
				       r->code_name[0] ? r->code_name : "UNKNOWN");
	}
}

/* SandboxSpec field 9 in either layout: a varint bool (<= v0.0.68) or ResourceRequirements. */
static bool spec_gpu(const Openshell__V1__SandboxSpec *spec)
{
	if (spec == NULL)
		return false;
	for (unsigned i = 0; i < spec->base.n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u = &spec->base.unknown_fields[i];
		if (u->tag != 9)
			continue;
		if (u->wire_type == PROTOBUF_C_WIRE_TYPE_VARINT)
			return u->len > 0 && u->data[0] != 0;
		if (u->wire_type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
			/* length byte(s), then ResourceRequirements: gpu (field 1) present. */
			return u->len >= 2 && u->data[1] == 0x0a;
	}
	return false;
}

static struct json_object *parse_labels(const char *text)
{
	struct json_object *o = text != NULL ? json_tokener_parse(text) : NULL;
	if (o != NULL && json_object_is_type(o, json_type_object))
		return o;
	json_object_put(o);
	return json_object_new_object();
}

/* The API record of a gateway Sandbox with the local metadata (desc/labels text, may be NULL). */
static struct json_object *record(const Openshell__V1__Sandbox *sb, const char *desc,
				  const char *labels, const char **phase)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	const Openshell__Datamodel__V1__ObjectMeta *md = sb->metadata;
	int st_phase = sb->status != NULL ? (int)sb->status->phase : 0;
	int code = st_phase != 0 ? st_phase : (int)sb->phase;
	unsigned pv = sb->status != NULL && sb->status->current_policy_version != 0
			  ? sb->status->current_policy_version
			  : sb->current_policy_version;
	const char *image =
	    sb->spec != NULL && sb->spec->template_ != NULL ? sb->spec->template_->image : NULL;
	const char *ph = bw_gwstream_phase_name((int)sb->phase, st_phase);
	if (phase != NULL)
		*phase = ph;
	json_object_object_add(o, "id", json_object_new_string(md && md->id ? md->id : ""));
	json_object_object_add(o, "name", json_object_new_string(md && md->name ? md->name : ""));
	json_object_object_add(o, "namespace", NULL);
	json_object_object_add(o, "phase", json_object_new_string(ph));
	json_object_object_add(o, "phase_code", json_object_new_int(code));
	json_object_object_add(o, "created_at_ms",
			       json_object_new_int64(md ? (int64_t)md->created_at_ms : 0));
	json_object_object_add(o, "current_policy_version", json_object_new_int64(pv));
	json_object_object_add(o, "image",
			       image && image[0] ? json_object_new_string(image) : NULL);
	json_object_object_add(o, "gpu", json_object_new_boolean(spec_gpu(sb->spec)));
	json_object_object_add(o, "status", NULL);
	json_object_object_add(o, "description", desc ? json_object_new_string(desc) : NULL);
	json_object_object_add(o, "labels", parse_labels(labels));
	return o;
}

static enum bw_err meta_get(struct bw_svc *svc, const char *gw, const char *name, const char **desc,
			    const char **labels)
{
	struct bw_dbres r;
	struct bw_dbarg a[] = {bw_dba_text(gw), bw_dba_text(name)};
	*desc = *labels = NULL;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, SQL_META_GET, a, 2, &r);
	if (rc == BW_OK && r.nrows > 0) {
		*desc = bw_db_cell(&r, 0, 0);
		*labels = bw_db_cell(&r, 0, 1);
	}
	return rc;
}

enum bw_err bw_sandbox_list(struct bw_svc *svc, const char *gw, unsigned limit, unsigned offset,
			    struct json_object **items, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	struct bw_dbres meta;
	ProtobufCMessage *resp = NULL;
	*items = NULL;
	enum bw_err rc = bw_gwcall_target(svc, gw, &creds, &t);
	if (rc != BW_OK)
		return rc;
	struct bw_dbarg a[] = {bw_dba_text(gw)};
	rc = bw_db_query(svc->db, svc->arena, SQL_META_ALL, a, 1, &meta);
	if (rc != BW_OK)
		return rc;
	Openshell__V1__ListSandboxesRequest req = OPENSHELL__V1__LIST_SANDBOXES_REQUEST__INIT;
	req.limit = limit;
	req.offset = offset;
	*res = bw_gw_unary(&t, RPC("ListSandboxes"), &req.base,
			   &openshell__v1__list_sandboxes_response__descriptor, true, &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	Openshell__V1__ListSandboxesResponse *lr = (Openshell__V1__ListSandboxesResponse *)resp;
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < lr->n_sandboxes; i++) {
		const Openshell__V1__Sandbox *sb = lr->sandboxes[i];
		const char *nm = sb->metadata && sb->metadata->name ? sb->metadata->name : "";
		const char *desc = NULL, *labels = NULL;
		for (size_t k = 0; k < meta.nrows; k++) {
			if (strcmp(bw_db_cell(&meta, k, 0), nm) == 0) {
				desc = bw_db_cell(&meta, k, 1);
				labels = bw_db_cell(&meta, k, 2);
				break;
			}
		}
		json_object_array_add(arr, record(sb, desc, labels, NULL));
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	*items = arr;
	return arr != NULL ? BW_OK : BW_ENOMEM;
}

enum bw_err bw_sandbox_get(struct bw_svc *svc, const char *gw, const char *name,
			   struct json_object **out, const char **phase, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	ProtobufCMessage *resp = NULL;
	const char *desc, *labels;
	*out = NULL;
	enum bw_err rc = bw_gwcall_target(svc, gw, &creds, &t);
	if (rc != BW_OK)
		return rc;
	Openshell__V1__GetSandboxRequest req = OPENSHELL__V1__GET_SANDBOX_REQUEST__INIT;
	req.name = (char *)name;
	*res = bw_gw_unary(&t, RPC("GetSandbox"), &req.base,
			   &openshell__v1__sandbox_response__descriptor, true, &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	Openshell__V1__SandboxResponse *sr = (Openshell__V1__SandboxResponse *)resp;
	if (sr->sandbox == NULL) {
		protobuf_c_message_free_unpacked(resp, NULL);
		res->st = BW_GW_NOT_FOUND;
		res->code_name = "NOT_FOUND";
		return BW_OK;
	}
	rc = meta_get(svc, gw, name, &desc, &labels);
	if (rc == BW_OK) {
		*out = record(sr->sandbox, desc, labels, phase);
		if (*out == NULL)
			rc = BW_ENOMEM;
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}

enum bw_err bw_sandbox_meta_put(struct bw_svc *svc, const char *gw, const char *name,
				const char *description, struct json_object *labels)
{
	const char *ltext = NULL;
	if (labels != NULL && json_object_object_length(labels) > 0)
		ltext = json_object_to_json_string_ext(labels, JSON_C_TO_STRING_PLAIN);
	struct bw_dbarg a[] = {bw_dba_text(gw),
			       bw_dba_text(name),
			       bw_dba_text(description),
			       bw_dba_text(ltext),
			       bw_dba_int(description != NULL),
			       bw_dba_int(labels != NULL)};
	return bw_db_exec(svc->db, SQL_META_PUT, a, 6, NULL, NULL);
}

enum bw_err bw_sandbox_update_meta(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				   const char *name, const char *description,
				   struct json_object *labels, struct json_object **out,
				   struct bw_gw_result *res)
{
	struct json_object *cur = NULL;
	*out = NULL;
	enum bw_err rc = bw_sandbox_get(svc, gw, name, &cur, NULL, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	json_object_put(cur);
	rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	if (description != NULL || labels != NULL)
		rc = bw_sandbox_meta_put(svc, gw, name, description, labels);
	if (rc == BW_OK) {
		struct json_object *detail = json_object_new_object();
		if (description != NULL)
			json_object_object_add(detail, "description",
					       json_object_new_string(description));
		if (labels != NULL)
			json_object_object_add(detail, "labels", json_object_get(labels));
		struct bw_audit e = {"sandbox.metadata.update", "sandbox", name, gw, detail};
		rc = bw_audit_write(svc, actor, &e);
		json_object_put(detail);
	}
	if (rc == BW_OK)
		rc = bw_db_commit(svc->db);
	if (rc != BW_OK) {
		bw_db_rollback(svc->db);
		return rc;
	}
	return bw_sandbox_get(svc, gw, name, out, NULL, res);
}

enum bw_err bw_sandbox_delete(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			      const char *name, bool *deleted, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	ProtobufCMessage *resp = NULL;
	*deleted = false;
	enum bw_err rc = bw_gwcall_target(svc, gw, &creds, &t);
	if (rc != BW_OK)
		return rc;
	Openshell__V1__DeleteSandboxRequest req = OPENSHELL__V1__DELETE_SANDBOX_REQUEST__INIT;
	req.name = (char *)name;
	*res = bw_gw_unary(&t, RPC("DeleteSandbox"), &req.base,
			   &openshell__v1__delete_sandbox_response__descriptor, false, &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	*deleted = ((Openshell__V1__DeleteSandboxResponse *)resp)->deleted;
	protobuf_c_message_free_unpacked(resp, NULL);
	if (!*deleted)
		return BW_OK;
	rc = bw_db_begin(svc->db);
	if (rc != BW_OK)
		return rc;
	struct bw_dbarg a[] = {bw_dba_text(gw), bw_dba_text(name)};
	rc = bw_db_exec(svc->db, SQL_META_DEL, a, 2, NULL, NULL);
	struct json_object *data = json_object_new_object();
	json_object_object_add(data, "sandbox", json_object_new_string(name));
	if (rc == BW_OK)
		rc = bw_event_emit(svc, "sandbox.deleted", gw, data);
	if (rc == BW_OK) {
		struct bw_audit e = {"sandbox.delete", "sandbox", name, gw, NULL};
		rc = bw_audit_write(svc, actor, &e);
	}
	json_object_put(data);
	return bw_db_end(svc->db, rc);
}

/* A string map from a JSON object of strings into protobuf-c entries (arena). */
static void **map_of(struct bw_svc *svc, struct json_object *o, size_t *n,
		     const ProtobufCMessageDescriptor *d, size_t key_off, size_t val_off)
{
	*n = 0;
	if (o == NULL || json_object_object_length(o) == 0)
		return NULL;
	size_t cnt = (size_t)json_object_object_length(o), i = 0;
	void **arr = bw_arena_zalloc(svc->arena, cnt * sizeof(void *));
	if (arr == NULL)
		return NULL;
	json_object_object_foreach(o, k, v)
	{
		ProtobufCMessage *e = bw_arena_zalloc(svc->arena, d->sizeof_message);
		if (e == NULL)
			return NULL;
		d->message_init(e);
		*(const char **)((char *)e + key_off) = k;
		*(const char **)((char *)e + val_off) = json_object_get_string(v);
		arr[i++] = e;
	}
	*n = i;
	return arr;
}

/* SandboxSpec field 9 for gpu, in the layout of the gateway's version (new when unknown). */
static void add_gpu(struct bw_svc *svc, const char *gw, Openshell__V1__SandboxSpec *spec,
		    ProtobufCMessageUnknownField *u)
{
	static uint8_t old_gpu[] = {0x01};
	static uint8_t new_gpu[] = {0x02, 0x0a, 0x00}; /* len 2: ResourceRequirements{gpu{}} */
	struct bw_gateway g;
	bool old = false;
	if (bw_registry_get(svc, gw, &g) == BW_OK && g.version != NULL) {
		struct bw_gwver v = bw_gwver_parse(g.version);
		old = v.known && !v.dev && !bw_gwver_resource_requirements(&v);
	}
	u->tag = 9;
	u->wire_type = old ? PROTOBUF_C_WIRE_TYPE_VARINT : PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	u->data = old ? old_gpu : new_gpu;
	u->len = old ? sizeof(old_gpu) : sizeof(new_gpu);
	spec->base.n_unknown_fields = 1;
	spec->base.unknown_fields = u;
}

enum bw_err bw_sandbox_create(struct bw_svc *svc, const char *gw, const struct bw_sandbox_spec *s,
			      const char **created, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	ProtobufCMessage *resp = NULL;
	ProtobufCMessageUnknownField gpu;
	*created = NULL;
	enum bw_err rc = bw_gwcall_target(svc, gw, &creds, &t);
	if (rc != BW_OK)
		return rc;
	Openshell__V1__SandboxTemplate tpl = OPENSHELL__V1__SANDBOX_TEMPLATE__INIT;
	tpl.image = (char *)(s->image ? s->image : "");
	Openshell__V1__SandboxSpec spec = OPENSHELL__V1__SANDBOX_SPEC__INIT;
	spec.template_ = &tpl;
	spec.log_level = (char *)(s->log_level ? s->log_level : "");
	spec.environment = (Openshell__V1__SandboxSpec__EnvironmentEntry **)map_of(
	    svc, s->environment, &spec.n_environment,
	    &openshell__v1__sandbox_spec__environment_entry__descriptor,
	    offsetof(Openshell__V1__SandboxSpec__EnvironmentEntry, key),
	    offsetof(Openshell__V1__SandboxSpec__EnvironmentEntry, value));
	size_t np = s->providers ? json_object_array_length(s->providers) : 0;
	char **prov = np ? bw_arena_zalloc(svc->arena, np * sizeof(char *)) : NULL;
	for (size_t i = 0; prov != NULL && i < np; i++)
		prov[i] =
		    (char *)json_object_get_string(json_object_array_get_idx(s->providers, i));
	spec.providers = prov;
	spec.n_providers = prov ? np : 0;
	if (s->gpu)
		add_gpu(svc, gw, &spec, &gpu);
	Openshell__V1__CreateSandboxRequest__LabelsEntry label =
	    OPENSHELL__V1__CREATE_SANDBOX_REQUEST__LABELS_ENTRY__INIT;
	Openshell__V1__CreateSandboxRequest__LabelsEntry *labels[] = {&label};
	label.key = (char *)BW_SANDBOX_OP_LABEL;
	label.value = (char *)s->op_id;
	Openshell__V1__CreateSandboxRequest req = OPENSHELL__V1__CREATE_SANDBOX_REQUEST__INIT;
	req.spec = &spec;
	req.name = (char *)(s->name ? s->name : "");
	req.labels = labels;
	req.n_labels = 1;
	*res = bw_gw_unary(&t, RPC("CreateSandbox"), &req.base,
			   &openshell__v1__sandbox_response__descriptor, false, &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	Openshell__V1__SandboxResponse *sr = (Openshell__V1__SandboxResponse *)resp;
	const char *nm = sr->sandbox && sr->sandbox->metadata ? sr->sandbox->metadata->name : NULL;
	*created = bw_arena_strdup(svc->arena, nm && nm[0] ? nm : req.name);
	protobuf_c_message_free_unpacked(resp, NULL);
	return *created != NULL ? BW_OK : BW_ENOMEM;
}

enum bw_err bw_sandbox_find_by_op(struct bw_svc *svc, const char *gw, const char *op_id,
				  const char **name, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	ProtobufCMessage *resp = NULL;
	*name = NULL;
	enum bw_err rc = bw_gwcall_target(svc, gw, &creds, &t);
	if (rc != BW_OK)
		return rc;
	Openshell__V1__ListSandboxesRequest req = OPENSHELL__V1__LIST_SANDBOXES_REQUEST__INIT;
	req.label_selector = bw_arena_printf(svc->arena, "%s=%s", BW_SANDBOX_OP_LABEL, op_id);
	req.limit = 10;
	if (req.label_selector == NULL)
		return BW_ENOMEM;
	*res = bw_gw_unary(&t, RPC("ListSandboxes"), &req.base,
			   &openshell__v1__list_sandboxes_response__descriptor, true, &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	Openshell__V1__ListSandboxesResponse *lr = (Openshell__V1__ListSandboxesResponse *)resp;
	/* Checked here too: a gateway that ignores the selector must not hand us a stranger. */
	for (size_t i = 0; *name == NULL && i < lr->n_sandboxes; i++) {
		const Openshell__Datamodel__V1__ObjectMeta *md = lr->sandboxes[i]->metadata;
		for (size_t k = 0; md != NULL && k < md->n_labels; k++)
			if (strcmp(md->labels[k]->key, BW_SANDBOX_OP_LABEL) == 0 &&
			    strcmp(md->labels[k]->value, op_id) == 0)
				*name = bw_arena_strdup(svc->arena, md->name);
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	return BW_OK;
}

enum bw_err bw_sandbox_apply_preset(struct bw_svc *svc, const char *gw, const char *name,
				    const char *preset, const char **why, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	*why = NULL;
	memset(res, 0, sizeof(*res));
	res->code_name = "";
	enum bw_err rc = bw_gwcall_target(svc, gw, &creds, &t);
	if (rc != BW_OK)
		return rc;
	struct json_object *item =
	    bw_catalog_item(bw_catalog_get(svc->conf, BW_CATALOG_PRESETS), preset);
	struct json_object *policy = NULL, *rules = NULL;
	if (item == NULL || !json_object_object_get_ex(item, "policy", &policy) ||
	    !json_object_object_get_ex(policy, "network_policies", &rules) ||
	    !json_object_is_type(rules, json_type_object)) {
		json_object_put(item);
		res->st = BW_GW_INVALID;
		*why = item == NULL ? "Preset not found" : "Preset has no network_policies";
		return BW_OK;
	}
	size_t n = (size_t)json_object_object_length(rules), i = 0;
	Openshell__V1__PolicyMergeOperation *ops = bw_arena_zalloc(svc->arena, n * sizeof(*ops));
	Openshell__V1__AddNetworkRule *adds = bw_arena_zalloc(svc->arena, n * sizeof(*adds));
	Openshell__V1__PolicyMergeOperation **opp = bw_arena_zalloc(svc->arena, n * sizeof(*opp));
	if (n == 0 || ops == NULL || adds == NULL || opp == NULL) {
		json_object_put(item);
		return n == 0 ? BW_OK : BW_ENOMEM;
	}
	json_object_object_foreach(rules, key, val)
	{
		const char *err = NULL;
		ProtobufCMessage *rule =
		    bw_pbjson_to(&openshell__sandbox__v1__network_policy_rule__descriptor, val,
				 svc->arena, &err);
		if (rule == NULL) {
			res->st = BW_GW_INVALID;
			*why = bw_arena_printf(svc->arena, "rule '%s': %s", key, err);
			break;
		}
		openshell__v1__add_network_rule__init(&adds[i]);
		adds[i].rule_name = key;
		adds[i].rule = (Openshell__Sandbox__V1__NetworkPolicyRule *)rule;
		openshell__v1__policy_merge_operation__init(&ops[i]);
		ops[i].operation_case = OPENSHELL__V1__POLICY_MERGE_OPERATION__OPERATION_ADD_RULE;
		ops[i].add_rule = &adds[i];
		opp[i] = &ops[i];
		i++;
	}
	if (*why == NULL) {
		ProtobufCMessage *resp = NULL;
		Openshell__V1__UpdateConfigRequest req = OPENSHELL__V1__UPDATE_CONFIG_REQUEST__INIT;
		req.name = (char *)name;
		req.merge_operations = opp;
		req.n_merge_operations = n;
		*res =
		    bw_gw_unary(&t, RPC("UpdateConfig"), &req.base,
				&openshell__v1__update_config_response__descriptor, false, &resp);
		if (res->st == BW_GW_OK)
			protobuf_c_message_free_unpacked(resp, NULL);
		else
			*why = bw_sandbox_gw_text(svc, gw, res);
	}
	json_object_put(item); /* the rules live in the arena */
	return BW_OK;
}
