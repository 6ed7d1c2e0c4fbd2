/*
 * common/arena.c - region allocator (see arena.h).
 *
 * Blocks form a singly linked list; allocations larger than a quarter of the
 * block size get a block of their own so a big string does not waste the
 * tail of the current block.  With HT_ARENA_DEBUG every allocation is its own
 * malloc, so AddressSanitizer sees overruns inside the arena.
 */
#include "common/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define ALIGN 16
#define DEFAULT_BLOCK 8192

typedef struct block {
    struct block *next;
    size_t        size; /* usable bytes after the header */
    size_t        used;
    /* data follows, aligned */
} block;

typedef struct deferred {
    struct deferred *next;
    void (*fn)(void *);
    void *arg;
} deferred;

struct ht_arena {
    block    *head;
    deferred *defers;
    size_t    block_size;
    size_t    limit;
    size_t    total; /* bytes handed out */
};

#define HDR (((sizeof(block) + ALIGN - 1) / ALIGN) * ALIGN)

ht_arena *
ht_arena_new(size_t block_size, size_t limit)
{
    ht_arena *a = ht_xcalloc(1, sizeof(*a));

    a->block_size = block_size ? block_size : DEFAULT_BLOCK;
    a->limit = limit;
    return a;
}

static block *
block_new(size_t size)
{
    block *b = malloc(HDR + size);

    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

void *
ht_arena_alloc(ht_arena *a, size_t n)
{
    size_t need = (n + ALIGN - 1) & ~(size_t) (ALIGN - 1);
    block *b;

    if (need == 0)
        need = ALIGN;
    if (need < n) /* overflow */
        return NULL;
    if (a->limit && (need > a->limit || a->total > a->limit - need))
        return NULL;
#ifdef HT_ARENA_DEBUG
    b = block_new(n ? n : 1);
    if (b == NULL)
        return NULL;
    b->next = a->head;
    a->head = b;
    a->total += need;
    return (char *) b + HDR;
#else
    b = a->head;
    if (b == NULL || b->size - b->used < need) {
        if (need > a->block_size / 4) {
            /* A block of its own, linked behind the current one. */
            block *big = block_new(need);
            if (big == NULL)
                return NULL;
            big->used = need;
            if (b == NULL) {
                a->head = big;
            } else {
                big->next = b->next;
                b->next = big;
            }
            a->total += need;
            return (char *) big + HDR;
        }
        b = block_new(a->block_size);
        if (b == NULL)
            return NULL;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *) b + HDR + b->used;
    b->used += need;
    a->total += need;
    return p;
#endif
}

void *
ht_arena_calloc(ht_arena *a, size_t n)
{
    void *p = ht_arena_alloc(a, n);

    if (p != NULL)
        memset(p, 0, n);
    return p;
}

char *
ht_arena_strndup(ht_arena *a, const char *s, size_t n)
{
    char *p;

    if (n == SIZE_MAX)
        return NULL;
    p = ht_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
ht_arena_strdup(ht_arena *a, const char *s)
{
    return ht_arena_strndup(a, s, strlen(s));
}

char *
ht_arena_printf(ht_arena *a, const char *fmt, ...)
{
    va_list ap;
    int     n;
    char   *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    p = ht_arena_alloc(a, (size_t) n + 1);
    if (p == NULL)
        return NULL;
    va_start(ap, fmt);
    (void) vsnprintf(p, (size_t) n + 1, fmt, ap);
    va_end(ap);
    return p;
}

int
ht_arena_defer(ht_arena *a, void (*fn)(void *), void *arg)
{
    deferred *d = ht_arena_alloc(a, sizeof(*d));

    if (d == NULL)
        return -1;
    d->fn = fn;
    d->arg = arg;
    d->next = a->defers;
    a->defers = d;
    return 0;
}

size_t
ht_arena_used(const ht_arena *a)
{
    return a->total;
}

void
ht_arena_free(ht_arena *a)
{
    if (a == NULL)
        return;
    /* Cleanups first: their records live in the blocks. */
    for (deferred *d = a->defers; d != NULL; d = d->next)
        d->fn(d->arg);
    for (block *b = a->head; b != NULL;) {
        block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}
