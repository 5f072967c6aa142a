/*
 * password.h - password hashing (Argon2id, libargon2) and password policy.
 *
 * Stored form: the standard encoded string
 *   $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt b64>$<hash b64>
 * with a 16-byte random salt (OpenSSL RAND_bytes) and a 32-byte hash. The
 * string holds everything needed to verify it, so parameters can be raised
 * later: rr_password_needs_rehash() tells the login code when to re-hash a
 * password it has just verified.
 *
 * Defaults are OWASP's minimum for Argon2id (m=19456 KiB, t=2, p=1);
 * rr_password_hash() refuses weaker parameters, and bounds stronger ones so
 * that a configuration mistake cannot make one login allocate gigabytes.
 *
 * Contract:
 *  - Passwords are NUL-terminated UTF-8 of at most RR_PASSWORD_MAX_BYTES
 *    bytes; longer ones are refused (hashing and verifying), which also
 *    bounds the work an anonymous login request can cause.
 *  - Nothing here logs, and error sentences never contain a password.
 *  - No state: every function is thread-safe. Hashing and verifying take
 *    ~20 MiB of memory and tens of milliseconds each (by design).
 */
#ifndef RR_AUTH_PASSWORD_H
#define RR_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_PASSWORD_MEMORY_KIB 19456u /* OWASP minimum for Argon2id */
#define RR_PASSWORD_ITERATIONS 2u
#define RR_PASSWORD_PARALLELISM 1u
#define RR_PASSWORD_MAX_MEMORY_KIB (1024u * 1024u) /* 1 GiB */
#define RR_PASSWORD_MAX_ITERATIONS 64u
#define RR_PASSWORD_MAX_PARALLELISM 16u
#define RR_PASSWORD_SALT_BYTES 16u
#define RR_PASSWORD_HASH_BYTES 32u

/* Longest password accepted, in bytes. */
#define RR_PASSWORD_MAX_BYTES 1024u
/* A sensible minimum length (characters) for rr_password_check_policy(). */
#define RR_PASSWORD_MIN_LENGTH_DEFAULT 12u
/* Room for any encoded string rr_password_hash() produces. */
#define RR_PASSWORD_ENCODED_SIZE 128u

typedef struct rr_password_params {
  uint32_t memory_kib;  /* m: memory cost in KiB */
  uint32_t iterations;  /* t: passes over the memory */
  uint32_t parallelism; /* p: lanes (threads) */
} rr_password_params;

/* The defaults above, as a value. */
extern const rr_password_params rr_password_default_params;

/* Hash `password` with a fresh random salt into out (NUL-terminated;
 * RR_PASSWORD_ENCODED_SIZE bytes are always enough). params NULL means the
 * defaults. Fails with RR_EINVAL for a missing or too long password or
 * parameters weaker than the defaults or above the maxima, RR_EFULL when out
 * is too small, RR_ENOMEM when Argon2 cannot allocate its memory. */
int rr_password_hash(char *out, size_t outsize, const char *password, const rr_password_params *params,
                     char *err, size_t errsize);

/* 0 when `password` matches `encoded`; RR_EINVAL when it does not, or when
 * `encoded` is not a well-formed Argon2id string (or has parameters above
 * the maxima), or the password is missing or too long; RR_ENOMEM when Argon2
 * cannot allocate its memory. The comparison is constant-time
 * (argon2id_verify). Callers treat every non-zero result as "no". */
int rr_password_verify(const char *encoded, const char *password);

/* True when `encoded` was made with weaker settings than `params` (NULL =
 * the defaults): lower memory, iterations or lanes, a shorter salt or hash,
 * another Argon2 variant or version, or when it cannot be parsed. */
bool rr_password_needs_rehash(const char *encoded, const rr_password_params *params);

/* Check a new password against the policy, in this order: present; at most
 * RR_PASSWORD_MAX_BYTES bytes; valid UTF-8; at least `min_length` characters
 * (Unicode code points, not bytes; at least 1 whatever min_length says); not
 * the user name, compared case-insensitively (ASCII, Latin-1, Latin
 * Extended-A, Greek and Cyrillic letters; username may be NULL); not one
 * character repeated. Returns 0 or RR_EINVAL with a sentence for the user
 * in err (which never quotes the password). */
int rr_password_check_policy(const char *password, const char *username, unsigned min_length, char *err,
                             size_t errsize);

/* Spend the time of one rr_password_verify() with the default parameters,
 * against a fixed hash, and ignore the result. Call it when the user name of
 * a login is unknown (or disabled) so that the answer takes as long as for a
 * known user with a wrong password. Installations that hash with stronger
 * parameters than the defaults should instead verify against a dummy hash
 * made once with their parameters. */
void rr_password_burn(const char *password);

#endif
