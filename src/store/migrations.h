#ifndef TESSERA_STORE_MIGRATIONS_H
#define TESSERA_STORE_MIGRATIONS_H

typedef struct st_ts_migration_t {
    int version;
    const char *name;
    const char *sql;
} ts_migration_t;

/* generated at build time from sql/ (cmake/embed_sql.cmake), ordered, ends with a zero row */
extern const ts_migration_t ts_migrations[];

#endif
