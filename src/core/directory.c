#include <stdlib.h>
#include <string.h>
#include "tessera/directory.h"

static void destroy(ts_ref_t *ref)
{
    ts_directory_t *d = (ts_directory_t *)ref;
    for (size_t i = 0; i < d->clients.capacity; ++i) {
        const ts_client_t *c = d->clients.slots[i].value;
        if (d->clients.slots[i].key != NULL)
            for (size_t k = 0; k < c->num_keys; ++k)
                ts_key_free(c->keys[k]);
    }
    ts_strmap_dispose(&d->clients);
    ts_strmap_dispose(&d->users);
    ts_strmap_dispose(&d->roles);
    ts_arena_dispose(&d->arena);
    free(d);
}

ts_directory_t *ts_directory_create(void)
{
    ts_directory_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    ts_ref_init(&d->super, destroy);
    ts_arena_init(&d->arena);
    ts_strmap_init(&d->clients);
    ts_strmap_init(&d->users);
    ts_strmap_init(&d->roles);
    return d;
}

const ts_client_t *ts_directory_client(const ts_directory_t *d, const char *client_id)
{
    return client_id != NULL ? ts_strmap_get(&d->clients, client_id, strlen(client_id)) : NULL;
}

const ts_user_t *ts_directory_user(const ts_directory_t *d, const char *subject)
{
    return subject != NULL ? ts_strmap_get(&d->users, subject, strlen(subject)) : NULL;
}

const ts_role_t *ts_directory_role(const ts_directory_t *d, const char *name)
{
    return name != NULL ? ts_strmap_get(&d->roles, name, strlen(name)) : NULL;
}

int ts_strs_contains(const ts_strs_t *l, const char *s)
{
    for (size_t i = 0; i < l->len; ++i)
        if (strcmp(l->items[i], s) == 0)
            return 1;
    return 0;
}

static const char *const method_names[] = {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"};

int ts_auth_method_parse(const char *s, ts_auth_method_t *out)
{
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); ++i)
        if (strcmp(s, method_names[i]) == 0) {
            *out = (ts_auth_method_t)i;
            return 0;
        }
    return -1;
}

const char *ts_auth_method_name(ts_auth_method_t m)
{
    return (unsigned)m < sizeof(method_names) / sizeof(method_names[0]) ? method_names[m] : "none";
}
