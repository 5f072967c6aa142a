/*
 * token.h - JSON Web Tokens for the API's sessions (libjwt + OpenSSL).
 *
 * Tokens are signed with one algorithm, fixed by the keys: HS256 (a
 * per-installation secret, see rr_token_secret_load_or_create), RS256 or
 * ES256 (PEM keys). Claims: iss, aud, sub, role, iat, nbf, exp, jti, and
 * optionally gen (the user's token generation) and auth_time (when the
 * session began: the login, kept by every refresh; OpenID Connect's name).
 *
 * libjwt 1.10.2 is only used to sign and to check a signature: its
 * jwt_decode() trusts the token's own "alg" header (including "none"), so
 * rr_token_verify() first checks the token's shape and pins "alg" to the
 * keys' algorithm, then lets libjwt check the signature with the pinned key,
 * then checks every claim itself.
 *
 * Ownership and threads:
 *  - rr_token_keys is immutable once made; one instance can be shared by any
 *    number of threads issuing and verifying at the same time. It owns
 *    copies of the key material (wiped on free); rr_token_keys_free()
 *    accepts NULL.
 *  - Key material and tokens never appear in error sentences.
 */
#ifndef RR_AUTH_TOKEN_H
#define RR_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest token rr_token_verify() looks at. */
#define RR_TOKEN_MAX_BYTES 8192u
/* Secret sizes for HS256 (bytes). */
#define RR_TOKEN_SECRET_MIN 32u
#define RR_TOKEN_SECRET_MAX 64u
/* Longest issuer and audience (bytes). */
#define RR_TOKEN_NAME_MAX 255u

typedef struct rr_token_keys rr_token_keys;

typedef struct rr_token_claims {
  char subject[128]; /* sub: 1..127 bytes of UTF-8 */
  char role[32];     /* role: 1..31 bytes */
  char jti[64];      /* jti: 1..63 bytes (ours: 32 hex digits) */
  int64_t issued_at, not_before, expires_at; /* seconds since the epoch; 0 = absent (iat/nbf are optional) */
  int64_t generation; /* gen: the user's token generation when issued (0 = absent) */
  int64_t auth_time;  /* auth_time: when the session began (its login); 0 = absent */
} rr_token_claims;

/* What rr_token_issue_request() signs (the strings are borrowed). */
typedef struct rr_token_request {
  const char *subject, *role;
  int64_t generation;       /* 0..2^31-1; 0 adds no "gen" claim */
  int64_t auth_time;        /* 0 adds no "auth_time"; else 0 < auth_time <= now */
  int64_t now;              /* iat = nbf */
  int64_t lifetime_seconds; /* exp = now + lifetime (1 .. 31 days) */
} rr_token_request;

/* Flags of rr_token_verify_flags(). */
#define RR_TOKEN_ALLOW_EXPIRED 1u /* check everything but the expiry: the caller compares exp with the time */

/* HS256 keys from a secret of RR_TOKEN_SECRET_MIN..RR_TOKEN_SECRET_MAX bytes. */
int rr_token_keys_hs256(rr_token_keys **out, const unsigned char *secret, size_t len, char *err, size_t errsize);

/* RS256 or ES256 keys (alg is exactly "RS256" or "ES256") from PEM text.
 * private_pem (PKCS#8 or traditional, unencrypted) may be NULL for keys that
 * only verify; public_pem (SubjectPublicKeyInfo, "BEGIN PUBLIC KEY") may be
 * NULL when private_pem is given (it is derived). Both are checked now:
 * RS256 needs RSA of at least 2048 bits, ES256 an EC key on P-256, and a
 * given pair must match. */
int rr_token_keys_pem(rr_token_keys **out, const char *alg, const char *private_pem, const char *public_pem,
                      char *err, size_t errsize);

void rr_token_keys_free(rr_token_keys *keys);

/* The keys' algorithm: "HS256", "RS256" or "ES256". */
const char *rr_token_keys_alg(const rr_token_keys *keys);

/* Load the HS256 secret from `path`, or create it there when the file does
 * not exist: RR_TOKEN_SECRET_MIN random bytes, written as hex to a
 * temporary file (O_CREAT|O_EXCL, mode 0600), fsync'ed, then linked into
 * place without replacing a file another process created meanwhile (that
 * one is used instead). An existing file holds hex (64..128 hex digits,
 * trailing white space allowed) or raw bytes (32..64); it is refused when it
 * is not a regular file, not owned by the effective uid, or accessible to
 * group or others. outsize is 32..64; *outlen receives the secret's length.
 * The directory must exist. */
int rr_token_secret_load_or_create(unsigned char *out, size_t outsize, size_t *outlen, const char *path, char *err,
                                   size_t errsize);

/* Issue a token for `subject` with `role`, valid from `now` for
 * `lifetime_seconds` (1 .. 31 days): iat = nbf = now, exp = now + lifetime,
 * jti = 128 random bits in hex. *out is malloc'd (caller frees with free());
 * claims_out (may be NULL) receives the claims. Fails with RR_EINVAL for
 * keys that cannot sign (public key only) or bad arguments. */
int rr_token_issue(char **out, const rr_token_keys *keys, const char *issuer, const char *audience,
                   const char *subject, const char *role, int64_t now, int64_t lifetime_seconds,
                   rr_token_claims *claims_out, char *err, size_t errsize);

/* The same with a "gen" claim: the user's token generation, which the
 * caller bumps to invalidate every earlier token of the user (0..2^31-1;
 * 0 adds no claim). */
int rr_token_issue_gen(char **out, const rr_token_keys *keys, const char *issuer, const char *audience,
                       const char *subject, const char *role, int64_t generation, int64_t now,
                       int64_t lifetime_seconds, rr_token_claims *claims_out, char *err, size_t errsize);

/* The general form of the two above: every claim from `rq`. */
int rr_token_issue_request(char **out, const rr_token_keys *keys, const char *issuer, const char *audience,
                           const rr_token_request *rq, rr_token_claims *claims_out, char *err, size_t errsize);

/* Verify a token at time `now` with `leeway_seconds` (0..3600) of clock
 * skew allowed. Checks, in order: length (<= RR_TOKEN_MAX_BYTES), three
 * canonical base64url segments, the header (JSON object, "alg" exactly the
 * keys' algorithm, "typ" absent or "JWT", no "crit"), the signature (libjwt,
 * pinned key), then the payload: exp required and > now - leeway; nbf and
 * iat, when present, <= now + leeway; iss equal to `issuer`; aud equal to
 * `audience` or an array holding it; sub, role and jti present strings that
 * fit rr_token_claims. Returns 0 and fills *out, or RR_EINVAL with a
 * sentence naming the failed check (RR_ENOMEM when memory ran out). *out is
 * zeroed on failure. */
int rr_token_verify(rr_token_claims *out, const rr_token_keys *keys, const char *token, const char *issuer,
                    const char *audience, int64_t now, int64_t leeway_seconds, char *err, size_t errsize);

/* rr_token_verify() with flags: RR_TOKEN_ALLOW_EXPIRED accepts a token whose
 * exp has passed (exp must still be present and valid), so that a caller can
 * tell why a session ended; it then compares claims.expires_at itself.
 * auth_time, when present, must be a time not after iat (or now + leeway). */
int rr_token_verify_flags(rr_token_claims *out, const rr_token_keys *keys, const char *token, const char *issuer,
                          const char *audience, int64_t now, int64_t leeway_seconds, unsigned flags, char *err,
                          size_t errsize);

/* SHA-256 of the token's text, as 64 lower-case hex digits and a NUL (for
 * revocation lists and caches). NULL hashes like "". */
void rr_token_hash(char out[65], const char *token);

#endif
