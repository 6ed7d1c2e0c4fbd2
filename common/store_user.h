/*
 * common/store_user.h - the SQL of the users table (sql/0007_users.sql).
 *
 * Only hashes travel here; hashing and verifying passwords is the API's
 * business (api-server/auth.c).
 */
#ifndef HT_STORE_USER_H
#define HT_STORE_USER_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/db.h"
#include "common/err.h"

typedef struct ht_user {
    const char *name;       /* (in arena) */
    int64_t     created_ms; /* epoch milliseconds */
} ht_user;

/* The stored hash of name (in arena a).  HT_ENOTFOUND when there is no such
 * user; else HT_OK or the database's error. */
int ht_store_user_hash(ht_db *db, ht_arena *a, const char *name,
                       const char **hash, ht_err *err);

/* Creates a user.  HT_ECONFLICT when the name is taken. */
int ht_store_user_add(ht_db *db, const char *name, const char *hash,
                      ht_err *err);

/* Replaces a user's hash.  HT_ENOTFOUND when there is no such user. */
int ht_store_user_set_hash(ht_db *db, const char *name, const char *hash,
                           ht_err *err);

/* Deletes a user.  HT_ENOTFOUND when there is no such user. */
int ht_store_user_delete(ht_db *db, const char *name, ht_err *err);

/* Every user, by name (rows in arena a). */
int ht_store_user_list(ht_db *db, ht_arena *a, ht_user **out, size_t *n,
                       ht_err *err);

#endif
