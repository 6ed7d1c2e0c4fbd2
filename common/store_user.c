/*
 * common/store_user.c - the SQL of the users table (see store_user.h).
 *
 * Statement ids 100..103 and 107 (store_stats.c has 104..106).
 */
#include "common/store_user.h"

#include <stdlib.h>
#include <string.h>

/* $1 name */
static const ht_stmt SQL_USER_HASH = {
    100, "ht_user_hash", "SELECT password_hash FROM users WHERE name = $1", 1, 1
};

/* $1 name, $2 hash */
static const ht_stmt SQL_USER_ADD = {
    101, "ht_user_add",
    "INSERT INTO users (name, password_hash) VALUES ($1, $2)", 2, 0
};

/* $1 name */
static const ht_stmt SQL_USER_DELETE = {
    102, "ht_user_delete", "DELETE FROM users WHERE name = $1", 1, 1
};

/* no parameters */
static const ht_stmt SQL_USER_LIST = {
    103, "ht_user_list",
    "SELECT name, (extract(epoch FROM created_at) * 1000)::bigint"
    " FROM users ORDER BY name",
    0, 1
};

/* $1 name, $2 hash */
static const ht_stmt SQL_USER_SET_HASH = {
    107, "ht_user_set_hash",
    "UPDATE users SET password_hash = $2 WHERE name = $1", 2, 1
};

static int
no_user(ht_err *err, const char *name)
{
    return ht_err_set(err, HT_ENOTFOUND, 404, HT_EXC_NOT_FOUND,
                      "user \"%s\" does not exist", name);
}

int
ht_store_user_hash(ht_db *db, ht_arena *a, const char *name, const char **hash,
                   ht_err *err)
{
    const char *p[1] = { name };
    PGresult   *res = NULL;
    const char *h;
    int         rc;

    rc = ht_db_exec(db, &SQL_USER_HASH, p, &res, err);
    if (rc != HT_OK)
        goto cleanup;
    if (PQntuples(res) == 0) {
        rc = no_user(err, name);
        goto cleanup;
    }
    h = ht_arena_strdup(a, PQgetvalue(res, 0, 0));
    if (h == NULL) {
        rc = ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
        goto cleanup;
    }
    *hash = h;
cleanup:
    PQclear(res);
    return rc;
}

int
ht_store_user_add(ht_db *db, const char *name, const char *hash, ht_err *err)
{
    const char *p[2] = { name, hash };
    int         rc = ht_db_exec(db, &SQL_USER_ADD, p, NULL, err);

    if (rc == HT_ECONFLICT)
        return ht_err_set(err, HT_ECONFLICT, 409, HT_EXC_ILLEGAL_ARG,
                          "user \"%s\" already exists", name);
    return rc;
}

/* Runs a one-row change of user name; HT_ENOTFOUND when it changed none. */
static int
change_one(ht_db *db, const ht_stmt *st, const char *const *p, const char *name,
           ht_err *err)
{
    PGresult *res = NULL;
    int       rc = ht_db_exec(db, st, p, &res, err);

    if (rc == HT_OK && ht_db_changed(res) == 0)
        rc = no_user(err, name);
    PQclear(res);
    return rc;
}

int
ht_store_user_set_hash(ht_db *db, const char *name, const char *hash, ht_err *err)
{
    const char *p[2] = { name, hash };

    return change_one(db, &SQL_USER_SET_HASH, p, name, err);
}

int
ht_store_user_delete(ht_db *db, const char *name, ht_err *err)
{
    const char *p[1] = { name };

    return change_one(db, &SQL_USER_DELETE, p, name, err);
}

int
ht_store_user_list(ht_db *db, ht_arena *a, ht_user **out, size_t *n, ht_err *err)
{
    PGresult *res = NULL;
    ht_user  *rows;
    int       rc, nt;

    rc = ht_db_exec(db, &SQL_USER_LIST, NULL, &res, err);
    if (rc != HT_OK)
        goto cleanup;
    nt = PQntuples(res);
    rows = ht_arena_calloc(a, sizeof(*rows) * (size_t) (nt > 0 ? nt : 1));
    if (rows == NULL) {
        rc = ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
        goto cleanup;
    }
    for (int i = 0; i < nt; i++) {
        rows[i].name = ht_arena_strdup(a, PQgetvalue(res, i, 0));
        rows[i].created_ms = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        if (rows[i].name == NULL) {
            rc = ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
            goto cleanup;
        }
    }
    *out = rows;
    *n = (size_t) nt;
cleanup:
    PQclear(res);
    return rc;
}
