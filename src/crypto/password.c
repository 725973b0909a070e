#include <stdint.h>
#include <string.h>
#include <argon2.h>
#include <openssl/crypto.h>
#include <tessera/crypto.h>

/* OWASP's argon2id minimum (m=19 MiB, t=2, p=1) */
#define T_COST 2
#define M_COST 19456
#define PARALLELISM 1
#define SALT_LEN 16
#define HASH_LEN 32

/* A stored hash names its own cost. These ceilings stop a corrupted or planted one from asking for
 * gigabytes or minutes per login, while leaving room to raise our own parameters later. */
#define M_COST_MAX (256 * 1024)
#define T_COST_MAX 16
#define PARALLELISM_MAX 16

static const char phc_prefix[] = "$argon2id$v=19$m=";

/* reads a decimal number of at most 9 digits (no sign, no leading zero) followed by the character end */
static const char *parse_param(const char *s, char end, uint32_t *out)
{
    uint32_t v = 0;
    int digits = 0;

    if (*s == '0')
        return NULL;
    while (*s >= '0' && *s <= '9') {
        if (++digits > 9)
            return NULL;
        v = v * 10 + (uint32_t)(*s++ - '0');
    }
    if (digits == 0 || *s != end)
        return NULL;
    *out = v;
    return s + 1;
}

/* checks the PHC header and the cost parameters; argon2 itself decodes the salt and the hash */
static int check_phc(const char *phc)
{
    uint32_t m, t, p;
    const char *s;

    if (strnlen(phc, TS_PASSWORD_HASH_MAX) >= TS_PASSWORD_HASH_MAX || strncmp(phc, phc_prefix, sizeof(phc_prefix) - 1) != 0)
        return -1;
    s = phc + sizeof(phc_prefix) - 1;
    if ((s = parse_param(s, ',', &m)) == NULL || strncmp(s, "t=", 2) != 0)
        return -1;
    if ((s = parse_param(s + 2, ',', &t)) == NULL || strncmp(s, "p=", 2) != 0)
        return -1;
    if ((s = parse_param(s + 2, '$', &p)) == NULL)
        return -1;
    if (p > PARALLELISM_MAX || t > T_COST_MAX || m > M_COST_MAX || m < 8 * p)
        return -1;
    return 0;
}

int ts_password_hash(const char *pw, size_t len, char *out, size_t cap)
{
    unsigned char salt[SALT_LEN];
    char encoded[TS_PASSWORD_HASH_MAX];
    size_t enclen;
    int ret = -1;

    if (out == NULL || len > TS_PASSWORD_MAX || (pw == NULL && len != 0))
        return -1;
    if (pw == NULL)
        pw = "";
    enclen = argon2_encodedlen(T_COST, M_COST, PARALLELISM, SALT_LEN, HASH_LEN, Argon2_id);
    if (enclen > sizeof(encoded) || cap < enclen)
        return -1;
    if (ts_crypto_random(salt, sizeof(salt)) != 0)
        return -1;
    if (argon2id_hash_encoded(T_COST, M_COST, PARALLELISM, pw, len, salt, sizeof(salt), HASH_LEN, encoded, sizeof(encoded)) ==
        ARGON2_OK) {
        /* argon2_encodedlen counts the NUL */
        memcpy(out, encoded, strlen(encoded) + 1); /* Flawfinder: ignore - enclen (with the NUL) <= cap checked above */
        ret = 0;
    }
    OPENSSL_cleanse(salt, sizeof(salt));
    return ret;
}

int ts_password_verify(const char *phc, const char *pw, size_t len)
{
    if (phc == NULL || check_phc(phc) != 0)
        return -1;
    /* ts_password_hash refuses such passwords, so no stored hash can match one; skip the work */
    if (len > TS_PASSWORD_MAX || (pw == NULL && len != 0))
        return 0;
    if (pw == NULL)
        pw = "";
    switch (argon2id_verify(phc, pw, len)) {
    case ARGON2_OK:
        return 1;
    case ARGON2_VERIFY_MISMATCH:
        return 0;
    default:
        return -1;
    }
}
