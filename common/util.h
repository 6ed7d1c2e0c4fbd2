/*
 * common/util.h - small process-wide helpers: aborting allocators, the
 * assertion macro, clocks.
 */
#ifndef HT_UTIL_H
#define HT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocate or abort: for process-lifetime objects only. */
void *ht_xmalloc(size_t n);
void *ht_xcalloc(size_t count, size_t n);
void *ht_xrealloc(void *p, size_t n);
char *ht_xstrdup(const char *s);

/* Programmer errors: abort with file and line. */
#define HT_ASSERT(x)                                                        \
    do {                                                                    \
        if (!(x))                                                           \
            ht_assert_fail(#x, __FILE__, __LINE__);                         \
    } while (0)
_Noreturn void ht_assert_fail(const char *expr, const char *file, int line);

/* Milliseconds on the monotonic clock, and since the epoch. */
int64_t ht_now_mono_ms(void);
int64_t ht_now_epoch_ms(void);

/* Parses a whole decimal int64 (optional leading '-'); 0 on success, -1 on
 * empty text, junk or overflow. */
int ht_parse_i64(const char *s, int64_t *out);

#endif
