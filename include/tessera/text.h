#ifndef TESSERA_TEXT_H
#define TESSERA_TEXT_H

/* Small decoders shared by the HTTP layer and the protocol logic: no I/O, no allocation. */
#include <stddef.h>
#include <sys/types.h>

/** the value of one hexadecimal digit (either case), or -1 */
int ts_hex_value(int c);
/** application/x-www-form-urlencoded decoding of s[0..len) into out (room for len + 1; NUL-terminated):
 *  '+' is a space, %XX a byte. -1 on a malformed escape or an encoded NUL. */
ssize_t ts_form_decode(const char *s, size_t len, char *out);
/** strict standard base64 (RFC 4648 §4, padding required) into out (cap bytes); -1 on bad input */
ssize_t ts_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap);

#endif
