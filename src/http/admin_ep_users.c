/* /admin/v1/users: list, create (with a password), read, update, delete, set the password. A password is
 * hashed with argon2id here, on the admin thread (never a loop thread of the public listener), and no answer
 * carries it or its hash. Usernames match without regard to case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/admin.h"
#include "tessera/oauth_metadata.h"

#define PASSWORD_MIN 8
#define NAME_MAX_CHARS 200

static const char *const statuses[] = {"active", "disabled", NULL};

/* what a user may be given, after username and password (create) or with the username in the path (update) */
static const ts_admin_field_t user_fields[] = {
    {.name = "email", .type = TS_ADMIN_STRING, .flags = TS_ADMIN_NULLABLE, .min = 1, .max = TS_EMAIL_MAX, .format = TS_ADMIN_EMAIL},
    {.name = "email_verified", .type = TS_ADMIN_BOOLEAN},
    {.name = "name", .type = TS_ADMIN_STRING, .flags = TS_ADMIN_NULLABLE, .min = 1, .max = NAME_MAX_CHARS, .format = TS_ADMIN_TEXT},
    {.name = "roles", .type = TS_ADMIN_STRINGS, .max = 100, .item_max = TS_ROLE_NAME_MAX, .format = TS_ADMIN_ROLE_NAME},
    {.name = "status", .type = TS_ADMIN_STRING, .max = 16, .enum_values = statuses},
    {.name = NULL},
};
static const ts_admin_field_t create_fields[] = {
    {.name = "username",
     .type = TS_ADMIN_STRING,
     .flags = TS_ADMIN_REQUIRED,
     .min = 1,
     .max = TS_USERNAME_MAX,
     .format = TS_ADMIN_USERNAME},
    {.name = "password",
     .type = TS_ADMIN_STRING,
     .flags = TS_ADMIN_REQUIRED | TS_ADMIN_SECRET,
     .min = PASSWORD_MIN,
     .max = TS_PASSWORD_MAX,
     .format = TS_ADMIN_ANY},
    {.name = NULL},
};

const ts_admin_schema_t ts_admin_user_create_schema = {"user create", create_fields, user_fields};
const ts_admin_schema_t ts_admin_user_update_schema = {"user update", user_fields, NULL};
/* the password row of create_fields alone */
const ts_admin_schema_t ts_admin_user_password_schema = {"user password", create_fields + 1, NULL};

static json_t *user_json(const ts_user_record_t *u)
{
    return json_pack("{s:s, s:s, s:o, s:b, s:o, s:s, s:o, s:s, s:s, s:s, s:o}", "subject", u->subject, "username", u->username,
                     "email", ts_admin_nullable(u->email), "email_verified", u->email_verified, "name", ts_admin_nullable(u->name),
                     "status", u->status, "roles", ts_admin_strlist_json(&u->roles), "created_at", u->created_at, "updated_at",
                     u->updated_at, "password_changed_at", u->password_changed_at, "last_login_at",
                     ts_admin_nullable(u->last_login_at));
}

static int valid_key(ts_admin_req_t *ar)
{
    char err[256];
    if (ts_oauth_check_username("username", ar->key, err, sizeof(err)) == 0)
        return 1;
    ts_http_send_error(ar->req, TS_ERR_NOT_FOUND, "no such user");
    return 0;
}

static int send_user(ts_admin_req_t *ar, ts_pgconn_t *db, const char *username, int status)
{
    ts_user_record_t u;
    char err[512];
    int ret;

    if ((ret = ts_store_user_get(db, username, &u, err, sizeof(err))) != 0)
        return ts_admin_store_error(ar, ret, err, "user");
    json_t *out = user_json(&u);
    ts_user_record_dispose(&u);
    return ts_http_send_json(ar->req, status, out);
}

/* argon2id of the body's password into hash, then the password is wiped from the parsed body */
static int hash_password(json_t *body, char *hash, size_t cap)
{
    json_t *pw = json_object_get(body, "password");
    char *text = (char *)json_string_value(pw); /* jansson's own copy: wiping it is ours to do */
    size_t len = json_string_length(pw);
    int ret = ts_password_hash(text, len, hash, cap);
    ts_crypto_cleanse(text, len);
    return ret;
}

static int set_optional(char **field, const json_t *body, const char *name)
{
    const json_t *v = json_object_get(body, name);
    if (v == NULL)
        return 0;
    free(*field);
    *field = NULL;
    return json_is_string(v) && (*field = strdup(json_string_value(v))) == NULL ? -1 : 0;
}

static int apply_fields(ts_user_record_t *u, const json_t *body)
{
    const json_t *v;

    if (set_optional(&u->email, body, "email") != 0 || set_optional(&u->name, body, "name") != 0 ||
        set_optional(&u->status, body, "status") != 0)
        return -1;
    if ((v = json_object_get(body, "email_verified")) != NULL)
        u->email_verified = json_is_true(v);
    if ((v = json_object_get(body, "roles")) != NULL) {
        ts_strlist_dispose(&u->roles);
        if (ts_admin_strlist_from_json(&u->roles, v) != 0)
            return -1;
    }
    return 0;
}

int ts_admin_ep_users_list(ts_admin_req_t *ar)
{
    return ts_admin_list(ar, TS_ADMIN_LIST_USERS, "user");
}

int ts_admin_ep_user_create(ts_admin_req_t *ar)
{
    ts_user_record_t u = {0};
    char err[512], hash[TS_PASSWORD_HASH_MAX], subject[37] = "";
    json_t *body;
    ts_pgconn_t *db;
    int ret;

    if ((body = ts_admin_body_or_reply(ar, &ts_admin_user_create_schema)) == NULL)
        return 0;
    if ((u.username = strdup(json_string_value(json_object_get(body, "username")))) == NULL || apply_fields(&u, body) != 0) {
        ts_http_send_error(ar->req, TS_ERR_SERVER_ERROR, NULL);
        goto exit;
    }
    if (ts_strlist_contains(&u.roles, TS_ADMIN_API_ROLE) && ts_admin_step_up_or_reply(ar) != 0)
        goto exit;
    if ((db = ts_admin_db_or_reply(ar)) == NULL)
        goto exit;
    if (hash_password(body, hash, sizeof(hash)) != 0) {
        ts_http_send_error(ar->req, TS_ERR_SERVER_ERROR, "cannot hash the password");
        goto exit;
    }
    if ((ret = ts_store_user_create(db, &u, hash, subject, err, sizeof(err))) != 0) {
        ts_admin_audit(ar, "admin.user.create", NULL, 0, NULL);
        ts_admin_store_error(ar, ret, err, "user");
        goto exit;
    }
    ts_admin_audit(ar, "admin.user.create", subject, 1, json_pack("{s:o}", "roles", ts_admin_strlist_json(&u.roles)));
    char location[200];
    snprintf(location, sizeof(location), "/admin/v1/users/%s", u.username);
    ts_http_header(ar->req, "location", location);
    send_user(ar, db, u.username, 201);
exit:
    ts_crypto_cleanse(hash, sizeof(hash));
    ts_user_record_dispose(&u);
    json_decref(body);
    return 0;
}

int ts_admin_ep_user_get(ts_admin_req_t *ar)
{
    ts_pgconn_t *db;

    if (!valid_key(ar) || (db = ts_admin_db_or_reply(ar)) == NULL)
        return 0;
    return send_user(ar, db, ar->key, 200);
}

/* the user's admin standing changes: the role granted or taken away, or an admin disabled or enabled */
static int touches_admin(const ts_user_record_t *before, const ts_user_record_t *after)
{
    int was = ts_strlist_contains(&before->roles, TS_ADMIN_API_ROLE), is = ts_strlist_contains(&after->roles, TS_ADMIN_API_ROLE);
    if (was != is)
        return 1;
    /* NULL status: the store's default, active */
    const char *then = before->status != NULL ? before->status : "active", *now = after->status != NULL ? after->status : "active";
    return (was || is) && strcmp(then, now) != 0;
}

int ts_admin_ep_user_update(ts_admin_req_t *ar)
{
    ts_user_record_t before, u = {0};
    char err[512];
    json_t *body;
    ts_pgconn_t *db;
    int ret;

    if ((body = ts_admin_update_or_reply(ar, &ts_admin_user_update_schema, valid_key, &db)) == NULL)
        return 0;
    if ((ret = ts_store_user_get(db, ar->key, &before, err, sizeof(err))) != 0) {
        ts_admin_store_error(ar, ret, err, "user");
        json_decref(body);
        return 0;
    }
    int oom;
    u.username = strdup(before.username);
    u.email = before.email != NULL ? strdup(before.email) : NULL;
    u.name = before.name != NULL ? strdup(before.name) : NULL;
    u.status = strdup(before.status);
    u.email_verified = before.email_verified;
    oom = u.username == NULL || u.status == NULL || (before.email != NULL && u.email == NULL) ||
          (before.name != NULL && u.name == NULL);
    for (size_t i = 0; !oom && i < before.roles.len; ++i)
        oom = ts_strlist_push(&u.roles, before.roles.items[i]) != 0;
    if (oom || apply_fields(&u, body) != 0) {
        ts_http_send_error(ar->req, TS_ERR_SERVER_ERROR, NULL);
        goto exit;
    }
    if (touches_admin(&before, &u) && ts_admin_step_up_or_reply(ar) != 0)
        goto exit;
    if ((ret = ts_store_user_update(db, &u, err, sizeof(err))) != 0) {
        ts_admin_audit(ar, "admin.user.update", before.subject, 0, NULL);
        ts_admin_store_error(ar, ret, err, "user");
        goto exit;
    }
    ts_admin_audit(ar, "admin.user.update", before.subject, 1, ts_admin_changed_fields(body));
    send_user(ar, db, u.username, 200);
exit:
    ts_user_record_dispose(&before);
    ts_user_record_dispose(&u);
    json_decref(body);
    return 0;
}

int ts_admin_ep_user_delete(ts_admin_req_t *ar)
{
    ts_user_record_t u;
    char err[512];
    ts_pgconn_t *db;
    int ret;

    if (!valid_key(ar) || ts_admin_step_up_or_reply(ar) != 0 || (db = ts_admin_db_or_reply(ar)) == NULL)
        return 0;
    /* the audit trail names users by subject: read it before the row goes */
    if ((ret = ts_store_user_get(db, ar->key, &u, err, sizeof(err))) != 0)
        return ts_admin_store_error(ar, ret, err, "user");
    if ((ret = ts_store_user_delete(db, ar->key, err, sizeof(err))) != 0) {
        ts_admin_audit(ar, "admin.user.delete", u.subject, 0, NULL);
        ts_user_record_dispose(&u);
        return ts_admin_store_error(ar, ret, err, "user");
    }
    ts_admin_audit(ar, "admin.user.delete", u.subject, 1, NULL);
    ts_user_record_dispose(&u);
    return ts_http_send(ar->req, 204, NULL, "", 0);
}

int ts_admin_ep_user_password(ts_admin_req_t *ar)
{
    ts_user_record_t u;
    char err[512], hash[TS_PASSWORD_HASH_MAX];
    json_t *body;
    ts_pgconn_t *db;
    int ret;

    if ((body = ts_admin_body_or_reply(ar, &ts_admin_user_password_schema)) == NULL)
        return 0;
    if (!valid_key(ar) || (db = ts_admin_db_or_reply(ar)) == NULL) {
        json_decref(body);
        return 0;
    }
    if ((ret = ts_store_user_get(db, ar->key, &u, err, sizeof(err))) != 0) {
        json_decref(body);
        return ts_admin_store_error(ar, ret, err, "user");
    }
    /* setting another admin's password is a way into their account */
    if (ts_strlist_contains(&u.roles, TS_ADMIN_API_ROLE) && ts_admin_step_up_or_reply(ar) != 0)
        goto exit;
    if (hash_password(body, hash, sizeof(hash)) != 0) {
        ts_http_send_error(ar->req, TS_ERR_SERVER_ERROR, "cannot hash the password");
        goto exit;
    }
    ret = ts_store_user_set_password(db, ar->key, hash, err, sizeof(err));
    ts_crypto_cleanse(hash, sizeof(hash));
    ts_admin_audit(ar, "admin.user.password", u.subject, ret == 0, NULL);
    if (ret != 0)
        ts_admin_store_error(ar, ret, err, "user");
    else
        ts_http_send(ar->req, 204, NULL, "", 0);
exit:
    ts_user_record_dispose(&u);
    json_decref(body);
    return 0;
}
