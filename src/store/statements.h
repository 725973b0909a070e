#ifndef TESSERA_STORE_STATEMENTS_H
#define TESSERA_STORE_STATEMENTS_H

#include "tessera/db_pool.h"

typedef struct st_ts_statement_t {
    const char *name;
    const char *sql;
    int nparams;
} ts_statement_t;

/* indexed by ts_stmt_t; every pool connection prepares all of them when it connects */
extern const ts_statement_t ts_statements[TS_STMT__COUNT];

#endif
