/* What every command shares: database, key-encryption key, messages, output. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "tessera/audit.h"
#include "tessera/cli.h"

static void vsay(const char *fmt, va_list ap)
{
    fputs("tessera: ", stderr);
    /* Flawfinder: ignore (next line) - fmt comes from ts_cli_usage()/ts_cli_fail(), which have printf format attributes */
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int ts_cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    return TS_EXIT_USAGE;
}

int ts_cli_dispatch(ts_cli_t *cli, int argc, char **argv, const ts_cli_subcommand_t *subs, size_t n, const char *noun,
                    const char *usage)
{
    if (argc < 2)
        return ts_cli_usage("%s", usage);
    for (size_t i = 0; i < n; ++i)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].fn(cli, argc, argv);
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        puts(usage);
        return TS_EXIT_OK;
    }
    return ts_cli_usage("unknown %s command '%s'\n%s", noun, argv[1], usage);
}

int ts_cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    return TS_EXIT_FAILURE;
}

const char *ts_cli_option(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

int ts_cli_open_db(ts_cli_t *cli)
{
    char err[1024];
    if (cli->db != NULL)
        return 0;
    if ((cli->db = ts_store_connect(&cli->conf, "tessera-cli", err, sizeof(err))) == NULL) {
        ts_cli_fail("%s", err);
        return -1;
    }
    return 0;
}

static int read_kek_file(const char *path, char *out, size_t cap)
{
    struct stat st;
    FILE *fp = fopen(path, "r"); /* Flawfinder: ignore - key_encryption_key_file, the operator's choice, read-only */
    size_t n;

    if (fp == NULL) {
        ts_cli_fail("key_encryption_key_file: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 077) != 0)
        fprintf(stderr, "tessera: warning: %s is readable by group or others; chmod 600 it\n", path);
    n = fread(out, 1, cap - 1, fp);
    fclose(fp);
    out[n] = '\0';
    return (int)n;
}

int ts_cli_load_kek(ts_cli_t *cli)
{
    char text[256];
    /* Flawfinder: ignore (next line) - the documented way to pass the KEK; parsed with its length checked */
    const char *env = getenv("TESSERA_KEY_ENCRYPTION_KEY");
    int n, ret = 0;

    if (cli->have_kek)
        return 0;
    if (env != NULL && *env != '\0') {
        n = snprintf(text, sizeof(text), "%s", env);
    } else if (*cli->conf.key_encryption_key_file != '\0') {
        if ((n = read_kek_file(cli->conf.key_encryption_key_file, text, sizeof(text))) < 0)
            return -1;
    } else {
        ts_cli_fail("no key-encryption key: set TESSERA_KEY_ENCRYPTION_KEY or key_encryption_key_file "
                    "(32 random bytes as 64 hex digits, e.g. from `openssl rand -hex 32`)");
        return -1;
    }
    if (n <= 0 || (size_t)n >= sizeof(text) || ts_kek_parse(text, (size_t)n, &cli->kek) != 0) {
        ts_cli_fail("the key-encryption key must be 32 bytes written as 64 hex digits or 43 base64url characters");
        ret = -1;
    } else {
        cli->have_kek = 1;
    }
    ts_crypto_cleanse(text, sizeof(text));
    return ret;
}

int ts_cli_audit_change(ts_cli_t *cli, const char *action, const char *target, json_t *details)
{
    char err[512], *text = NULL;
    int ret = -1;

    if (details == NULL)
        details = json_object();
    /* the operator by uid: who ran the command on this host, without a name */
    if (details != NULL && json_object_set_new(details, "uid", json_integer((json_int_t)getuid())) == 0)
        text = json_dumps(details, JSON_COMPACT);
    json_decref(details);
    if (cli->db != NULL && text != NULL)
        ret = ts_audit_write(cli->db, &(ts_audit_event_t){.actor = "cli", .action = action, .target = target, .outcome = TS_AUDIT_SUCCESS,
                                                          .details = text},
                             err, sizeof(err));
    else
        snprintf(err, sizeof(err), "%s", cli->db == NULL ? "no database connection" : "out of memory");
    free(text);
    if (ret != 0)
        fprintf(stderr, "tessera: warning: the change was made, but its audit event (%s) was not recorded: %s\n", action, err);
    return ret;
}

void ts_cli_print_json(json_t *value)
{
    char *s = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s != NULL) {
        puts(s);
        free(s);
    }
    json_decref(value);
}

int ts_cli_read_secret(const char *prompt, char *out, size_t cap)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    size_t n;

    if (tty) {
        fputs(prompt, stderr);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(out, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (got == NULL)
        return -1;
    n = strcspn(out, "\r\n");
    if (out[n] == '\0' && n == cap - 1) /* no newline within cap: too long */
        return -1;
    out[n] = '\0';
    return 0;
}
