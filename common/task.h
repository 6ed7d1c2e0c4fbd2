/*
 * common/task.h - the task record, its statuses, and the pure rules about
 * them (names, finality, task_name derivation).
 */
#ifndef HT_TASK_H
#define HT_TASK_H

#include <stddef.h>
#include <stdint.h>

#define HT_TASK_STATUS_LIST(X)                                          \
    X(HT_TASK_NEW, "new")                                               \
    X(HT_TASK_SCHEDULING, "scheduling")                                 \
    X(HT_TASK_SCHEDULED, "scheduled")                                   \
    X(HT_TASK_QUEUED, "queued")                                         \
    X(HT_TASK_RESTORING, "restoring")                                   \
    X(HT_TASK_RUNNING, "running")                                       \
    X(HT_TASK_SUCCESS, "success")                                       \
    X(HT_TASK_CANCELLING, "cancelling")                                 \
    X(HT_TASK_CANCELLED, "cancelled")                                   \
    X(HT_TASK_FAILED, "failed")                                         \
    X(HT_TASK_HANGING, "hanging")                                       \
    X(HT_TASK_DELETING, "deleting")

#define HT_X_ENUM(id, name) id,
typedef enum { HT_TASK_STATUS_LIST(HT_X_ENUM) HT_TASK_STATUS_COUNT } ht_task_status;
#undef HT_X_ENUM

/* Lowercase wire name of a status. */
const char *ht_task_status_name(ht_task_status s);
/* Parses a status name in any case; -1 when it is none of them.  "unknown"
 * (any case) parses to HT_TASK_STATUS_COUNT: a filter that matches nothing. */
int ht_task_status_parse(const char *s, ht_task_status *out);
/* success, cancelled, failed: never changes again. */
int ht_task_status_is_final(ht_task_status s);
/* "[new, scheduling, ..., deleting]" as HugeGraph lists the allowed values. */
const char *ht_task_status_list_text(void);

/* A task row as the store returns it; strings in the caller's arena, NULL
 * when absent. */
typedef struct ht_task {
    const char *graph;
    int64_t     id;
    const char *type;
    const char *name;
    const char *callable;
    const char *status;
    const char *input;
    const char *result;
    const char *description;
    const char *server;
    int64_t     progress;
    int         retries;
    int         priority;
    int64_t     create_ms;
    int64_t     update_ms;
} ht_task;

/* The task_name of a gremlin script: its first line, cut to at most max
 * bytes without splitting a UTF-8 character.  Returns the byte length to
 * keep of script (which need not be NUL-terminated at that point). */
size_t ht_task_name_len(const char *script, size_t max);

#endif
