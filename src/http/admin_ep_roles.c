/* /admin/v1/roles: list, create, read, update, delete. A role's scopes are what its holders may be granted.
 * The admin role is special: deleting it, or changing its scopes, changes who can administer, so it needs a
 * recent sign-in like any other grant or removal of admin rights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/admin.h"
#include "tessera/oauth_metadata.h"

static const ts_admin_field_t role_fields[] = {
    {.name = "description",
     .type = TS_ADMIN_STRING,
     .flags = TS_ADMIN_NULLABLE,
     .min = 1,
     .max = TS_ROLE_DESCRIPTION_MAX,
     .format = TS_ADMIN_TEXT},
    {.name = "scopes",
     .type = TS_ADMIN_STRINGS,
     .max = TS_SCOPE_TOKENS_MAX,
     .item_max = TS_SCOPE_TOKEN_MAX,
     .format = TS_ADMIN_SCOPE_TOKEN},
    {.name = NULL},
};
static const ts_admin_field_t name_field[] = {
    {.name = "name",
     .type = TS_ADMIN_STRING,
     .flags = TS_ADMIN_REQUIRED,
     .min = 1,
     .max = TS_ROLE_NAME_MAX,
     .format = TS_ADMIN_ROLE_NAME},
    {.name = NULL},
};

const ts_admin_schema_t ts_admin_role_create_schema = {"role create", name_field, role_fields};
const ts_admin_schema_t ts_admin_role_update_schema = {"role update", role_fields, NULL};

static json_t *role_json(const ts_role_record_t *r)
{
    return json_pack("{s:s, s:o, s:o, s:s, s:s}", "name", r->name, "description", ts_admin_nullable(r->description), "scopes",
                     ts_admin_strlist_json(&r->scopes), "created_at", r->created_at, "updated_at", r->updated_at);
}

static int valid_key(ts_admin_req_t *ar)
{
    char err[256];
    if (ts_oauth_check_role_name("name", ar->key, err, sizeof(err)) == 0)
        return 1;
    ts_http_send_error(ar->req, TS_ERR_NOT_FOUND, "no such role");
    return 0;
}

static int send_role(ts_admin_req_t *ar, ts_pgconn_t *db, const char *name, int status)
{
    ts_role_record_t r;
    char err[512];
    int ret;

    if ((ret = ts_store_role_get(db, name, &r, err, sizeof(err))) != 0)
        return ts_admin_store_error(ar, ret, err, "role");
    json_t *out = role_json(&r);
    ts_role_record_dispose(&r);
    return ts_http_send_json(ar->req, status, out);
}

/* the fields body names replace those of r; 0 or -1 (out of memory) */
static int apply_fields(ts_role_record_t *r, const json_t *body)
{
    const json_t *v;

    if ((v = json_object_get(body, "description")) != NULL) {
        free(r->description);
        r->description = NULL;
        if (json_is_string(v) && (r->description = strdup(json_string_value(v))) == NULL)
            return -1;
    }
    if ((v = json_object_get(body, "scopes")) != NULL) {
        ts_strlist_dispose(&r->scopes);
        if (ts_admin_strlist_from_json(&r->scopes, v) != 0)
            return -1;
    }
    return 0;
}

int ts_admin_ep_roles_list(ts_admin_req_t *ar)
{
    return ts_admin_list(ar, TS_ADMIN_LIST_ROLES, "role");
}

int ts_admin_ep_role_create(ts_admin_req_t *ar)
{
    ts_role_record_t r = {0};
    char err[512];
    json_t *body;
    ts_pgconn_t *db;
    int ret;

    if ((body = ts_admin_body_or_reply(ar, &ts_admin_role_create_schema)) == NULL)
        return 0;
    if ((r.name = strdup(json_string_value(json_object_get(body, "name")))) == NULL || apply_fields(&r, body) != 0) {
        ts_http_send_error(ar->req, TS_ERR_SERVER_ERROR, NULL);
        goto exit;
    }
    if ((db = ts_admin_db_or_reply(ar)) == NULL)
        goto exit;
    if ((ret = ts_store_role_create(db, &r, err, sizeof(err))) != 0) {
        ts_admin_audit(ar, "admin.role.create", r.name, 0, NULL);
        ts_admin_store_error(ar, ret, err, "role");
        goto exit;
    }
    ts_admin_audit(ar, "admin.role.create", r.name, 1, json_pack("{s:o}", "scopes", ts_admin_strlist_json(&r.scopes)));
    char location[128];
    snprintf(location, sizeof(location), "/admin/v1/roles/%s", r.name);
    ts_http_header(ar->req, "location", location);
    send_role(ar, db, r.name, 201);
exit:
    ts_role_record_dispose(&r);
    json_decref(body);
    return 0;
}

int ts_admin_ep_role_get(ts_admin_req_t *ar)
{
    ts_pgconn_t *db;

    if (!valid_key(ar) || (db = ts_admin_db_or_reply(ar)) == NULL)
        return 0;
    return send_role(ar, db, ar->key, 200);
}

int ts_admin_ep_role_update(ts_admin_req_t *ar)
{
    ts_role_record_t r;
    ts_strlist_t old_scopes;
    char err[512];
    json_t *body;
    ts_pgconn_t *db;
    int ret;

    if ((body = ts_admin_update_or_reply(ar, &ts_admin_role_update_schema, valid_key, &db)) == NULL)
        return 0;
    if ((ret = ts_store_role_get(db, ar->key, &r, err, sizeof(err))) != 0) {
        json_decref(body);
        return ts_admin_store_error(ar, ret, err, "role");
    }
    old_scopes = r.scopes;
    r.scopes = (ts_strlist_t){0};
    int oom = 0;
    for (size_t i = 0; !oom && i < old_scopes.len; ++i)
        oom = ts_strlist_push(&r.scopes, old_scopes.items[i]) != 0;
    if (oom || apply_fields(&r, body) != 0) {
        ts_http_send_error(ar->req, TS_ERR_SERVER_ERROR, NULL);
        goto exit;
    }
    if (strcmp(r.name, TS_ADMIN_API_ROLE) == 0 && !ts_strlist_same_set(&old_scopes, &r.scopes) &&
        ts_admin_step_up_or_reply(ar) != 0)
        goto exit;
    if ((ret = ts_store_role_update(db, &r, err, sizeof(err))) != 0) {
        ts_admin_audit(ar, "admin.role.update", ar->key, 0, NULL);
        ts_admin_store_error(ar, ret, err, "role");
        goto exit;
    }
    ts_admin_audit(ar, "admin.role.update", ar->key, 1, json_pack("{s:o}", "scopes", ts_admin_strlist_json(&r.scopes)));
    send_role(ar, db, ar->key, 200);
exit:
    ts_strlist_dispose(&old_scopes);
    ts_role_record_dispose(&r);
    json_decref(body);
    return 0;
}

int ts_admin_ep_role_delete(ts_admin_req_t *ar)
{
    char err[512];
    ts_pgconn_t *db;
    int ret;

    if (!valid_key(ar))
        return 0;
    if (strcmp(ar->key, TS_ADMIN_API_ROLE) == 0 && ts_admin_step_up_or_reply(ar) != 0)
        return 0;
    if ((db = ts_admin_db_or_reply(ar)) == NULL)
        return 0;
    if ((ret = ts_store_role_delete(db, ar->key, err, sizeof(err))) != 0) {
        ts_admin_audit(ar, "admin.role.delete", ar->key, 0, NULL);
        return ts_admin_store_error(ar, ret, err, "role");
    }
    ts_admin_audit(ar, "admin.role.delete", ar->key, 1, NULL);
    return ts_http_send(ar->req, 204, NULL, "", 0);
}
