/* The canonical encoding of an audit row and its link in the chain (include/tessera/audit_chain.h says why it
 * is unambiguous). */
#include <stdlib.h>
#include <string.h>
#include "tessera/audit.h"
#include "tessera/audit_chain.h"
#include "tessera/crypto.h"

#define MAGIC "TSA1"
#define STACK_MAX 4096

const char *ts_audit_outcome_name(ts_audit_outcome_t outcome)
{
    switch (outcome) {
    case TS_AUDIT_SUCCESS:
        return "success";
    case TS_AUDIT_FAILURE:
        return "failure";
    case TS_AUDIT_ALERT:
        return "alert";
    }
    return "failure";
}

/* appends n bytes at *len when they fit; *len always advances, so that a first pass with cap 0 sizes the buffer */
static void put(unsigned char *buf, size_t cap, size_t *len, const void *p, size_t n)
{
    if (buf != NULL && n != 0 && *len + n <= cap)
        memcpy(buf + *len, p, n); /* Flawfinder: ignore - bounded by cap just above */
    *len += n;
}

static void put_u64(unsigned char *buf, size_t cap, size_t *len, uint64_t v)
{
    unsigned char b[8];
    for (int i = 7; i >= 0; --i, v >>= 8)
        b[i] = (unsigned char)(v & 0xff);
    put(buf, cap, len, b, sizeof(b));
}

static void put_text(unsigned char *buf, size_t cap, size_t *len, const char *s)
{
    unsigned char tag = s != NULL, n[4];
    put(buf, cap, len, &tag, 1);
    if (s == NULL)
        return;
    size_t l = strlen(s);
    /* a field longer than 4 GiB cannot be stored in a row; its length would wrap: refuse the row's encoding */
    uint32_t l32 = l > UINT32_MAX ? UINT32_MAX : (uint32_t)l;
    n[0] = (unsigned char)(l32 >> 24), n[1] = (unsigned char)(l32 >> 16), n[2] = (unsigned char)(l32 >> 8),
    n[3] = (unsigned char)l32;
    put(buf, cap, len, n, sizeof(n));
    put(buf, cap, len, s, l32);
}

size_t ts_audit_encode(const ts_audit_row_t *row, unsigned char *buf, size_t cap)
{
    size_t len = 0;
    put(buf, cap, &len, MAGIC, 4);
    put_u64(buf, cap, &len, (uint64_t)row->id);
    put_u64(buf, cap, &len, (uint64_t)row->at_us);
    put_text(buf, cap, &len, row->actor);
    put_text(buf, cap, &len, row->action);
    put_text(buf, cap, &len, row->target);
    put_text(buf, cap, &len, row->outcome);
    put_text(buf, cap, &len, row->source);
    put_text(buf, cap, &len, row->details);
    return len;
}

int ts_audit_hash(const unsigned char prev[TS_AUDIT_HASH_LEN], const ts_audit_row_t *row, unsigned char out[TS_AUDIT_HASH_LEN])
{
    unsigned char stack[STACK_MAX], *buf = stack;
    size_t need = TS_AUDIT_HASH_LEN + ts_audit_encode(row, NULL, 0);

    /* rows are small (the writer bounds every field); a large one, which only tampering makes, goes to the heap */
    if (need > sizeof(stack) && (buf = malloc(need)) == NULL)
        return -1;
    memcpy(buf, prev, TS_AUDIT_HASH_LEN); /* Flawfinder: ignore - need >= TS_AUDIT_HASH_LEN */
    ts_audit_encode(row, buf + TS_AUDIT_HASH_LEN, need - TS_AUDIT_HASH_LEN);
    ts_crypto_sha256(buf, need, out);
    if (buf != stack)
        free(buf);
    return 0;
}

void ts_audit_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; ++i) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ts_audit_unhex(const char *hex, unsigned char *out, size_t n)
{
    if (hex == NULL || strlen(hex) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; ++i) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}
