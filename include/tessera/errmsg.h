#ifndef TESSERA_ERRMSG_H
#define TESSERA_ERRMSG_H

/* How validators and parsers report what is wrong: a message in the caller's buffer, and -1. Defined here
 * (static inline) rather than in a .c file so that the static analysers of `make lint` see that it returns -1. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline int ts_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline int ts_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* Flawfinder: ignore (next line) - fmt is checked at each call: the variadic wrapper has a printf format attribute */
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

#endif
