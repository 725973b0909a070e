/* Every statement a loop thread may run, prepared once per connection. */
#include "store/statements.h"

const ts_statement_t ts_statements[TS_STMT__COUNT] = {
    [TS_STMT_PING] = {"ping", "SELECT 1", 0},
};
