/*
 * common/util.c - aborting allocators, assertions, clocks, number parsing.
 */
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Noreturn void
oom(size_t n)
{
    char   line[128];
    int    len = snprintf(line, sizeof(line),
                          "lvl=fatal evt=oom msg=\"out of memory allocating %zu bytes\"\n", n);
    if (len > 0)
        (void) !write(2, line, (size_t) len);
    abort();
}

void *
ht_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        oom(n);
    return p;
}

void *
ht_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);

    if (p == NULL)
        oom(count * n);
    return p;
}

void *
ht_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        oom(n);
    return q;
}

char *
ht_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char  *p = ht_xmalloc(n);

    memcpy(p, s, n);
    return p;
}

void
ht_assert_fail(const char *expr, const char *file, int line)
{
    char buf[512];
    int  n = snprintf(buf, sizeof(buf),
                      "lvl=fatal evt=assert expr=\"%s\" file=%s line=%d\n", expr,
                      file, line);
    if (n > 0)
        (void) !write(2, buf, (size_t) n);
    abort();
}

int64_t
ht_now_mono_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
ht_now_epoch_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ht_parse_i64(const char *s, int64_t *out)
{
    char     *end;
    long long v;

    if (s == NULL || *s == '\0' || *s == ' ' || *s == '+')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (int64_t) v;
    return 0;
}
