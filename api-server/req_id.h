/*
 * api-server/req_id.h - request ids (X-Request-Id).
 *
 * An incoming X-Request-Id is kept when it is 1..64 characters of
 * [A-Za-z0-9._-] (so it is safe in a header, a log line and a label);
 * anything else is replaced by a new id.  New ids are a random 48-bit
 * process prefix and a counter ("3f9a0c2e71d4-17"): unique within a process
 * by the counter, across processes and hosts by the prefix.
 */
#ifndef API_REQ_ID_H
#define API_REQ_ID_H

#include <stddef.h>

#define API_REQ_ID_MAX 64

/* 1 if s is an acceptable incoming id. */
int api_req_id_ok(const char *s);

/* Writes a new id into out (NUL-terminated; at most API_REQ_ID_MAX
 * characters).  Thread-safe, no allocation. */
void api_req_id_new(char out[API_REQ_ID_MAX + 1]);

#endif
