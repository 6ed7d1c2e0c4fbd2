/*
 * common/db.c - libpq connection handling (see db.h).
 *
 * SQLSTATE classes: 08xxx and 57P01..57P03 (admin shutdown, crash, cannot
 * connect now) mean the server went away: reset and maybe retry; 23505 is a
 * unique violation (HT_ECONFLICT); 40001/40P01 are retried once; the rest is
 * HT_EDB with the SQLSTATE and server text in err->detail (log only).
 *
 * A connection lost inside a transaction is not silently replaced: the new
 * connection would run the caller's next statements in autocommit, and the
 * transaction's earlier writes would be gone without anyone noticing (a job
 * "succeeding" with half its graph writes).  Instead the handle stays in a
 * failed transaction, like PostgreSQL's own aborted one, until the caller
 * says ROLLBACK (issue 4).
 */
#include "common/db.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

struct ht_db {
    PGconn  *conn;
    char    *url;
    char    *app;
    char    *options; /* libpq "options" (server settings), or NULL */
    uint64_t prepared[2]; /* bit per ht_stmt id on this connection */
    int      in_tx;       /* the last statement left a transaction open */
    int      tx_lost;     /* ...and then the connection went: see above */
};

/* Notes whether the connection is inside a transaction now. */
static void
note_tx(ht_db *db)
{
    PGTransactionStatusType s = PQtransactionStatus(db->conn);

    db->in_tx = s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
}

static int
lost_tx_err(ht_err *err)
{
    ht_err_set(err, HT_EUNAVAIL, 503, HT_EXC_BACKEND,
               "the database is unavailable, try again later");
    return ht_err_detail(err, "the connection was lost inside a transaction");
}

static void
notice_quiet(void *arg, const char *msg)
{
    (void) arg;
    HT_LOG_DEBUG("db.notice", "msg=\"%.*s\"", (int) strcspn(msg, "\n"), msg);
}

static int
connect_now(ht_db *db, ht_err *err)
{
    /* A peer that vanishes (a cut link, not a shut-down server) would
     * otherwise hold a statement for the kernel's ~15 minutes of
     * retransmits: unacknowledged data fails after tcp_user_timeout, an
     * idle connection after the keepalives.  A long query is not cut: the
     * server's kernel acknowledges while the backend works.  They come
     * before dbname, so a setting in the URL wins. */
    const char *keys[] = { "keepalives", "keepalives_idle", "keepalives_interval",
                           "keepalives_count", "tcp_user_timeout", "dbname",
                           "application_name", "connect_timeout",
                           db->options ? "options" : NULL, NULL };
    const char *vals[] = { "1", "5", "2", "3", "10000", db->url, db->app, "5",
                           db->options, NULL };

    if (db->conn != NULL) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
    db->prepared[0] = db->prepared[1] = 0;
    db->conn = PQconnectdbParams(keys, vals, 1);
    if (db->conn == NULL)
        return ht_err_set(err, HT_EUNAVAIL, 503, HT_EXC_BACKEND,
                          "could not connect to the database: out of memory");
    if (PQstatus(db->conn) != CONNECTION_OK) {
        char msg[256];
        (void) snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db->conn));
        msg[strcspn(msg, "\n")] = '\0';
        PQfinish(db->conn);
        db->conn = NULL;
        ht_err_set(err, HT_EUNAVAIL, 503, HT_EXC_BACKEND,
                   "the database is unavailable, try again later");
        return ht_err_detail(err, "connect: %s", msg);
    }
    (void) PQsetNoticeProcessor(db->conn, notice_quiet, NULL);
    return HT_OK;
}

ht_db *
ht_db_open(const char *url, const char *app_name, int now, ht_err *err)
{
    ht_db *db = ht_xcalloc(1, sizeof(*db));

    db->url = ht_xstrdup(url);
    db->app = ht_xstrdup(app_name);
    if (now && connect_now(db, err) != HT_OK) {
        ht_db_close(db);
        return NULL;
    }
    return db;
}

void
ht_db_set_options(ht_db *db, const char *options)
{
    free(db->options);
    db->options = options ? ht_xstrdup(options) : NULL;
}

void
ht_db_close(ht_db *db)
{
    if (db == NULL)
        return;
    free(db->options);
    if (db->conn != NULL)
        PQfinish(db->conn);
    free(db->url);
    free(db->app);
    free(db);
}

int
ht_db_ensure(ht_db *db, ht_err *err)
{
    if (db->tx_lost)
        return lost_tx_err(err);
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
        return HT_OK;
    if (db->in_tx) {
        db->tx_lost = 1;
        db->in_tx = 0;
        return lost_tx_err(err);
    }
    return connect_now(db, err);
}

PGconn *
ht_db_conn(ht_db *db)
{
    return db->conn;
}

int
ht_db_in_tx(ht_db *db)
{
    if (db->tx_lost)
        return 1;
    if (db->conn == NULL)
        return 0;
    if (PQstatus(db->conn) != CONNECTION_OK)
        return db->in_tx;
    PGTransactionStatusType s = PQtransactionStatus(db->conn);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
}

int
ht_db_tx_failed(ht_db *db)
{
    if (db->tx_lost)
        return 1;
    if (db->conn != NULL && PQstatus(db->conn) != CONNECTION_OK)
        return db->in_tx;
    return db->conn != NULL && PQtransactionStatus(db->conn) == PQTRANS_INERROR;
}

long
ht_db_changed(PGresult *res)
{
    const char *s = PQcmdTuples(res);

    return (s != NULL && *s) ? strtol(s, NULL, 10) : 0;
}

/* Is this failure the connection going away (as opposed to the statement)? */
static int
is_conn_failure(ht_db *db, const char *sqlstate)
{
    if (PQstatus(db->conn) != CONNECTION_OK)
        return 1;
    if (sqlstate == NULL)
        return 0;
    return strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
           strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0;
}

/* Maps a failed result to an ht_err; returns the code. */
static int
map_failure(ht_db *db, PGresult *res, const char *what, ht_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *text = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    int         code;

    if (text == NULL)
        text = PQerrorMessage(db->conn);
    if (is_conn_failure(db, state)) {
        code = ht_err_set(err, HT_EUNAVAIL, 503, HT_EXC_BACKEND,
                          "the database is unavailable, try again later");
    } else if (state != NULL && strcmp(state, "23505") == 0) {
        code = ht_err_set(err, HT_ECONFLICT, 409, HT_EXC_ILLEGAL_ARG,
                          "the row already exists");
    } else {
        code = ht_err_set(err, HT_EDB, 500, HT_EXC_BACKEND,
                          "the database failed the request");
    }
    ht_err_detail(err, "%s: sqlstate=%s %.*s", what, state ? state : "none",
                  (int) strcspn(text, "\n"), text);
    return code;
}

static int
retryable_state(PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    return state != NULL &&
           (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

/* One attempt; *again is set when a serialization failure or deadlock
 * makes a second attempt worthwhile. */
static int
exec_once(ht_db *db, const ht_stmt *st, const char *const *params,
          PGresult **out, int *again, ht_err *err)
{
    uint64_t bit = (uint64_t) 1 << (st->id & 63);
    int      word = st->id >> 6;
    PGresult *res;

    HT_ASSERT(st->id >= 0 && st->id < 128);
    if (!(db->prepared[word] & bit)) {
        res = PQprepare(db->conn, st->name, st->sql, st->nparams, NULL);
        if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
            int rc = map_failure(db, res, st->name, err);
            PQclear(res);
            return rc;
        }
        PQclear(res);
        db->prepared[word] |= bit;
    }
    res = PQexecPrepared(db->conn, st->name, st->nparams, params, NULL, NULL, 0);
    if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
                        PQresultStatus(res) != PGRES_TUPLES_OK)) {
        int rc = map_failure(db, res, st->name, err);
        *again = rc == HT_EDB && res != NULL && retryable_state(res);
        PQclear(res);
        return rc;
    }
    if (out != NULL)
        *out = res;
    else
        PQclear(res);
    return HT_OK;
}

int
ht_db_exec(ht_db *db, const ht_stmt *st, const char *const *params,
           PGresult **out, ht_err *err)
{
    int in_tx;
    int again = 0;
    int rc;

    rc = ht_db_ensure(db, err);
    if (rc != HT_OK)
        return rc;
    in_tx = ht_db_in_tx(db);
    rc = exec_once(db, st, params, out, &again, err);
    /* Inside a transaction the whole transaction is lost: no retry here. */
    if (in_tx) {
        if (rc == HT_EUNAVAIL && PQstatus(db->conn) != CONNECTION_OK)
            db->tx_lost = 1;
        else
            note_tx(db);
        return rc;
    }
    if (again)
        rc = exec_once(db, st, params, out, &again, err);
    else if (rc == HT_EUNAVAIL && st->idempotent) {
        HT_LOG_WARN("db.reconnect", "stmt=%s", st->name);
        if (connect_now(db, err) == HT_OK)
            rc = exec_once(db, st, params, out, &again, err);
    }
    if (PQstatus(db->conn) == CONNECTION_OK)
        note_tx(db);
    return rc;
}

int
ht_db_query(ht_db *db, const char *sql, int nparams, const char *const *params,
            PGresult **out, ht_err *err)
{
    PGresult *res;
    int       rc;

    rc = ht_db_ensure(db, err);
    if (rc != HT_OK)
        return rc;
    res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
                        PQresultStatus(res) != PGRES_TUPLES_OK)) {
        rc = map_failure(db, res, "query", err);
        PQclear(res);
        if (db->in_tx && PQstatus(db->conn) != CONNECTION_OK)
            db->tx_lost = 1;
        else
            note_tx(db);
        return rc;
    }
    note_tx(db);
    if (out != NULL)
        *out = res;
    else
        PQclear(res);
    return HT_OK;
}

int
ht_db_simple(ht_db *db, const char *sql, ht_err *err)
{
    PGresult *res;
    int       rc = HT_OK;

    /* ROLLBACK ends a lost transaction: the caller knows it is gone. */
    if (db->tx_lost && strcmp(sql, "ROLLBACK") == 0) {
        db->tx_lost = 0;
        db->in_tx = 0;
        if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
            return HT_OK;
    }
    rc = ht_db_ensure(db, err);
    if (rc != HT_OK)
        return rc;
    res = PQexec(db->conn, sql);
    if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
                        PQresultStatus(res) != PGRES_TUPLES_OK))
        rc = map_failure(db, res, "simple", err);
    PQclear(res);
    if (rc != HT_OK && db->in_tx && PQstatus(db->conn) != CONNECTION_OK)
        db->tx_lost = 1;
    else if (PQstatus(db->conn) == CONNECTION_OK)
        note_tx(db);
    return rc;
}

char *
ht_db_i64_array(ht_arena *a, const int64_t *v, size_t n)
{
    char  *s = ht_arena_alloc(a, n * 21 + 3);
    size_t o = 0;

    if (s == NULL)
        return NULL;
    s[o++] = '{';
    for (size_t i = 0; i < n; i++)
        o += (size_t) sprintf(s + o, "%s%" PRId64, i ? "," : "", v[i]);
    s[o++] = '}';
    s[o] = '\0';
    return s;
}

char *
ht_db_text_array(ht_arena *a, const char *const *v, size_t n)
{
    size_t len = 3;
    char  *s, *o;

    for (size_t i = 0; i < n; i++)
        len += 2 * strlen(v[i]) + 3;
    s = ht_arena_alloc(a, len);
    if (s == NULL)
        return NULL;
    o = s;
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = ',';
        *o++ = '"';
        for (const char *p = v[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                *o++ = '\\';
            *o++ = *p;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = '\0';
    return s;
}
