/*
 * sha256.h - SHA-256 through OpenSSL's libcrypto (a dependency of libjwt
 * already): hex digests for the audit chain and token hashes.
 * Pure and thread-safe.
 */
#ifndef RR_UTIL_SHA256_H
#define RR_UTIL_SHA256_H

#include <stddef.h>

/* out receives 64 lower-case hex digits and a NUL. Returns 0 or RR_ERROR. */
int rr_sha256_hex(char out[65], const void *data, size_t len);

#endif
