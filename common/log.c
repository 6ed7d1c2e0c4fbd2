/*
 * common/log.c - the logger (see log.h).
 *
 * Each line is formatted into one stack buffer and written with a single
 * write(2), so lines from threads and forked children never interleave.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char         proc_name[32] = "hugetask";
static ht_log_level min_level = HT_LOG_LINFO;
static char         ctx_prefix[96];
static _Thread_local char req_id[65]; /* "" = no request */
/* Lines held by ht_log_hold, written together; at most what one write to
 * a pipe keeps whole (PIPE_BUF), so held lines still never interleave. */
static _Thread_local char   held[4096];
static _Thread_local size_t held_len;
static _Thread_local int    holding;

void
ht_log_init(const char *proc, ht_log_level min)
{
    (void) snprintf(proc_name, sizeof(proc_name), "%s", proc);
    min_level = min;
}

int
ht_log_level_parse(const char *s)
{
    static const char *names[] = { "debug", "info", "warn", "error" };

    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

void
ht_log_ctx_set(const char *fmt, ...)
{
    va_list ap;

    if (fmt == NULL || *fmt == '\0') {
        ctx_prefix[0] = '\0';
        return;
    }
    va_start(ap, fmt);
    (void) vsnprintf(ctx_prefix, sizeof(ctx_prefix), fmt, ap);
    va_end(ap);
}

void
ht_log_req_set(const char *id)
{
    (void) snprintf(req_id, sizeof(req_id), "%s", id ? id : "");
}

static void
flush_held(void)
{
    if (held_len > 0)
        (void) !write(2, held, held_len);
    held_len = 0;
}

void
ht_log_write(ht_log_level lvl, const char *evt, const char *fmt, ...)
{
    static const char *names[] = { "debug", "info", "warn", "error" };
    char               line[1024];
    struct timeval     tv;
    struct tm          tm;
    size_t             n;
    int                k;
    va_list            ap;

    if (lvl < min_level)
        return;
    (void) gettimeofday(&tv, NULL);
    (void) gmtime_r(&tv.tv_sec, &tm);
    k = snprintf(line, sizeof(line),
                 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ lvl=%s proc=%s pid=%d "
                 "evt=%s%s%s%s%s",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int) (tv.tv_usec / 1000), names[lvl],
                 proc_name, (int) getpid(), evt, ctx_prefix[0] ? " " : "",
                 ctx_prefix, req_id[0] ? " req=" : "", req_id);
    if (k < 0)
        return;
    n = (size_t) k < sizeof(line) ? (size_t) k : sizeof(line) - 1;
    if (fmt != NULL && *fmt != '\0' && n < sizeof(line) - 2) {
        line[n++] = ' ';
        va_start(ap, fmt);
        k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        va_end(ap);
        if (k > 0)
            n += (size_t) k < sizeof(line) - n ? (size_t) k : sizeof(line) - n - 1;
    }
    if (n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (holding) {
        if (held_len + n > sizeof(held))
            flush_held();
        if (n <= sizeof(held)) {
            memcpy(held + held_len, line, n);
            held_len += n;
            return;
        }
    }
    (void) !write(2, line, n);
}

void
ht_log_hold(int on)
{
    if (!on)
        flush_held();
    holding = on;
}

const char *
ht_logq(char *buf, unsigned size, const char *s)
{
    unsigned o = 0;

    if (size < 4)
        return "\"\"";
    buf[o++] = '"';
    for (const char *p = s ? s : ""; *p && o < size - 3 && (p - s) < 200; p++) {
        unsigned char c = (unsigned char) *p;
        if (c == '"' || c == '\\') {
            if (o + 2 >= size - 2)
                break;
            buf[o++] = '\\';
            buf[o++] = (char) c;
        } else if (c < 0x20) {
            buf[o++] = ' ';
        } else {
            buf[o++] = (char) c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
