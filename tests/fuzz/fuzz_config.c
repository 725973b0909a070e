/* ts_config_load (src/core/config.c) on a configuration file: the input is the file, written to a memfd and
 * loaded through /proc/self/fd (the loader takes a path). The environment is cleared of TESSERA_* and
 * DATABASE_URL first, so only the file counts. Invariants: a loaded configuration satisfies what the table
 * and the final checks promise (bounds, a parsed listen address, a canonical issuer), and
 * ts_config_dispose frees every string whether the load succeeded or not. */
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz.h"
#include "tessera/config.h"

extern char **environ;

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char name[128];

    /* unsetenv changes environ, so look again from the start after each removal */
    for (int again = 1; again;) {
        again = 0;
        for (char **e = environ; *e != NULL; ++e) {
            size_t n = strcspn(*e, "=");
            if ((strncmp(*e, "TESSERA_", 8) == 0 || strncmp(*e, "DATABASE_URL=", 13) == 0) && n < sizeof(name)) {
                memcpy(name, *e, n);
                name[n] = '\0';
                unsetenv(name);
                again = 1;
                break;
            }
        }
    }
    FUZZ_ASSERT((fd = memfd_create("tessera-fuzz-config", 0)) >= 0);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    return 0;
}

static void check_loaded(const ts_config_t *c)
{
    FUZZ_ASSERT(strncmp(c->issuer, "https://", 8) == 0 || strncmp(c->issuer, "http://", 7) == 0);
    FUZZ_ASSERT(strpbrk(c->issuer, "?# ") == NULL && c->issuer[strlen(c->issuer) - 1] != '/');
    FUZZ_ASSERT(c->listen_host != NULL && *c->listen_host != '\0' && c->listen_port >= 1 && c->listen_port <= 65535);
    FUZZ_ASSERT(c->threads <= 64 && c->db_pool_size >= 1 && c->db_pool_size <= 32);
    FUZZ_ASSERT(c->max_request_body >= 1024 && c->max_request_body <= 1024 * 1024);
    FUZZ_ASSERT(c->max_header_bytes >= 1024 && c->max_header_bytes <= 64 * 1024);
    FUZZ_ASSERT(c->access_token_ttl >= 30 && c->access_token_ttl <= 24 * 3600);
    FUZZ_ASSERT(c->key_rotation_period >= 5 && c->key_retention >= 5 && c->sync_interval >= 1);
    FUZZ_ASSERT(strcmp(c->access_token_alg, "ES256") == 0 || strcmp(c->access_token_alg, "RS256") == 0);
    FUZZ_ASSERT((*c->tls_certificate_file != '\0') == (*c->tls_private_key_file != '\0'));
    FUZZ_ASSERT(c->rate_limit_client_burst >= 1 && c->rate_limit_address_burst >= 1);
    FUZZ_ASSERT(c->database != NULL && c->default_resource != NULL && c->database_password_file != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_config_t c;
    char err[256];

    FUZZ_ASSERT(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size);
    memset(err, 0x7f, sizeof(err));
    if (ts_config_load(&c, path, err, sizeof(err)) == 0)
        check_loaded(&c);
    else
        FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
    ts_config_dispose(&c);
    return 0;
}
