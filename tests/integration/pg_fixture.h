#ifndef TESSERA_TESTS_PG_FIXTURE_H
#define TESSERA_TESTS_PG_FIXTURE_H

/* The cmocka group fixture of the C integration tests that need a migrated database: the configuration from the
 * environment (DATABASE_URL), one blocking connection, the schema brought up to date. Included once per test
 * program, which then uses conf, db and err. */
#include <stdio.h>
#include "tessera/store.h"

static ts_config_t conf;
static ts_pgconn_t *db;
static char err[1024];

static int pg_fixture_setup(void **state)
{
    int applied;
    (void)state;
    if (ts_config_load(&conf, NULL, err, sizeof(err)) != 0 || (db = ts_store_connect(&conf, "test", err, sizeof(err))) == NULL ||
        ts_store_migrate(db, &applied, err, sizeof(err)) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    return 0;
}

static int pg_fixture_teardown(void **state)
{
    (void)state;
    ts_store_close(db);
    ts_config_dispose(&conf);
    return 0;
}

#endif
