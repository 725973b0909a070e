#ifndef TESSERA_AUDIT_CHAIN_H
#define TESSERA_AUDIT_CHAIN_H

/* The audit log's hash chain (src/audit/chain.c): pure functions, shared by the writer (src/store/audit.c), the
 * verifier and the tests.
 *
 *   hash(row) = SHA-256(prev_hash || encode(row))      prev_hash of the first row: 32 zero bytes
 *
 *   encode(row) = "TSA1"                                 version of this encoding
 *                 id                                     8 bytes, big-endian two's complement
 *                 at                                     8 bytes, big-endian: microseconds since 1970-01-01 UTC
 *                 actor action target outcome source details, each either
 *                   0x00                                 SQL NULL
 *                   0x01, length (4 bytes, big-endian), the bytes
 *
 * The fields are the row's columns as PostgreSQL prints them in a text-format result (the output functions of
 * inet and jsonb, which normalise what was written), so that the verifier hashes exactly what it reads back.
 * Every field has a tag and a length: no two different rows have the same encoding (moving a byte from actor
 * to action, or NULL versus empty, changes it). */
#include <stddef.h>
#include <stdint.h>

#define TS_AUDIT_HASH_LEN 32

/* one row's content (its hashes aside) */
typedef struct st_ts_audit_row_t {
    int64_t id;
    int64_t at_us;                                                    /* microseconds since the Unix epoch */
    const char *actor, *action, *target, *outcome, *source, *details; /* NULL: SQL NULL */
} ts_audit_row_t;

/** writes the canonical encoding of row into buf when it fits in cap; returns its length either way */
size_t ts_audit_encode(const ts_audit_row_t *row, unsigned char *buf, size_t cap);
/** out = SHA-256(prev || encode(row)); 0, or -1 when out of memory */
int ts_audit_hash(const unsigned char prev[TS_AUDIT_HASH_LEN], const ts_audit_row_t *row, unsigned char out[TS_AUDIT_HASH_LEN]);
/** lower-case hex of n bytes into out (2n + 1 bytes) */
void ts_audit_hex(const unsigned char *in, size_t n, char *out);
/** parses 2n hex digits (exactly) into out; 0 or -1 */
int ts_audit_unhex(const char *hex, unsigned char *out, size_t n);

#endif
