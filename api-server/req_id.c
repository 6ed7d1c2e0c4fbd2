/*
 * api-server/req_id.c - request ids (see req_id.h).
 *
 * The prefix comes from getrandom() once per process; if the kernel has no
 * randomness to give, pid and start time stand in (still distinct between
 * processes on one host, which is what the log needs most).
 */
#include "api-server/req_id.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/util.h"

static pthread_once_t   prefix_once = PTHREAD_ONCE_INIT;
static uint64_t         prefix;
static _Atomic uint64_t counter;

static void
make_prefix(void)
{
    uint64_t r = 0;

    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t) sizeof(r))
        r = ((uint64_t) getpid() << 24) ^ (uint64_t) ht_now_epoch_ms();
    prefix = r & 0xffffffffffffULL;
}

int
api_req_id_ok(const char *s)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strlen(s);
    if (n == 0 || n > API_REQ_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

void
api_req_id_new(char out[API_REQ_ID_MAX + 1])
{
    uint64_t n;

    HT_ASSERT(pthread_once(&prefix_once, make_prefix) == 0);
    n = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed) + 1;
    (void) snprintf(out, API_REQ_ID_MAX + 1, "%012" PRIx64 "-%" PRIu64, prefix, n);
}
