/* /admin/v1/keys: the signing keyring without any private part (kid, alg, state and when it changed state),
 * and an immediate rotation. Rotation needs a recent sign-in: it changes what every relying party must
 * fetch, and done twice in a row it retires a key while tokens it signed are still in use. */
#include <stdlib.h>
#include "http/admin.h"

static const ts_admin_field_t no_fields[] = {{.name = NULL}};
const ts_admin_schema_t ts_admin_empty_schema = {"empty", no_fields, NULL};

int ts_admin_ep_keys_list(ts_admin_req_t *ar)
{
    char err[512];
    ts_pgconn_t *db;
    json_t *keys;

    if ((db = ts_admin_db_or_reply(ar)) == NULL)
        return 0;
    if ((keys = ts_store_keys_list(db, err, sizeof(err))) == NULL)
        return ts_admin_store_error(ar, -1, err, "key");
    /* a keyring is a handful of rows: one page */
    return ts_admin_send_page(ar, keys, NULL);
}

int ts_admin_ep_keys_rotate(ts_admin_req_t *ar)
{
    const ts_config_t *conf = ar->app->conf;
    char err[512];
    ts_rotation_t r;
    ts_pgconn_t *db;
    json_t *body;

    if ((body = ts_admin_body_or_reply(ar, &ts_admin_empty_schema)) == NULL)
        return 0;
    json_decref(body);
    if (ts_admin_step_up_or_reply(ar) != 0 || (db = ts_admin_db_or_reply(ar)) == NULL)
        return 0;
    /* the rotation's own transaction records the success (key.rotate, by this caller): only a failure is ours to record */
    if (ts_store_keys_rotate_as(db, ts_admin__kek(ar->admin), conf->key_rotation_period, conf->key_retention, 1,
                                ar->caller.subject, &r, err, sizeof(err)) != 0) {
        ts_admin_audit(ar, "key.rotate", NULL, 0, NULL);
        return ts_admin_store_error(ar, -1, err, "key");
    }
    json_t *report = json_pack("{s:i, s:i, s:i, s:i}", "activated", r.activated, "retired", r.retired, "generated", r.generated,
                               "removed", r.removed);
    return ts_http_send_json(ar->req, 200, report);
}
