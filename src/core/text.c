#include <string.h>
#include "tessera/text.h"

int ts_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ssize_t ts_form_decode(const char *s, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; ++i) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;
            if (i + 2 >= len || (hi = ts_hex_value((unsigned char)s[i + 1])) < 0 || (lo = ts_hex_value((unsigned char)s[i + 2])) < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0')
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return (ssize_t)n;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

ssize_t ts_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    size_t n = 0;
    if (len % 4 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; ++k) {
            if (in[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                ++pad;
            } else if (pad > 0 || (v[k] = b64val((unsigned char)in[i + k])) < 0) {
                return -1;
            }
        }
        /* the bits that padding leaves unused must be zero, or two encodings would decode alike */
        if ((pad == 1 && (v[2] & 3) != 0) || (pad == 2 && (v[1] & 15) != 0))
            return -1;
        unsigned char bytes[3] = {(unsigned char)(v[0] << 2 | v[1] >> 4), (unsigned char)(v[1] << 4 | v[2] >> 2),
                                  (unsigned char)(v[2] << 6 | v[3])};
        size_t take = 3 - (size_t)pad;
        if (n + take > cap)
            return -1;
        memcpy(out + n, bytes, take); /* Flawfinder: ignore - n + take <= cap checked above */
        n += take;
    }
    return (ssize_t)n;
}
