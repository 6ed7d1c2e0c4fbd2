/*
 * common/log.h - one line per event, key=value, one write(2) per line.
 *
 *   HT_LOG_INFO("task.claimed", "task=%" PRId64 " graph=%s", id, graph);
 *   ts=2026-12-03T10:00:00.123Z lvl=info proc=worker pid=311 evt=task.claimed ...
 *
 * User-supplied values go through ht_logq() (quoted, escaped, cut at 200
 * bytes).  Safe from any thread and from forked children; no allocation.
 */
#ifndef HT_LOG_H
#define HT_LOG_H

typedef enum { HT_LOG_LDEBUG, HT_LOG_LINFO, HT_LOG_LWARN, HT_LOG_LERROR } ht_log_level;

/* Process name for the proc= key and the lowest level written. */
void ht_log_init(const char *proc, ht_log_level min);
/* Parses "debug", "info", "warn", "error"; -1 if none of them. */
int ht_log_level_parse(const char *s);
/* A prefix added to every later line of this process (e.g. "task=42"). */
void ht_log_ctx_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The request this thread is handling: every later line of this thread
 * gets req=<id> after evt= until it is cleared with NULL.  id must be a
 * safe token (the API validates it); it is cut at 64 bytes. */
void ht_log_req_set(const char *id);

/* With on, this thread's next lines are gathered and written a few KB at
 * a time (a batch of finished tasks: one write instead of one per task);
 * ht_log_hold(0) writes what is held.  Lines stay whole and in order. */
void ht_log_hold(int on);

void ht_log_write(ht_log_level lvl, const char *evt, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Quotes s for a log value into buf (borrowed; returns buf). */
const char *ht_logq(char *buf, unsigned size, const char *s);

#define HT_LOG_DEBUG(evt, ...) ht_log_write(HT_LOG_LDEBUG, evt, __VA_ARGS__)
#define HT_LOG_INFO(evt, ...)  ht_log_write(HT_LOG_LINFO, evt, __VA_ARGS__)
#define HT_LOG_WARN(evt, ...)  ht_log_write(HT_LOG_LWARN, evt, __VA_ARGS__)
#define HT_LOG_ERROR(evt, ...) ht_log_write(HT_LOG_LERROR, evt, __VA_ARGS__)

#endif
