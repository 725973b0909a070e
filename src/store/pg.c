/* Blocking connections for the CLI and the sync thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "tessera/log.h"
#include "tessera/store.h"

#define MAX_PASSWORD 1024

static int read_password_file(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r"); /* Flawfinder: ignore - database_password_file, the operator's choice, read-only */
    size_t n;

    if (fp == NULL) {
        snprintf(err, errlen, "database_password_file: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    n = fread(out, 1, cap - 1, fp);
    fclose(fp);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    if (n == 0 || n >= cap - 1) {
        snprintf(err, errlen, "database_password_file: %s is empty or too long", path);
        return -1;
    }
    return 0;
}

/* The config file must not carry the password: it would end up in version control. */
static int refuse_password_in_config(const ts_config_t *conf, char *err, size_t errlen)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conf->database, &perr);
    int ret = 0;

    if (opts == NULL) {
        snprintf(err, errlen, "database: not a valid connection string (%s)", perr != NULL ? "parse error" : "out of memory");
        PQfreemem(perr);
        return -1;
    }
    if (conf->database_source == TS_CONFIG_FILE)
        for (PQconninfoOption *o = opts; o->keyword != NULL; ++o)
            if (strcmp(o->keyword, "password") == 0 && o->val != NULL && *o->val != '\0') {
                snprintf(err, errlen,
                         "database: a password in the configuration file is refused; use database_password_file or "
                         "the environment (DATABASE_URL, PGPASSWORD)");
                ret = -1;
            }
    PQconninfoFree(opts);
    return ret;
}

void ts_store_conn_params_free(char **keywords, char **values)
{
    if (values != NULL) {
        for (size_t i = 0; keywords != NULL && keywords[i] != NULL; ++i) {
            if (strcmp(keywords[i], "password") == 0 && values[i] != NULL)
                memset(values[i], 0, strlen(values[i]));
            free(values[i]);
        }
        free(values);
    }
    if (keywords != NULL) {
        for (size_t i = 0; keywords[i] != NULL; ++i)
            free(keywords[i]);
        /* every keywords[i] was freed just above; gcc 12's analyzer loses the strings stored in the array */
#ifndef __clang__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
        free(keywords);
#ifndef __clang__
#pragma GCC diagnostic pop
#endif
    }
}

int ts_store_conn_params(const ts_config_t *conf, const char *application_name, char ***keywords, char ***values, char *err,
                         size_t errlen)
{
    char password[MAX_PASSWORD];
    const char *k[8], *v[8];
    size_t n = 0;

    if (refuse_password_in_config(conf, err, errlen) != 0)
        return -1;
    k[n] = "dbname", v[n++] = conf->database; /* expanded: may be a URI or a key=value string */
    k[n] = "application_name", v[n++] = application_name;
    k[n] = "connect_timeout", v[n++] = "5";
    /* a peer that vanishes without closing the socket is noticed within about 30 s */
    k[n] = "keepalives_idle", v[n++] = "10";
    k[n] = "keepalives_interval", v[n++] = "5";
    k[n] = "keepalives_count", v[n++] = "4";
    if (*conf->database_password_file != '\0') {
        if (read_password_file(conf->database_password_file, password, sizeof(password), err, errlen) != 0)
            return -1;
        k[n] = "password", v[n++] = password;
    }
    *keywords = calloc(n + 1, sizeof(char *));
    *values = calloc(n + 1, sizeof(char *));
    if (*keywords == NULL || *values == NULL)
        goto oom;
    /* k[0..n) and v[0..n) are set above; the copies go into *keywords and *values, freed at oom: gcc 12's analyzer loses both */
#ifndef __clang__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#pragma GCC diagnostic ignored "-Wanalyzer-use-of-uninitialized-value"
#endif
    for (size_t i = 0; i < n; ++i) {
        if (((*keywords)[i] = strdup(k[i])) == NULL || ((*values)[i] = strdup(v[i])) == NULL)
            goto oom;
    }
#ifndef __clang__
#pragma GCC diagnostic pop
#endif
    memset(password, 0, sizeof(password));
    return 0;
oom:
    memset(password, 0, sizeof(password));
    ts_store_conn_params_free(*keywords, *values);
    *keywords = NULL;
    *values = NULL;
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* server NOTICEs ("relation already exists, skipping") are for debugging, not for operators' terminals */
static void on_notice(void *arg, const char *message)
{
    char line[512];
    ts_log_debug("postgresql: %s", ts_store_first_line(message, line, sizeof(line)));
}

const char *ts_store_first_line(const char *message, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", message != NULL ? message : "");
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf;
}

ts_pgconn_t *ts_store_connect(const ts_config_t *conf, const char *application_name, char *err, size_t errlen)
{
    char **k, **v;
    PGconn *db;

    if (ts_store_conn_params(conf, application_name, &k, &v, err, errlen) != 0)
        return NULL;
    db = PQconnectdbParams((const char *const *)k, (const char *const *)v, 1);
    ts_store_conn_params_free(k, v);
    if (db == NULL || PQstatus(db) != CONNECTION_OK) {
        /* libpq's message names host and reason, never the password */
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", db != NULL ? PQerrorMessage(db) : "out of memory");
        err[strcspn(err, "\n")] = '\0';
        PQfinish(db);
        return NULL;
    }
    PQsetNoticeProcessor(db, on_notice, NULL);
    return db;
}

void ts_store_close(ts_pgconn_t *db)
{
    PQfinish(db);
}

int ts_store_exec(ts_pgconn_t *db, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(db, sql);
    int ok = res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK);

    if (!ok) {
        snprintf(err, errlen, "%s", PQerrorMessage(db));
        err[strcspn(err, "\n")] = '\0';
    }
    PQclear(res);
    return ok ? 0 : -1;
}
