/*
 * api-server/sha256.h - SHA-256 and HMAC-SHA-256 (FIPS 180-4, RFC 2104).
 *
 * Used only to key the auth cache (auth.c): the slow password hashes are
 * libcrypt's; this is the fast keyed digest that lets the cache remember a
 * verified user:password pair without keeping the password.  Pure code, no
 * allocation.
 */
#ifndef API_SHA256_H
#define API_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define API_SHA256_LEN 32

typedef struct api_sha256 {
    uint32_t h[8];
    uint64_t bytes;     /* message length so far */
    uint8_t  buf[64];
    size_t   used;      /* bytes waiting in buf */
} api_sha256;

void api_sha256_init(api_sha256 *c);
void api_sha256_update(api_sha256 *c, const void *data, size_t n);
void api_sha256_final(api_sha256 *c, uint8_t out[API_SHA256_LEN]);

/* HMAC-SHA-256 of the concatenation of n_parts (data, len) pairs. */
void api_hmac_sha256(const uint8_t *key, size_t key_len,
                     const void *const *parts, const size_t *lens, int n_parts,
                     uint8_t out[API_SHA256_LEN]);

#endif
