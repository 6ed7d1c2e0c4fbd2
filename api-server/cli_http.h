/*
 * api-server/cli_http.h - the operator CLI's HTTP client: one request per
 * connection, plain HTTP to a hugetask API, JSON bodies.
 */
#ifndef CLI_HTTP_H
#define CLI_HTTP_H

#include <jansson.h>
#include <stddef.h>

typedef struct cli_resp {
    int     status;
    char   *body;     /* NUL-terminated; caller frees with cli_resp_fini */
    size_t  len;
    json_t *json;     /* the body parsed, or NULL */
} cli_resp;

/* Sends method path (with query) to base ("http://host:port"), with an
 * optional JSON body.  0 on a complete reply (any status), -1 with a
 * message in errbuf when the server could not be reached or spoke
 * something other than HTTP. */
/* Credentials for every later request: "name:password" (HTTP basic), or
 * NULL/"" for none.  -1 when there is no colon or it is too long. */
int  cli_http_set_user(const char *userpass);
int  cli_http(const char *base, const char *method, const char *path,
              const char *body, cli_resp *out, char *errbuf, size_t errsize);
void cli_resp_fini(cli_resp *r);

#endif
