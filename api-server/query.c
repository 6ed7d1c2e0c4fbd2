/*
 * api-server/query.c - query strings: split on '&', then '=', then
 * %-decode ('+' is a space, as browsers and Java clients send it).
 */
#include "api-server/api.h"

#include <string.h>

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into the arena; NULL on a bad escape or a NUL byte. */
static char *
decode(ht_arena *a, const char *s, size_t n)
{
    char  *out = ht_arena_alloc(a, n + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return NULL;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return NULL;
            out[o++] = (char) (hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

int
api_query_parse(ht_arena *a, const char *query, api_param **out, size_t *n)
{
    size_t     count = 0, cap = 1;
    api_param *params;

    *out = NULL;
    *n = 0;
    if (query == NULL || *query == '\0')
        return HT_OK;
    for (const char *p = query; *p; p++)
        if (*p == '&')
            cap++;
    params = ht_arena_alloc(a, cap * sizeof(*params));
    if (params == NULL)
        return HT_ENOMEM;
    for (const char *p = query; *p;) {
        size_t      len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t      klen = eq ? (size_t) (eq - p) : len;

        if (len > 0) {
            params[count].name = decode(a, p, klen);
            params[count].value = eq ? decode(a, eq + 1, len - klen - 1)
                                     : decode(a, "", 0);
            if (params[count].name == NULL || params[count].value == NULL)
                return HT_EINVAL;
            count++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    *out = params;
    *n = count;
    return HT_OK;
}

const char *
api_param_get(const api_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_params; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

size_t
api_param_count(const api_req *req, const char *name)
{
    size_t k = 0;

    for (size_t i = 0; i < req->n_params; i++)
        if (strcmp(req->params[i].name, name) == 0)
            k++;
    return k;
}

int
api_json_depth(const char *buf, size_t len, int limit)
{
    int depth = 0, deepest = 0, in_string = 0;

    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > limit)
                    return limit + 1;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}
