/*
 * common/arena.h - region allocator: one per request, one per job.
 *
 * Memory is handed out from large blocks and released all at once by
 * ht_arena_free().  An arena may carry a byte cap; past it ht_arena_alloc()
 * returns NULL, which is how a job's memory limit is reported.  Nothing is
 * freed piece by piece.  Cleanups registered with ht_arena_defer() run in
 * reverse order when the arena is freed (json_decref, PQclear, ...).
 */
#ifndef HT_ARENA_H
#define HT_ARENA_H

#include <stddef.h>

typedef struct ht_arena ht_arena;

/* A new arena; block_size 0 picks a default, limit 0 means no cap.
 * Aborts on out-of-memory (process-lifetime allocation). */
ht_arena *ht_arena_new(size_t block_size, size_t limit);

/* n bytes, 16-byte aligned, uninitialised; NULL only past the cap. */
void *ht_arena_alloc(ht_arena *a, size_t n);

/* n zeroed bytes; NULL only past the cap. */
void *ht_arena_calloc(ht_arena *a, size_t n);

/* Copies of a string (NUL-terminated) or of n bytes plus a NUL (in arena a). */
char *ht_arena_strdup(ht_arena *a, const char *s);
char *ht_arena_strndup(ht_arena *a, const char *s, size_t n);

/* printf into the arena (in arena a); NULL past the cap. */
char *ht_arena_printf(ht_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Registers fn(arg) to run when the arena is freed, last registered first.
 * Returns 0, or -1 past the cap (fn is then NOT registered). */
int ht_arena_defer(ht_arena *a, void (*fn)(void *), void *arg);

/* Bytes handed out so far (what the cap is measured against). */
size_t ht_arena_used(const ht_arena *a);

/* Runs the deferred cleanups and releases everything; NULL is fine. */
void ht_arena_free(ht_arena *a);

#endif
