/*
 * api-server/users_cmd.h - `hugetask-api user ...`: the operator's command
 * for the users of --auth basic.
 *
 *   hugetask-api user add NAME [options]     password from stdin
 *   hugetask-api user passwd NAME [options]  new password from stdin
 *   hugetask-api user delete NAME [options]
 *   hugetask-api user list [options]
 *
 * Options are the daemon's (--database-url or DATABASE_URL, --log-level);
 * the schema is migrated first if needed.  The password is read from the
 * terminal without echo (asked twice) or, when stdin is not a terminal, as
 * its first line.
 */
#ifndef API_USERS_CMD_H
#define API_USERS_CMD_H

#include <stdio.h>

/* Runs the command; argv[0] is "user".  Returns the exit status: 0 done,
 * 1 refused or failed (message on stderr), 2 usage. */
int api_users_cmd(const char *progname, int argc, char **argv);

/* The usage text of the command, for --help. */
void api_users_cmd_help(FILE *f, const char *progname);

#endif
