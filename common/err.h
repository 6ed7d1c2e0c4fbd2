/*
 * common/err.h - the one error idiom: functions return HT_OK or a negative
 * HT_E* code and fill an ht_err (which may be NULL) with what the client
 * sees (HTTP status, HugeGraph exception class, message) and what only the
 * log sees (detail).
 */
#ifndef HT_ERR_H
#define HT_ERR_H

#define HT_OK         0
#define HT_EINVAL     (-1)  /* bad input */
#define HT_ENOTFOUND  (-2)
#define HT_ECONFLICT  (-3)  /* a compare-and-set lost the race */
#define HT_EDB        (-4)  /* the database failed the statement */
#define HT_EUNAVAIL   (-5)  /* the database cannot be reached */
#define HT_ENOMEM     (-6)  /* a capped arena is full */
#define HT_ECANCELED  (-7)
#define HT_ETIMEDOUT  (-8)
#define HT_ELIMIT     (-9)  /* a configured limit was exceeded */
#define HT_EIO        (-10) /* sockets, files */
#define HT_EINTERNAL  (-11)
#define HT_ESTOPPED   (-12) /* stop a script now: it may not catch this */

/* HugeGraph's exception classes, as its clients expect them. */
#define HT_EXC_ILLEGAL_ARG   "class java.lang.IllegalArgumentException"
#define HT_EXC_NOT_FOUND     "class org.apache.hugegraph.exception.NotFoundException"
#define HT_EXC_BAD_REQUEST   "class jakarta.ws.rs.BadRequestException"
#define HT_EXC_NOT_SUPPORTED "class jakarta.ws.rs.NotSupportedException"
#define HT_EXC_LIMIT         "class org.apache.hugegraph.exception.LimitExceedException"
#define HT_EXC_NOT_ALLOWED   "class jakarta.ws.rs.NotAllowedException"
#define HT_EXC_NO_ROUTE      "class jakarta.ws.rs.NotFoundException"
#define HT_EXC_BACKEND       "class org.apache.hugegraph.backend.BackendException"
#define HT_EXC_SERVER        "class org.apache.hugegraph.HugeException"

typedef struct ht_err {
    int         code;        /* HT_E*; HT_OK when nothing failed */
    int         http;        /* status the API answers with; 0 means 500 */
    const char *exception;   /* HugeGraph class name (static string) */
    char        msg[512];    /* sent to the client */
    char        detail[256]; /* log only: SQLSTATE, libpq or nng text */
} ht_err;

/* Clears err (NULL is fine). */
void ht_err_clear(ht_err *err);

/* Fills err (if any) and returns code, so callers can write
 * "return ht_err_set(...)". */
int ht_err_set(ht_err *err, int code, int http, const char *exception,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Sets err->detail (log-only text) and returns err->code (or HT_EINTERNAL). */
int ht_err_detail(ht_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
