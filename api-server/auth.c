/*
 * api-server/auth.c - HTTP basic auth (see auth.h).
 *
 * libcrypt's home: the only file that includes <crypt.h>.  The request path
 * on a cache hit is one HMAC-SHA-256 (microseconds) and a mutex held for a
 * four-entry scan.  On a miss: one primary-key SELECT and one crypt_rn
 * (yescrypt at libcrypt's default cost), outside any lock, so a slow
 * verification never holds up another request.
 *
 * Denials are logged once (evt=auth.denied): at debug for a missing header
 * (every browser and most clients ask once without), at info otherwise,
 * with the user name quoted and never the password.
 */
#include "api-server/auth.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "api-server/reply_json.h"
#include "api-server/sha256.h"
#include "common/log.h"
#include "common/store_user.h"
#include "common/util.h"

typedef struct cache_entry {
    uint8_t key[API_SHA256_LEN];
    int64_t expires_ms; /* monotonic; 0 = empty */
} cache_entry;

struct api_auth {
    int             mode;
    api_metrics    *metrics;
    uint8_t         secret[32];
    char            dummy[CRYPT_OUTPUT_SIZE]; /* a hash no password matches */
    pthread_mutex_t lock;
    cache_entry     cache[API_AUTH_CACHE_SETS][API_AUTH_CACHE_WAYS];
};

/* ---- pure parts ------------------------------------------------------- */

int
api_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char                 d = 0;

    for (size_t i = 0; i < n; i++)
        d |= (unsigned char) (x[i] ^ y[i]);
    return d == 0;
}

static int
b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int
api_base64_decode(const char *in, size_t n, char *out, size_t cap, size_t *len)
{
    size_t   o = 0, pad = 0;
    uint32_t acc = 0;
    int      bits = 0;

    /* '=' only as the last one or two characters of a whole quantum. */
    while (pad < n && pad < 2 && in[n - 1 - pad] == '=')
        pad++;
    if (pad > 0 && n % 4 != 0)
        return -1;
    n -= pad;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char) in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t) v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap)
                return -1;
            out[o++] = (char) ((acc >> bits) & 0xff);
        }
    }
    /* The bits left over must be zero, or two texts decode alike. */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    if (cap == 0)
        return -1;
    out[o] = '\0';
    *len = o;
    return 0;
}

api_basic_status
api_basic_parse(const char *header, char *buf, size_t size, const char **user,
                const char **pass)
{
    const char *p = header, *end;
    size_t      n, len;
    char       *colon;

    if (header == NULL)
        return API_BASIC_MISSING;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return API_BASIC_MISSING;
    if (strlen(p) > API_AUTH_HEADER_MAX)
        return API_BASIC_MALFORMED;
    if (strncasecmp(p, "Basic", 5) != 0 || (p[5] != ' ' && p[5] != '\t' && p[5] != '\0'))
        return API_BASIC_SCHEME;
    p += 5;
    while (*p == ' ' || *p == '\t')
        p++;
    end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    n = (size_t) (end - p);
    if (n == 0 || api_base64_decode(p, n, buf, size, &len) != 0)
        return API_BASIC_MALFORMED;
    /* A NUL inside would cut the user or password short unnoticed. */
    if (strlen(buf) != len)
        return API_BASIC_MALFORMED;
    colon = strchr(buf, ':');
    if (colon == NULL || colon == buf || colon[1] == '\0')
        return API_BASIC_MALFORMED;
    *colon = '\0';
    if (strlen(buf) > API_USER_MAX || strlen(colon + 1) > API_PASSWORD_MAX)
        return API_BASIC_MALFORMED;
    *user = buf;
    *pass = colon + 1;
    return API_BASIC_OK;
}

int
api_user_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > API_USER_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
              c == '-'))
            return 0;
    }
    return 1;
}

int
api_password_hash(const char *password, char *out, size_t size, ht_err *err)
{
    char               setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *cd = NULL;
    const char        *h;
    int                rc = HT_OK;

    /* Count 0 is libcrypt's default cost; NULL bytes: it reads the OS's
     * randomness itself. */
    if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, (int) sizeof(setting)) == NULL) {
        rc = ht_err_set(err, HT_EINTERNAL, 500, HT_EXC_SERVER,
                        "could not make a password salt: %s", strerror(errno));
        goto cleanup;
    }
    cd = calloc(1, sizeof(*cd));
    if (cd == NULL) {
        rc = ht_err_set(err, HT_EINTERNAL, 500, HT_EXC_SERVER, "out of memory");
        goto cleanup;
    }
    h = crypt_rn(password, setting, cd, (int) sizeof(*cd));
    if (h == NULL || h[0] != '$') {
        rc = ht_err_set(err, HT_EINTERNAL, 500, HT_EXC_SERVER,
                        "could not hash the password: %s", strerror(errno));
        goto cleanup;
    }
    if (strlen(h) >= size) {
        rc = ht_err_set(err, HT_EINTERNAL, 500, HT_EXC_SERVER,
                        "the password hash is longer than %zu bytes", size);
        goto cleanup;
    }
    memcpy(out, h, strlen(h) + 1);
cleanup:
    if (cd != NULL) {
        explicit_bzero(cd, sizeof(*cd));
        free(cd);
    }
    return rc;
}

int
api_password_verify(const char *password, const char *stored)
{
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    const char        *h;
    int                rc;

    if (cd == NULL)
        return HT_EINTERNAL;
    h = crypt_rn(password, stored, cd, (int) sizeof(*cd));
    if (h == NULL || h[0] != '$')
        rc = HT_EINTERNAL;
    else if (strlen(h) != strlen(stored))
        rc = HT_EINVAL;
    else
        rc = api_ct_equal(h, stored, strlen(h)) ? HT_OK : HT_EINVAL;
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return rc;
}

/* ---- the state ---------------------------------------------------------- */

int
api_auth_mode_parse(const char *s)
{
    if (s != NULL && strcasecmp(s, "none") == 0)
        return API_AUTH_NONE;
    if (s != NULL && strcasecmp(s, "basic") == 0)
        return API_AUTH_BASIC;
    return -1;
}

static int
random_bytes(uint8_t *out, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = getrandom(out + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t) r;
    }
    return 0;
}

api_auth *
api_auth_new(int mode, api_metrics *metrics, ht_err *err)
{
    api_auth *a = ht_xcalloc(1, sizeof(*a));
    uint8_t   junk[24];
    char      junk_text[2 * sizeof(junk) + 1];

    a->mode = mode;
    a->metrics = metrics;
    HT_ASSERT(pthread_mutex_init(&a->lock, NULL) == 0);
    if (mode == API_AUTH_NONE)
        return a;
    if (random_bytes(a->secret, sizeof(a->secret)) != 0 ||
        random_bytes(junk, sizeof(junk)) != 0) {
        ht_err_set(err, HT_EINTERNAL, 0, NULL,
                   "could not read random bytes for the auth cache: %s",
                   strerror(errno));
        api_auth_free(a);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(junk); i++)
        (void) snprintf(junk_text + 2 * i, 3, "%02x", junk[i]);
    if (api_password_hash(junk_text, a->dummy, sizeof(a->dummy), err) != HT_OK) {
        api_auth_free(a);
        return NULL;
    }
    return a;
}

void
api_auth_free(api_auth *a)
{
    if (a == NULL)
        return;
    (void) pthread_mutex_destroy(&a->lock);
    explicit_bzero(a->secret, sizeof(a->secret));
    free(a);
}

int
api_auth_enabled(const api_auth *a)
{
    return a != NULL && a->mode != API_AUTH_NONE;
}

void
api_auth_cache_clear(api_auth *a)
{
    HT_ASSERT(pthread_mutex_lock(&a->lock) == 0);
    memset(a->cache, 0, sizeof(a->cache));
    HT_ASSERT(pthread_mutex_unlock(&a->lock) == 0);
}

static void
cache_key(const api_auth *a, const char *user, const char *pass,
          uint8_t key[API_SHA256_LEN])
{
    const void *parts[3] = { user, "", pass };
    size_t      lens[3] = { strlen(user), 1, strlen(pass) }; /* the NUL splits */

    api_hmac_sha256(a->secret, sizeof(a->secret), parts, lens, 3, key);
}

static cache_entry *
cache_set(api_auth *a, const uint8_t key[API_SHA256_LEN])
{
    return a->cache[((unsigned) key[0] | (unsigned) key[1] << 8) % API_AUTH_CACHE_SETS];
}

static int
cache_hit(api_auth *a, const uint8_t key[API_SHA256_LEN], int64_t now)
{
    cache_entry *set;
    int          hit = 0;

    HT_ASSERT(pthread_mutex_lock(&a->lock) == 0);
    set = cache_set(a, key);
    for (int w = 0; w < API_AUTH_CACHE_WAYS; w++)
        if (set[w].expires_ms > now && api_ct_equal(set[w].key, key, API_SHA256_LEN))
            hit = 1;
    HT_ASSERT(pthread_mutex_unlock(&a->lock) == 0);
    return hit;
}

/* Remembers key, replacing an empty or expired way, else the one that
 * expires first. */
static void
cache_put(api_auth *a, const uint8_t key[API_SHA256_LEN], int64_t now)
{
    cache_entry *set;
    int          victim = 0;

    HT_ASSERT(pthread_mutex_lock(&a->lock) == 0);
    set = cache_set(a, key);
    for (int w = 0; w < API_AUTH_CACHE_WAYS; w++) {
        if (set[w].expires_ms <= now || api_ct_equal(set[w].key, key, API_SHA256_LEN)) {
            victim = w;
            break;
        }
        if (set[w].expires_ms < set[victim].expires_ms)
            victim = w;
    }
    memcpy(set[victim].key, key, API_SHA256_LEN);
    set[victim].expires_ms = now + API_AUTH_CACHE_TTL_MS;
    HT_ASSERT(pthread_mutex_unlock(&a->lock) == 0);
}

/* 401 with the challenge; always returns 0 (denied). */
static int
deny(api_auth *a, api_req *req, api_resp *resp, const char *reason,
     const char *user, const char *msg)
{
    char q[96];

    api_metrics_auth(a->metrics, API_AUTH_DENIED);
    if (strcmp(reason, "missing") == 0)
        HT_LOG_DEBUG("auth.denied", "reason=%s", reason);
    else if (user == NULL)
        HT_LOG_INFO("auth.denied", "reason=%s", reason);
    else
        HT_LOG_INFO("auth.denied", "reason=%s user=%s", reason,
                    ht_logq(q, sizeof(q), user));
    api_reply_fail(req, resp, 401, API_EXC_NOT_AUTHORIZED, "%s", msg);
    resp->challenge = 1;
    return 0;
}

int
api_auth_check(api_auth *a, api_req *req, api_resp *resp)
{
    char             buf[API_AUTH_HEADER_MAX];
    const char      *user = NULL, *pass = NULL, *stored = NULL;
    uint8_t          key[API_SHA256_LEN];
    api_basic_status st;
    ht_err           err;
    int64_t          now;
    int              rc, ok = 0;

    if (!api_auth_enabled(a))
        return 1;
    st = api_basic_parse(req->authorization, buf, sizeof(buf), &user, &pass);
    switch (st) {
    case API_BASIC_OK:
        break;
    case API_BASIC_MISSING:
        return deny(a, req, resp, "missing", NULL,
                    "Authentication credentials are required");
    case API_BASIC_SCHEME:
        return deny(a, req, resp, "scheme", NULL,
                    "Only HTTP Basic authentication is supported");
    case API_BASIC_MALFORMED:
    default:
        explicit_bzero(buf, sizeof(buf));
        return deny(a, req, resp, "malformed", NULL,
                    "Invalid syntax for username and password");
    }
    /* A name no user can have: no lookup, no hash (the rule is public). */
    if (!api_user_name_ok(user)) {
        ok = deny(a, req, resp, "bad_name", user, "Authentication failed");
        goto cleanup;
    }
    cache_key(a, user, pass, key);
    now = ht_now_mono_ms();
    if (cache_hit(a, key, now)) {
        api_metrics_auth(a->metrics, API_AUTH_CACHED);
        req->user = ht_arena_strdup(req->arena, user);
        ok = 1;
        goto cleanup;
    }
    ht_err_clear(&err);
    rc = ht_store_user_hash(req->db, req->arena, user, &stored, &err);
    if (rc == HT_ENOTFOUND) {
        /* Same work as a wrong password, so timing tells no user names. */
        (void) api_password_verify(pass, a->dummy);
        ok = deny(a, req, resp, "unknown_user", user, "Authentication failed");
        goto cleanup;
    }
    if (rc != HT_OK) {
        api_reply_error(req, resp, &err);
        goto cleanup;
    }
    rc = api_password_verify(pass, stored);
    if (rc == HT_OK) {
        cache_put(a, key, ht_now_mono_ms());
        api_metrics_auth(a->metrics, API_AUTH_VERIFIED);
        req->user = ht_arena_strdup(req->arena, user);
        ok = 1;
    } else if (rc == HT_EINVAL) {
        ok = deny(a, req, resp, "wrong_password", user, "Authentication failed");
    } else {
        char q[96];
        HT_LOG_ERROR("auth.bad_hash", "user=%s", ht_logq(q, sizeof(q), user));
        api_reply_fail(req, resp, 500, HT_EXC_SERVER,
                       "the stored password hash cannot be verified");
    }
cleanup:
    explicit_bzero(buf, sizeof(buf));
    explicit_bzero(key, sizeof(key));
    return ok;
}
