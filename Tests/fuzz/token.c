/*
 * token.c - fuzz target: a session token as a client sends it, through the
 * token parser and verifier (rr_token_verify, auth/token.h: shape, header,
 * pinned algorithm, signature, claims) with HS256 keys, and a Cookie header
 * through auth.c's cookie reader (the session cookie's value is then
 * verified too).
 *
 * The seeds in corpus/token include valid tokens signed with FUZZ_SECRET
 * for issuer "orthanc-reading-room" and audience "reading-room", valid at
 * FUZZ_NOW; cookie_value is static, so this file includes auth/auth.c.
 *
 * Properties: an accepted token's claims are NUL-terminated, non-empty and
 * not expired at FUZZ_NOW (within the leeway); a refusal names the check.
 */
#include "../../Plugin/auth/auth.c"

#include "fuzz.h"

#define FUZZ_SECRET "reading-room-fuzz-secret-0123456789abcdef"
#define FUZZ_NOW 1800000000

static rr_token_keys *keys;

static void verify(const char *token)
{
  rr_token_claims c;
  char err[256] = "", hash[65];

  rr_token_hash(hash, token);
  RR_FUZZ_ASSERT(strlen(hash) == 64);
  if (rr_token_verify(&c, keys, token, "orthanc-reading-room", "reading-room", FUZZ_NOW, LEEWAY_SECONDS, err,
                      sizeof(err)) == 0) {
    RR_FUZZ_ASSERT(memchr(c.subject, '\0', sizeof(c.subject)) && c.subject[0] != '\0');
    RR_FUZZ_ASSERT(memchr(c.role, '\0', sizeof(c.role)) && c.role[0] != '\0');
    RR_FUZZ_ASSERT(memchr(c.jti, '\0', sizeof(c.jti)) && c.jti[0] != '\0');
    RR_FUZZ_ASSERT(c.expires_at > FUZZ_NOW - LEEWAY_SECONDS);
  } else {
    RR_FUZZ_ASSERT(err[0] != '\0');
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *s, value[RR_TOKEN_MAX_BYTES + 1], err[256];

  if (keys == NULL &&
      rr_token_keys_hs256(&keys, (const unsigned char *)FUZZ_SECRET, strlen(FUZZ_SECRET), err, sizeof(err)) < 0)
    abort();
  s = rr_fuzz_string(data, size);
  verify(s);
  if (cookie_value(value, sizeof(value), s, RR_SESSION_COOKIE)) {
    RR_FUZZ_ASSERT(strlen(value) > 0 && strchr(value, ';') == NULL);
    verify(value);
  }
  free(s);
  return 0;
}
