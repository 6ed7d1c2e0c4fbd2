/*
 * api-server/auth.h - optional HTTP basic auth (--auth basic).
 *
 * Users and their crypt(3) hashes (yescrypt, salted, slow on purpose) live
 * in PostgreSQL (sql/0007_users.sql, common/store_user.c).  Verifying a hash
 * costs tens of milliseconds, so a verified pair is remembered for
 * API_AUTH_CACHE_TTL_MS: the cache is keyed by HMAC-SHA-256(process secret,
 * user NUL password), so it never holds a password, a wrong password has
 * another key and always takes the slow path, and the key cannot be
 * computed from outside the process.  The TTL runs from the verification
 * and is not extended by hits, so a deleted user or a changed password
 * takes effect within that time on every API process.
 *
 * All answers are HugeGraph's 401 shape with WWW-Authenticate; a database
 * that cannot be reached is 503 (the credentials are not known to be bad).
 * Not here: rate limiting (none yet).
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include <stddef.h>

#include "api-server/api.h"
#include "api-server/metrics.h"

#define API_AUTH_NONE  0
#define API_AUTH_BASIC 1

#define API_USER_MAX          64   /* bytes of a user name */
#define API_PASSWORD_MAX      1024 /* bytes of a password */
#define API_AUTH_HEADER_MAX   2048 /* longer Authorization values are malformed */
#define API_AUTH_CACHE_TTL_MS 60000
#define API_AUTH_CACHE_SETS   256  /* x API_AUTH_CACHE_WAYS entries at most */
#define API_AUTH_CACHE_WAYS   4

#define API_EXC_NOT_AUTHORIZED "class jakarta.ws.rs.NotAuthorizedException"
#define API_AUTH_REALM         "hugetask"

/* "none" or "basic" (any case): API_AUTH_*; -1 for anything else. */
int api_auth_mode_parse(const char *s);

/* The auth state for mode; metrics (may be NULL) gets the check counters.
 * With basic it computes one throw-away hash (for unknown users, so they
 * take as long as wrong passwords).  NULL (err filled) when the system has
 * no randomness for the cache secret or libcrypt has no yescrypt. */
api_auth *api_auth_new(int mode, api_metrics *metrics, ht_err *err);
void      api_auth_free(api_auth *a);
int       api_auth_enabled(const api_auth *a);

/* Checks req->authorization; on success sets req->user (in arena) and
 * returns 1.  Otherwise fills resp (401 with the challenge, or 503, 500)
 * and returns 0.  Thread-safe; uses req->db on a cache miss. */
int api_auth_check(api_auth *a, api_req *req, api_resp *resp);

/* Forgets every cached verification (tests; a future reload). */
void api_auth_cache_clear(api_auth *a);

/* ---- pure parts, exported for tests/unit ------------------------------ */

/* Strict standard base64 ('=' padding optional but only at the end, no
 * whitespace) of in[0..n) into out (at most cap bytes, then NUL-terminated,
 * so cap must leave room for it).  0 and *len, or -1. */
int api_base64_decode(const char *in, size_t n, char *out, size_t cap,
                      size_t *len);

typedef enum {
    API_BASIC_OK,
    API_BASIC_MISSING,   /* no header (or an empty one) */
    API_BASIC_SCHEME,    /* another scheme than Basic */
    API_BASIC_MALFORMED, /* bad base64, no colon, empty parts, NUL, too long */
} api_basic_status;

/* Parses an Authorization value "Basic <base64(user:password)>" (scheme in
 * any case, split on the first colon as RFC 7617 says).  user and pass
 * point into buf, NUL-terminated; buf must hold API_AUTH_HEADER_MAX bytes. */
api_basic_status api_basic_parse(const char *header, char *buf, size_t size,
                                 const char **user, const char **pass);

/* 1 if name is a valid user name: 1..64 of [A-Za-z0-9._@-]. */
int api_user_name_ok(const char *name);

/* A new yescrypt hash of password into out (size >= 128 is plenty).
 * HT_OK or HT_EINTERNAL (err filled). */
int api_password_hash(const char *password, char *out, size_t size, ht_err *err);

/* Recomputes password's hash with stored's setting and compares in constant
 * time: HT_OK on a match, HT_EINVAL on a mismatch, HT_EINTERNAL when stored
 * is not a hash libcrypt can use (or memory ran out). */
int api_password_verify(const char *password, const char *stored);

/* Constant-time equality of n bytes: 1 equal, 0 not. */
int api_ct_equal(const void *a, const void *b, size_t n);

#endif
