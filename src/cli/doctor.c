/* `tessera doctor`: lists what an operator should act on, one line per finding, grouped by check, and exits
 * 1 when it found anything, so that it can run from cron or CI. Exit 2 means it could not check (a usage
 * error, the database unreachable, a query failed): never "all clear" by accident.
 *
 * The database answers with facts (src/store/doctor.c); this file judges them against the configuration and
 * the options and words the findings. Nothing it prints is a secret or a hash. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tessera/audit.h"
#include "tessera/cli.h"
#include "tessera/doctor.h"
#include "tessera/oauth_metadata.h"

#define USAGE "usage: tessera doctor [--unused-days N] [--secret-max-age-days N] [--json]"
#define EXIT_FINDINGS 1
#define EXIT_CANNOT_CHECK 2 /* as for a usage error: 1 always means "something to act on" */
#define UNUSED_DAYS_DEFAULT 90
#define SECRET_MAX_AGE_DEFAULT 180
#define DAYS_MAX 36500
#define SLACK_MIN 3600 /* a key may be this late (or a tenth of its period, if longer) before it is a finding */

typedef struct st_doctor_t {
    ts_cli_t *cli;
    unsigned unused_days;
    unsigned secret_max_age_days;
    size_t findings;
    int failed; /* a check could not run */
} doctor_t;

/* ---- output -------------------------------------------------------------------------------------- */

/* Subjects and details can hold what someone wrote into the database: only printable ASCII reaches a terminal
 * or the JSON encoder (which refuses invalid UTF-8). */
static void sanitize(char *s)
{
    for (; *s != '\0'; ++s)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            *s = '?';
}

static void report(doctor_t *d, const char *check, const char *subject, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report(doctor_t *d, const char *check, const char *subject, const char *fmt, ...)
{
    char who[256], detail[1024];
    va_list ap;

    snprintf(who, sizeof(who), "%s", subject);
    va_start(ap, fmt);
    /* Flawfinder: ignore (next line) - fmt is a literal at every call (format attribute above) */
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    sanitize(who);
    sanitize(detail);
    d->findings++;
    if (d->cli->json)
        ts_cli_print_json(json_pack("{s:s, s:s, s:s}", "check", check, "subject", who, "detail", detail));
    else
        printf("[%s] %s: %s\n", check, who, detail);
}

static void cannot_check(doctor_t *d, const char *err)
{
    ts_cli_fail("doctor: %s", err);
    d->failed = 1;
}

static const char *str(json_t *row, const char *key)
{
    const char *s = json_string_value(json_object_get(row, key));
    return s != NULL ? s : "";
}

static long long num(json_t *row, const char *key)
{
    return (long long)json_integer_value(json_object_get(row, key));
}

/* "45 days", "6 hours", "90 seconds": for messages, not for parsing */
static const char *duration(long long s, char *buf, size_t cap)
{
    if (s >= 2 * 86400)
        snprintf(buf, cap, "%lld days", s / 86400);
    else if (s >= 2 * 3600)
        snprintf(buf, cap, "%lld hours", s / 3600);
    else if (s >= 120)
        snprintf(buf, cap, "%lld minutes", s / 60);
    else
        snprintf(buf, cap, "%lld seconds", s);
    return buf;
}

/* ---- the checks ---------------------------------------------------------------------------------- */

/* The configuration allows a plain-http issuer only on a loopback host (src/core/config.c), which is what a
 * development setup (`make run`) looks like; demo accounts belong there and nowhere else. */
static int development_issuer(const ts_config_t *conf)
{
    return strncmp(conf->issuer, "http://", 7) == 0;
}

static void check_demo_accounts(doctor_t *d)
{
    char err[512];
    json_t *rows, *row;
    size_t i;

    if (development_issuer(&d->cli->conf))
        return;
    if ((rows = ts_store_doctor_named_like(d->cli->db, TS_DOCTOR_DEMO_PATTERN, err, sizeof(err))) == NULL) {
        cannot_check(d, err);
        return;
    }
    json_array_foreach(rows, i, row)
    {
        int user = strcmp(str(row, "kind"), "user") == 0;
        report(d, user ? "demo-user" : "demo-client", str(row, "name"),
               "named like a demo or test account (created %s) on the non-development issuer %s: delete or disable it",
               str(row, "created_at"), d->cli->conf.issuer);
    }
    json_decref(rows);
}

static void check_unused(doctor_t *d)
{
    char err[512];
    json_t *rows, *row;
    size_t i;

    if ((rows = ts_store_doctor_unused(d->cli->db, d->unused_days, err, sizeof(err))) == NULL) {
        cannot_check(d, err);
        return;
    }
    json_array_foreach(rows, i, row)
    {
        int user = strcmp(str(row, "kind"), "user") == 0;
        const char *last = str(row, "last_used_at");
        /* nobody answers for a client that registered itself (RFC 7591): an abandoned one is only deleted */
        const char *act = user ? "disable or delete the account"
                          : json_is_true(json_object_get(row, "self_registered"))
                              ? "it registered itself (dynamic registration): delete it"
                              : "disable or delete the client";
        if (*last != '\0')
            report(d, user ? "unused-user" : "unused-client", str(row, "name"), "last %s %s (%lld days ago; --unused-days %u): %s",
                   user ? "signed in" : "used", last, num(row, "days"), d->unused_days, act);
        else
            report(d, user ? "unused-user" : "unused-client", str(row, "name"), "%s since %s (%lld days; --unused-days %u): %s",
                   user ? "never signed in" : "no use recorded", str(row, "since"), num(row, "days"), d->unused_days, act);
    }
    json_decref(rows);
}

static void check_secrets(doctor_t *d)
{
    char err[512];
    json_t *rows, *row;
    size_t i;

    if ((rows = ts_store_doctor_old_secrets(d->cli->db, d->secret_max_age_days, err, sizeof(err))) == NULL) {
        cannot_check(d, err);
        return;
    }
    json_array_foreach(rows, i, row)
    {
        const char *expires = str(row, "expires_at");
        report(d, "old-secret", str(row, "client_id"),
               "a secret created %s (%lld days ago; --secret-max-age-days %u) is valid %s%s: tessera client rotate-secret %s",
               str(row, "created_at"), num(row, "days"), d->secret_max_age_days, *expires != '\0' ? "until " : "with no expiry",
               expires, str(row, "client_id"));
    }
    json_decref(rows);
}

static long long slack(unsigned period)
{
    return period / 10 > SLACK_MIN ? period / 10 : SLACK_MIN;
}

/* the current and next keys of one algorithm */
static void check_alg_keys(doctor_t *d, json_t *rows, const char *alg)
{
    const ts_config_t *conf = &d->cli->conf;
    json_t *row, *current = NULL, *next = NULL;
    char b1[32], b2[32];
    size_t i;

    json_array_foreach(rows, i, row)
    {
        if (strcmp(str(row, "alg"), alg) != 0)
            continue;
        if (strcmp(str(row, "state"), "current") == 0)
            current = row;
        else if (strcmp(str(row, "state"), "next") == 0)
            next = row;
    }
    if (current == NULL)
        report(d, "key-schedule", alg, "no current signing key: start a server or run tessera keys rotate");
    else if (num(current, "age") > (long long)conf->key_rotation_period + slack(conf->key_rotation_period))
        report(d, "key-schedule", str(current, "kid"),
               "the current %s key has signed since %s (%s), but key_rotation_period is %s: is a server running? "
               "tessera keys rotate",
               alg, str(current, "since"), duration(num(current, "age"), b1, sizeof(b1)),
               duration(conf->key_rotation_period, b2, sizeof(b2)));
    if (next == NULL)
        report(d, "key-schedule", alg, "no next key is published ahead of rotation: start a server or run tessera keys rotate");
}

static void check_keys(doctor_t *d)
{
    const ts_config_t *conf = &d->cli->conf;
    static const ts_jws_alg_t algs[] = {TS_ALG_RS256, TS_ALG_ES256};
    char err[512], b1[32], b2[32];
    json_t *rows, *row;
    size_t i;

    if ((rows = ts_store_doctor_keys(d->cli->db, err, sizeof(err))) == NULL) {
        cannot_check(d, err);
        return;
    }
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); ++i)
        check_alg_keys(d, rows, ts_jws_alg_name(algs[i]));
    json_array_foreach(rows, i, row)
    {
        if (strcmp(str(row, "state"), "retired") == 0 &&
            num(row, "age") > (long long)conf->key_retention + slack(conf->key_retention))
            report(d, "key-schedule", str(row, "kid"),
                   "retired %s (%s ago), past key_retention (%s), but still published with its private key: is a server "
                   "running? tessera keys rotate",
                   str(row, "since"), duration(num(row, "age"), b1, sizeof(b1)), duration(conf->key_retention, b2, sizeof(b2)));
    }
    json_decref(rows);
}

/* Plain http is fine on a loopback host (RFC 8252 §7.3), and so is a native app's private-use scheme (§7.1): what
 * registration accepts today. Anything else that is not https is either plain http on the network or a value
 * registration would refuse now (written into the table directly, or under older rules). */
static void check_redirect_uris(doctor_t *d)
{
    char err[512], why[512];
    json_t *rows, *row;
    size_t i;

    if ((rows = ts_store_doctor_plain_uris(d->cli->db, err, sizeof(err))) == NULL) {
        cannot_check(d, err);
        return;
    }
    json_array_foreach(rows, i, row)
    {
        if (ts_oauth_check_redirect_uri(str(row, "field"), str(row, "uri"), why, sizeof(why)) == 0)
            continue;
        report(d, "insecure-redirect-uri", str(row, "client_id"), "%s", why);
    }
    json_decref(rows);
}

/* The audit log's hash chain (src/audit/verify.c): a row changed, removed or inserted out of order. Only the first
 * break is reported; what follows it cannot be judged until it is explained. */
static void check_audit_chain(doctor_t *d)
{
    ts_audit_verify_t v;
    char err[512], subject[48];
    int r;

    if ((r = ts_audit_verify(d->cli->db, &v, err, sizeof(err))) < 0) {
        cannot_check(d, err);
        return;
    }
    if (r == 0)
        return;
    snprintf(subject, sizeof(subject), "audit_events id %lld", (long long)v.first_bad);
    report(d, "audit-chain", subject, "%s (%lld rows read): tessera audit verify", v.why, (long long)v.rows);
}

/* ---- the command --------------------------------------------------------------------------------- */

static int parse_days(const char *name, const char *v, unsigned *out)
{
    char *end;
    unsigned long n;

    if (v == NULL || *v < '0' || *v > '9')
        return ts_cli_usage("%s needs a number of days (1 to %d)", name, DAYS_MAX);
    n = strtoul(v, &end, 10);
    if (*end != '\0' || n < 1 || n > DAYS_MAX)
        return ts_cli_usage("%s: expected a number of days from 1 to %d, got '%s'", name, DAYS_MAX, v);
    *out = (unsigned)n;
    return 0;
}

static int parse_args(doctor_t *d, int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const char *v;
        int ret;
        if (strcmp(argv[i], "--json") == 0) {
            d->cli->json = 1;
        } else if (strncmp(argv[i], "--unused-days", 13) == 0 && (argv[i][13] == '\0' || argv[i][13] == '=')) {
            v = ts_cli_option(argc, argv, &i, "--unused-days");
            if ((ret = parse_days("--unused-days", v, &d->unused_days)) != 0)
                return ret;
        } else if (strncmp(argv[i], "--secret-max-age-days", 21) == 0 && (argv[i][21] == '\0' || argv[i][21] == '=')) {
            v = ts_cli_option(argc, argv, &i, "--secret-max-age-days");
            if ((ret = parse_days("--secret-max-age-days", v, &d->secret_max_age_days)) != 0)
                return ret;
        } else {
            return ts_cli_usage("%s\ndoctor: unknown argument '%s'", USAGE, argv[i]);
        }
    }
    return 0;
}

int ts_cli_doctor(ts_cli_t *cli, int argc, char **argv)
{
    doctor_t d = {cli, UNUSED_DAYS_DEFAULT, SECRET_MAX_AGE_DEFAULT, 0, 0};
    int ret;

    if ((ret = parse_args(&d, argc, argv)) != 0)
        return ret;
    if (ts_cli_open_db(cli) != 0)
        return EXIT_CANNOT_CHECK;
    check_demo_accounts(&d);
    check_unused(&d);
    check_secrets(&d);
    check_keys(&d);
    check_redirect_uris(&d);
    check_audit_chain(&d);
    if (!cli->json) {
        if (d.findings == 0)
            puts(d.failed ? "no findings in the checks that ran" : "no findings");
        else
            printf("%zu finding%s\n", d.findings, d.findings == 1 ? "" : "s");
    }
    if (d.failed)
        return EXIT_CANNOT_CHECK;
    return d.findings != 0 ? EXIT_FINDINGS : TS_EXIT_OK;
}
