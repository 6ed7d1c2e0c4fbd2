/*
 * common/db.h - the one libpq wrapper: a connection, prepared statements,
 * SQLSTATE mapping and reconnects.
 *
 * Statements are static ht_stmt descriptors (defined in store_*.c) that are
 * prepared lazily, once per connection.  After a broken connection the next
 * call reconnects; a statement marked idempotent is also retried once on the
 * new connection.  A non-idempotent one (an INSERT) is not: whether it
 * committed is unknown, so the caller gets HT_EUNAVAIL and the client a 503.
 *
 * Not thread-safe: one ht_db per thread or process.
 */
#ifndef HT_DB_H
#define HT_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/err.h"

typedef struct ht_stmt {
    int         id;         /* 0..127, unique among all statements */
    const char *name;       /* prepared statement name */
    const char *sql;
    int         nparams;
    int         idempotent; /* safe to re-run after a broken connection */
} ht_stmt;

typedef struct ht_db ht_db;

/* A handle for url; connects at once when connect_now, else at first use.
 * Returns NULL only when connect_now and the connection failed (err says
 * why, HT_EUNAVAIL). */
ht_db *ht_db_open(const char *url, const char *app_name, int connect_now,
                  ht_err *err);
void   ht_db_close(ht_db *db);

/* Server settings for every (re)connection, in libpq's "options" form
 * ("-c name=value ..."); takes effect from the next connection. */
void ht_db_set_options(ht_db *db, const char *options);

/* Ensures a live connection (reconnecting if needed). */
int ht_db_ensure(ht_db *db, ht_err *err);

/* Runs a prepared statement with text parameters (NULL = SQL NULL).  On
 * HT_OK *out holds the result (caller PQclears it; out may be NULL to drop
 * it).  Errors: HT_EUNAVAIL (connection), HT_ECONFLICT (23505), HT_EDB. */
int ht_db_exec(ht_db *db, const ht_stmt *st, const char *const *params,
               PGresult **out, ht_err *err);

/* Runs SQL text built at run time with $n placeholders and text parameters
 * (never values in the text).  Not prepared, not retried; else as
 * ht_db_exec. */
int ht_db_query(ht_db *db, const char *sql, int nparams,
                const char *const *params, PGresult **out, ht_err *err);

/* Runs plain SQL without parameters (BEGIN, COMMIT, migrations). */
int ht_db_simple(ht_db *db, const char *sql, ht_err *err);

/* True while a transaction opened with ht_db_simple("BEGIN") is pending,
 * as libpq reports it. */
int ht_db_in_tx(ht_db *db);

/* True when the open transaction has failed and can only be rolled back
 * (a COMMIT would silently roll it back). */
int ht_db_tx_failed(ht_db *db);

/* The raw connection, for LISTEN-free special cases; may be NULL. */
PGconn *ht_db_conn(ht_db *db);

/* Array literals for $n parameters ("{1,2}", "{\"a\",\"b\"}"; text
 * elements quoted and escaped), in arena a; NULL past its cap. */
char *ht_db_i64_array(ht_arena *a, const int64_t *v, size_t n);
char *ht_db_text_array(ht_arena *a, const char *const *v, size_t n);

/* Number of rows a command changed (PQcmdTuples as a number). */
long ht_db_changed(PGresult *res);

#endif
