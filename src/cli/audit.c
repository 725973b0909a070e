/* `tessera audit tail|verify|export`: the audit log as JSON lines, and the check of its hash chain. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tessera/audit.h"
#include "tessera/audit_store.h"
#include "tessera/cli.h"

#define USAGE                                                                                                                      \
    "usage: tessera audit tail [-n N] [--follow]     the newest N events (default 20), then new ones as they come\n"               \
    "       tessera audit verify                     check the hash chain (exit 0 intact, 1 broken, 2 cannot check)\n"             \
    "       tessera audit export [--since TIME] [--until TIME]   every event (since <= at < until) as JSON lines"
#define TAIL_MAX 100000
#define FOLLOW_INTERVAL_MS 1000

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = 1;
}

typedef struct st_printer_t {
    int64_t last_id;
    uint64_t rows;
} printer_t;

/* one row as one JSON line; details as the object it is */
static int print_row(void *arg, const ts_audit_stored_t *r)
{
    printer_t *p = arg;
    json_t *details = r->row.details != NULL ? json_loads(r->row.details, 0, NULL) : NULL;
    if (details == NULL && r->row.details != NULL)
        details = json_string(r->row.details);
    json_t *line =
        json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:o?, s:s?, s:s?}", "id", (json_int_t)r->row.id, "at", r->at, "actor",
                  r->row.actor, "action", r->row.action, "target", r->row.target, "outcome", r->row.outcome, "source",
                  r->row.source, "details", details, "prev_hash", r->prev_hash, "hash", r->hash);
    char *s = line != NULL ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (s != NULL) {
        puts(s);
        free(s);
    }
    p->last_id = r->row.id;
    p->rows++;
    return 0;
}

static int remember(void *arg, const ts_audit_stored_t *r)
{
    ((printer_t *)arg)->last_id = r->row.id;
    return 0;
}

static int sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (!interrupted && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return interrupted ? -1 : 0;
}

static int cmd_tail(ts_cli_t *cli, int argc, char **argv)
{
    printer_t p = {0};
    ts_audit_query_t q = {.newest = 20};
    int follow = 0;
    char err[512];
    const char *v;

    for (int i = 2; i < argc; ++i) {
        if ((v = ts_cli_option(argc, argv, &i, "-n")) != NULL) {
            char *end;
            long long n = strtoll(v, &end, 10);
            if (*v == '\0' || *end != '\0' || n < 0 || n > TAIL_MAX)
                return ts_cli_usage("-n: expected a number from 0 to %d, got '%s'", TAIL_MAX, v);
            q.newest = n;
        } else if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0) {
            follow = 1;
        } else {
            return ts_cli_usage("unexpected argument '%s'\n%s", argv[i], USAGE);
        }
    }
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    /* -n 0: nothing old, only what comes; the newest id is still needed to know where to start */
    if (ts_store_audit_scan(cli->db, &(ts_audit_query_t){.newest = q.newest > 0 ? q.newest : 1},
                            q.newest > 0 ? print_row : remember, &p, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    fflush(stdout);
    if (!follow)
        return TS_EXIT_OK;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (sleep_ms(FOLLOW_INTERVAL_MS) == 0) {
        ts_audit_query_t more = {.after_id = p.last_id};
        if (ts_store_audit_scan(cli->db, &more, print_row, &p, err, sizeof(err)) != 0)
            return ts_cli_fail("%s", err);
        fflush(stdout);
    }
    return TS_EXIT_OK;
}

static int cmd_verify(ts_cli_t *cli, int argc, char **argv)
{
    ts_audit_verify_t v;
    char err[512];
    int r;

    if (argc != 2)
        return ts_cli_usage("%s", USAGE);
    /* 1 means "broken": a failure to check at all must not look like it */
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_USAGE;
    if ((r = ts_audit_verify(cli->db, &v, err, sizeof(err))) < 0) {
        ts_cli_fail("cannot verify the audit log: %s", err);
        return TS_EXIT_USAGE;
    }
    if (r == 1) {
        if (cli->json)
            ts_cli_print_json(json_pack("{s:b, s:I, s:I, s:s}", "intact", 0, "rows", (json_int_t)v.rows, "row",
                                        (json_int_t)v.first_bad, "why", v.why));
        return ts_cli_fail("audit log broken at row %lld: %s", (long long)v.first_bad, v.why);
    }
    if (cli->json)
        ts_cli_print_json(json_pack("{s:b, s:I, s:I, s:s}", "intact", 1, "rows", (json_int_t)v.rows, "last_id",
                                    (json_int_t)v.last_id, "head", v.head));
    else
        printf("audit log intact: %lld rows, newest id %lld, head hash %s\n", (long long)v.rows, (long long)v.last_id, v.head);
    return TS_EXIT_OK;
}

static int cmd_export(ts_cli_t *cli, int argc, char **argv)
{
    printer_t p = {0};
    ts_audit_query_t q = {.after_id = INT64_MIN};
    char err[512];
    const char *v;

    for (int i = 2; i < argc; ++i) {
        if ((v = ts_cli_option(argc, argv, &i, "--since")) != NULL)
            q.since = v;
        else if ((v = ts_cli_option(argc, argv, &i, "--until")) != NULL)
            q.until = v;
        else if (strcmp(argv[i], "--since") == 0 || strcmp(argv[i], "--until") == 0)
            return ts_cli_usage("%s needs a value (ISO 8601, like 2026-01-31T00:00:00Z)", argv[i]);
        else
            return ts_cli_usage("unexpected argument '%s'\n%s", argv[i], USAGE);
    }
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (q.since != NULL && ts_store_audit_check_time(cli->db, q.since, err, sizeof(err)) != 0)
        return ts_cli_usage("--since: '%s' is not a time (ISO 8601, like 2026-01-31T00:00:00Z)", q.since);
    if (q.until != NULL && ts_store_audit_check_time(cli->db, q.until, err, sizeof(err)) != 0)
        return ts_cli_usage("--until: '%s' is not a time (ISO 8601, like 2026-01-31T00:00:00Z)", q.until);
    if (ts_store_audit_scan(cli->db, &q, print_row, &p, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    if (fflush(stdout) != 0)
        return ts_cli_fail("writing the export: %s", strerror(errno));
    return TS_EXIT_OK;
}

int ts_cli_audit(ts_cli_t *cli, int argc, char **argv)
{
    static const ts_cli_subcommand_t subcommands[] = {{"tail", cmd_tail}, {"verify", cmd_verify}, {"export", cmd_export}};

    return ts_cli_dispatch(cli, argc, argv, subcommands, sizeof(subcommands) / sizeof(subcommands[0]), "audit", USAGE);
}
