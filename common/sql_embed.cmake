# Turns sql/NNNN_*.sql into sql_migrations.c/.h: a table of {name, text}.
# Run as: cmake -DSQL_DIR=... -DOUT_DIR=... -P sql_embed.cmake
file(GLOB files "${SQL_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT files)
set(body "")
set(table "")
set(i 0)
foreach(f ${files})
    get_filename_component(name "${f}" NAME_WE)
    file(READ "${f}" hex HEX)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
    string(APPEND body "static const char m${i}[] = {${hex}0x00};\n")
    string(APPEND table "    { \"${name}\", m${i} },\n")
    math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUT_DIR}/sql_migrations.h.tmp"
"/* generated from sql/ by common/sql_embed.cmake; do not edit */
#ifndef HT_SQL_MIGRATIONS_H
#define HT_SQL_MIGRATIONS_H
#include <stddef.h>
typedef struct ht_sql_migration { const char *name; const char *text; } ht_sql_migration;
extern const ht_sql_migration ht_sql_migrations[];
extern const size_t ht_sql_migration_count;
#endif
")
file(WRITE "${OUT_DIR}/sql_migrations.c.tmp"
"/* generated from sql/ by common/sql_embed.cmake; do not edit */
#include \"sql_migrations.h\"
${body}
const ht_sql_migration ht_sql_migrations[] = {
${table}    { NULL, NULL }
};
const size_t ht_sql_migration_count = ${i};
")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different
    "${OUT_DIR}/sql_migrations.h.tmp" "${OUT_DIR}/sql_migrations.h")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different
    "${OUT_DIR}/sql_migrations.c.tmp" "${OUT_DIR}/sql_migrations.c")
