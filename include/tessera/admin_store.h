#ifndef TESSERA_ADMIN_STORE_H
#define TESSERA_ADMIN_STORE_H

/* What the admin API needs from PostgreSQL beyond records.h (src/store/admin.c): its one blocking connection,
 * kept alive across outages, and lists read a page at a time (keyset pagination, so a page costs the same
 * wherever it starts and a record added meanwhile never shifts the next page). Blocking: only for the admin
 * thread and the CLI, never for a loop thread of the public listener. */
#include <stddef.h>
#include <jansson.h>
#include "tessera/config.h"
#include "tessera/store.h"

#define TS_ADMIN_PAGE_MAX 100
#define TS_ADMIN_PAGE_DEFAULT 50

typedef enum en_ts_admin_list_t {
    TS_ADMIN_LIST_CLIENTS, /* by client_id */
    TS_ADMIN_LIST_USERS,   /* by lower(username) */
    TS_ADMIN_LIST_ROLES,   /* by name */
    TS_ADMIN_LIST_AUDIT,   /* by id, newest first */
} ts_admin_list_t;

/** *db connected and usable: reconnects when it is NULL or its connection broke, and sets the statement
 *  timeout (conf's db_query_timeout) on a new connection. 0, or -1 with err (*db is then NULL). */
int ts_store_admin_ensure(ts_pgconn_t **db, const ts_config_t *conf, char *err, size_t errlen);
/** 1 while db's connection is up (after a failed call: 0 when the failure was the connection going away) */
int ts_store_admin_connected(ts_pgconn_t *db);

/** up to limit items of the list after the key after (NULL: from the start), each a summary object with only
 *  the fields a list needs (never a secret or password hash). *next gets the key of the last item when more
 *  follow (malloc'd), else NULL. An audit key is the decimal id. NULL with err on failure. */
json_t *ts_store_admin_page(ts_pgconn_t *db, ts_admin_list_t list, const char *after, unsigned limit, char **next, char *err,
                            size_t errlen);

#endif
