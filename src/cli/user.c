/* `tessera user create|passwd|disable|enable|list`. Passwords come from stdin (never the command line,
 * where `ps` and shell history would see them) and are stored as argon2id hashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tessera/cli.h"
#include "tessera/oauth_metadata.h"
#include "tessera/records.h"

#define USAGE_CREATE "usage: tessera user create USERNAME [--email E] [--name N] [--role R]...   (password on stdin)"
#define USAGE                                                                                                                      \
    "usage: tessera user create|passwd|disable|enable|list ...\n"                                                                 \
    "  create USERNAME [--email E] [--name N] [--role R]...   add a user; the password is read from stdin\n"                      \
    "  passwd USERNAME                                        set a new password, read from stdin\n"                              \
    "  disable USERNAME                                       refuse the user's logins and tokens\n"                              \
    "  enable USERNAME                                        allow them again\n"                                                 \
    "  list                                                   list users"

/* NIST SP 800-63B §5.1.1.2: at least 8 characters */
#define PASSWORD_MIN 8
#define NAME_MAX_CHARS 200

/* Text output goes to a terminal: control bytes from the database must not reach it as they are. */
static void put_padded(const char *s, int width)
{
    int n = 0;
    for (; *s != '\0'; ++s, ++n)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
    printf("%*s", n < width ? width - n : 0, "");
}

static json_t *nullable(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *user_json(const ts_user_record_t *u)
{
    json_t *roles = json_array();
    for (size_t i = 0; roles != NULL && i < u->roles.len; ++i)
        json_array_append_new(roles, json_string(u->roles.items[i]));
    return json_pack("{s:s, s:s, s:o, s:b, s:o, s:s, s:o, s:s, s:s, s:s, s:o}", "username", u->username, "subject", u->subject,
                     "email", nullable(u->email), "email_verified", u->email_verified, "name", nullable(u->name), "status",
                     u->status, "roles", roles, "created_at", u->created_at, "updated_at", u->updated_at,
                     "password_changed_at", u->password_changed_at, "last_login_at", nullable(u->last_login_at));
}

/* Reads the password (twice on a terminal, to catch typos) and hashes it into hash; exit code. */
static int read_password(char *hash, size_t cap)
{
    char pw[TS_PASSWORD_MAX + 2], again[TS_PASSWORD_MAX + 2];
    int ret = TS_EXIT_OK;
    size_t len;

    if (ts_cli_read_secret("Password: ", pw, sizeof(pw)) != 0) {
        ret = ts_cli_usage("no password: give it on stdin (at most %d characters, one line)", TS_PASSWORD_MAX);
        goto exit;
    }
    len = strlen(pw);
    if (len < PASSWORD_MIN || len > TS_PASSWORD_MAX) {
        ret = ts_cli_usage("the password must have %d to %d characters", PASSWORD_MIN, TS_PASSWORD_MAX);
        goto exit;
    }
    if (isatty(STDIN_FILENO)) {
        if (ts_cli_read_secret("Repeat password: ", again, sizeof(again)) != 0 || strcmp(pw, again) != 0) {
            ret = ts_cli_usage("the passwords do not match");
            goto exit;
        }
    }
    if (ts_password_hash(pw, len, hash, cap) != 0)
        ret = ts_cli_fail("cannot hash the password");
exit:
    ts_crypto_cleanse(pw, sizeof(pw));
    ts_crypto_cleanse(again, sizeof(again));
    return ret;
}

static int unknown_option(const char *arg)
{
    if (strcmp(arg, "--email") == 0 || strcmp(arg, "--name") == 0 || strcmp(arg, "--role") == 0)
        return ts_cli_usage("%s needs a value", arg);
    return ts_cli_usage("unknown option '%s'", arg);
}

static int parse_create(int argc, char **argv, ts_user_record_t *u)
{
    char err[512];
    const char *v;

    for (int i = 2; i < argc; ++i) {
        if ((v = ts_cli_option(argc, argv, &i, "--email")) != NULL) {
            if (ts_oauth_check_email("--email", v, err, sizeof(err)) != 0)
                return ts_cli_usage("%s", err);
            free(u->email);
            if ((u->email = strdup(v)) == NULL)
                return ts_cli_fail("out of memory");
        } else if ((v = ts_cli_option(argc, argv, &i, "--name")) != NULL) {
            if (ts_oauth_check_text("--name", v, NAME_MAX_CHARS, err, sizeof(err)) != 0)
                return ts_cli_usage("%s", err);
            free(u->name);
            if ((u->name = strdup(v)) == NULL)
                return ts_cli_fail("out of memory");
        } else if ((v = ts_cli_option(argc, argv, &i, "--role")) != NULL) {
            if (ts_oauth_check_role_name("--role", v, err, sizeof(err)) != 0)
                return ts_cli_usage("%s", err);
            if (!ts_strlist_contains(&u->roles, v) && ts_strlist_push(&u->roles, v) != 0)
                return ts_cli_fail("out of memory");
        } else if (argv[i][0] == '-') {
            return unknown_option(argv[i]);
        } else if (u->username == NULL) {
            if (ts_oauth_check_username("USERNAME", argv[i], err, sizeof(err)) != 0)
                return ts_cli_usage("%s", err);
            if ((u->username = strdup(argv[i])) == NULL)
                return ts_cli_fail("out of memory");
        } else {
            return ts_cli_usage("unexpected argument '%s'\n%s", argv[i], USAGE_CREATE);
        }
    }
    if (u->username == NULL)
        return ts_cli_usage("user create needs a USERNAME\n%s", USAGE_CREATE);
    return TS_EXIT_OK;
}

static int cmd_create(ts_cli_t *cli, int argc, char **argv)
{
    ts_user_record_t u = {0}, existing;
    char err[1024], hash[TS_PASSWORD_HASH_MAX], subject[37];
    int ret;

    if ((ret = parse_create(argc, argv, &u)) != TS_EXIT_OK)
        goto exit;
    if (ts_cli_open_db(cli) != 0) {
        ret = TS_EXIT_FAILURE;
        goto exit;
    }
    /* before asking for a password that could not be used */
    if ((ret = ts_store_user_get(cli->db, u.username, &existing, err, sizeof(err))) != TS_STORE_NOT_FOUND) {
        if (ret == 0)
            ts_user_record_dispose(&existing);
        ret = ret == 0 ? ts_cli_fail("user '%s' already exists", u.username) : ts_cli_fail("%s", err);
        goto exit;
    }
    if ((ret = read_password(hash, sizeof(hash))) != TS_EXIT_OK)
        goto exit;
    if (ts_store_user_create(cli->db, &u, hash, subject, err, sizeof(err)) != 0) {
        ret = ts_cli_fail("%s", err);
        goto exit;
    }
    ts_cli_audit_change(cli, "admin.user.create", subject, NULL); /* the subject: no username in the audit log */
    if (cli->json)
        ts_cli_print_json(json_pack("{s:s, s:s}", "username", u.username, "subject", subject));
    else
        printf("created user %s (subject %s)\n", u.username, subject);
    ret = TS_EXIT_OK;
exit:
    ts_user_record_dispose(&u);
    return ret;
}

static int one_username(int argc, char **argv, const char **username)
{
    char err[512];

    if (argc != 3 || argv[2][0] == '-')
        return ts_cli_usage("usage: tessera user %s USERNAME", argv[1]);
    if (ts_oauth_check_username("USERNAME", argv[2], err, sizeof(err)) != 0)
        return ts_cli_usage("%s", err);
    *username = argv[2];
    return TS_EXIT_OK;
}

static int cmd_passwd(ts_cli_t *cli, int argc, char **argv)
{
    ts_user_record_t u;
    const char *username = NULL;
    char err[1024], hash[TS_PASSWORD_HASH_MAX];
    int ret;

    if ((ret = one_username(argc, argv, &username)) != TS_EXIT_OK)
        return ret;
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_user_get(cli->db, username, &u, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    char subject[40];
    snprintf(subject, sizeof(subject), "%s", u.subject != NULL ? u.subject : "");
    ts_user_record_dispose(&u);
    if ((ret = read_password(hash, sizeof(hash))) != TS_EXIT_OK)
        return ret;
    if (ts_store_user_set_password(cli->db, username, hash, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    ts_cli_audit_change(cli, "admin.user.passwd", subject, NULL);
    if (cli->json)
        ts_cli_print_json(json_pack("{s:s, s:b}", "username", username, "password_changed", 1));
    else
        printf("password of %s changed\n", username);
    return TS_EXIT_OK;
}

static int set_status(ts_cli_t *cli, int argc, char **argv, const char *status)
{
    const char *username = NULL;
    char err[1024];
    int ret;

    if ((ret = one_username(argc, argv, &username)) != TS_EXIT_OK)
        return ret;
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_user_set_status(cli->db, username, status, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    ts_user_record_t u;
    if (ts_store_user_get(cli->db, username, &u, err, sizeof(err)) == 0) {
        ts_cli_audit_change(cli, strcmp(status, "active") == 0 ? "admin.user.enable" : "admin.user.disable", u.subject, NULL);
        ts_user_record_dispose(&u);
    } else {
        fprintf(stderr, "tessera: warning: the change was made, but its audit event was not recorded: %s\n", err);
    }
    if (cli->json)
        ts_cli_print_json(json_pack("{s:s, s:s}", "username", username, "status", status));
    else
        printf("user %s is %s\n", username, status);
    return TS_EXIT_OK;
}

static int cmd_disable(ts_cli_t *cli, int argc, char **argv)
{
    return set_status(cli, argc, argv, "disabled");
}

static int cmd_enable(ts_cli_t *cli, int argc, char **argv)
{
    return set_status(cli, argc, argv, "active");
}

static int cmd_list(ts_cli_t *cli, int argc, char **argv)
{
    ts_user_record_t *users;
    size_t n;
    char err[1024];

    if (argc > 2)
        return ts_cli_usage("usage: tessera user list");
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_user_list(cli->db, &users, &n, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    if (cli->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; ++i)
            json_array_append_new(arr, user_json(users + i));
        ts_cli_print_json(arr);
    } else {
        printf("%-32s %-9s %-36s %-32s %s\n", "USERNAME", "STATUS", "SUBJECT", "EMAIL", "ROLES");
        for (size_t i = 0; i < n; ++i) {
            char *roles = ts_strlist_join(&users[i].roles, ",");
            printf("%-32s %-9s %-36s ", users[i].username, users[i].status, users[i].subject);
            put_padded(users[i].email != NULL ? users[i].email : "-", 32);
            printf(" %s\n", roles != NULL ? roles : "");
            free(roles);
        }
    }
    for (size_t i = 0; i < n; ++i)
        ts_user_record_dispose(users + i);
    free(users);
    return TS_EXIT_OK;
}

int ts_cli_user(ts_cli_t *cli, int argc, char **argv)
{
    static const ts_cli_subcommand_t subcommands[] = {
        {"create", cmd_create}, {"passwd", cmd_passwd}, {"disable", cmd_disable}, {"enable", cmd_enable}, {"list", cmd_list},
    };

    return ts_cli_dispatch(cli, argc, argv, subcommands, sizeof(subcommands) / sizeof(subcommands[0]), "user", USAGE);
}
