/*
 * common/err.c - filling ht_err (see err.h).
 */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
ht_err_clear(ht_err *err)
{
    if (err == NULL)
        return;
    err->code = HT_OK;
    err->http = 0;
    err->exception = NULL;
    err->msg[0] = '\0';
    err->detail[0] = '\0';
}

int
ht_err_set(ht_err *err, int code, int http, const char *exception,
           const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    err->code = code;
    err->http = http;
    err->exception = exception;
    err->detail[0] = '\0';
    va_start(ap, fmt);
    (void) vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

int
ht_err_detail(ht_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return HT_EINTERNAL;
    va_start(ap, fmt);
    (void) vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    return err->code != HT_OK ? err->code : HT_EINTERNAL;
}
