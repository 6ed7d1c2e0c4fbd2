/*
 * common/migrate.h - applies the sql/ migrations compiled into the binary.
 *
 * Each file runs in its own transaction and is recorded in
 * schema_migrations; a transaction-level advisory lock makes two processes
 * starting at once apply each file exactly once.
 */
#ifndef HT_MIGRATE_H
#define HT_MIGRATE_H

#include "common/db.h"

/* Applies every migration not yet recorded; *applied counts them. */
int ht_migrate(ht_db *db, int *applied, ht_err *err);

#endif
