/*
 * common/migrate.c - schema migrations (see migrate.h).
 *
 * The migration texts come from the sql/ files, turned into a C table at build
 * time (common/CMakeLists.txt, sql_embed.cmake), so a binary always carries
 * the schema it was built for and needs no file at run time.
 */
#include "common/migrate.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "sql_migrations.h"

/* Any fixed number: the advisory lock key of the migration runner. */
#define MIGRATE_LOCK_KEY "7206153941"

static const ht_stmt SQL_APPLIED = {
    120, "ht_migrate_applied",
    "SELECT 1 FROM schema_migrations WHERE version = $1", 1, 1
};
static const ht_stmt SQL_RECORD = {
    121, "ht_migrate_record",
    "INSERT INTO schema_migrations (version) VALUES ($1)", 1, 0
};

int
ht_migrate(ht_db *db, int *applied, ht_err *err)
{
    int rc;
    int n = 0;

    rc = ht_db_simple(db,
                      "CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version text PRIMARY KEY,"
                      " applied_at timestamptz NOT NULL DEFAULT now())",
                      err);
    /* Two processes racing on CREATE TABLE IF NOT EXISTS can collide. */
    if (rc == HT_ECONFLICT)
        rc = HT_OK;
    if (rc != HT_OK)
        return rc;
    for (size_t i = 0; i < ht_sql_migration_count; i++) {
        const char *version = ht_sql_migrations[i].name;
        const char *params[1] = { version };
        PGresult   *res = NULL;

        rc = ht_db_simple(db, "BEGIN", err);
        if (rc == HT_OK)
            rc = ht_db_simple(db, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", err);
        if (rc == HT_OK)
            rc = ht_db_exec(db, &SQL_APPLIED, params, &res, err);
        if (rc == HT_OK && PQntuples(res) == 0) {
            rc = ht_db_simple(db, ht_sql_migrations[i].text, err);
            if (rc == HT_OK)
                rc = ht_db_exec(db, &SQL_RECORD, params, NULL, err);
            if (rc == HT_OK) {
                HT_LOG_INFO("db.migrated", "version=%s", version);
                n++;
            }
        }
        PQclear(res);
        if (rc == HT_OK)
            rc = ht_db_simple(db, "COMMIT", err);
        if (rc != HT_OK) {
            ht_err tmp;
            (void) ht_db_simple(db, "ROLLBACK", &tmp);
            return rc;
        }
    }
    if (applied != NULL)
        *applied = n;
    return HT_OK;
}
