/* error.c - error messages that name what went wrong. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sk_core.h"

int sk_err(SkError *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int sk_err_prefix(SkError *err, const char *fmt, ...) {
    if (err) {
        char prefix[256], old[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        snprintf(err->msg, sizeof err->msg, "%s: %.760s", prefix, old);
    }
    return -1;
}
