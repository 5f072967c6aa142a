#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include "auth/lifetime.h"
#include "auth/token.h"
#include "common.h"
#include "util/errors.h"
#include "util/str.h"

#define ISS "https://pacs.example.org/reading-room"
#define AUD "reading-room-api"
#define NOW INT64_C(1700000000)

static const unsigned char secret_a[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char secret_b[32] = "fedcba9876543210fedcba9876543210";

/* ------------------------------------------------------------ helpers */

/* PEM text of a key generated at test time (cached: RSA generation is slow). */
static char *pem_of(EVP_PKEY *pkey, bool private_part)
{
  BIO *mem = BIO_new(BIO_s_mem());
  char *data = NULL, *copy;
  long n;

  ck_assert_ptr_nonnull(mem);
  if (private_part)
    ck_assert_int_eq(PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL, NULL), 1);
  else
    ck_assert_int_eq(PEM_write_bio_PUBKEY(mem, pkey), 1);
  n = BIO_get_mem_data(mem, &data);
  ck_assert(n > 0);
  copy = strndup(data, (size_t)n);
  ck_assert_ptr_nonnull(copy);
  BIO_free(mem);
  return copy;
}

typedef struct test_key {
  char *priv, *pub;
} test_key;

static test_key rsa_key, rsa_key2, ec_key, ec_key2;

static void make_key(test_key *k, bool rsa)
{
  EVP_PKEY *pkey;

  if (k->priv != NULL)
    return;
  pkey = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  ck_assert_ptr_nonnull(pkey);
  k->priv = pem_of(pkey, true);
  k->pub = pem_of(pkey, false);
  EVP_PKEY_free(pkey);
}

static void b64url(char *out, size_t size, const unsigned char *in, size_t n)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t i, o = 0;
  uint32_t acc = 0;
  int bits = 0;

  for (i = 0; i < n; i++) {
    acc = (acc << 8) | in[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      ck_assert(o + 1 < size);
      out[o++] = alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) {
    ck_assert(o + 1 < size);
    out[o++] = alphabet[(acc << (6 - bits)) & 63];
  }
  out[o] = '\0';
}

/* A token from header and payload JSON, HMAC-SHA256-signed with `key` (or
 * with an empty signature when key is NULL). Caller frees. */
static char *craft(const char *header, const char *payload, const void *key, size_t keylen)
{
  char h[2048], p[2048], sig[128], *token;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  size_t size;

  b64url(h, sizeof(h), (const unsigned char *)header, strlen(header));
  b64url(p, sizeof(p), (const unsigned char *)payload, strlen(payload));
  size = strlen(h) + strlen(p) + sizeof(sig) + 3;
  token = malloc(size);
  ck_assert_ptr_nonnull(token);
  snprintf(token, size, "%s.%s", h, p);
  sig[0] = '\0';
  if (key != NULL) {
    ck_assert_ptr_nonnull(
        HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)token, strlen(token), mac, &maclen));
    b64url(sig, sizeof(sig), mac, maclen);
  }
  snprintf(token + strlen(token), size - strlen(token), ".%s", sig);
  return token;
}

/* A payload with every claim, valid at NOW; `extra` is spliced in first. */
static void payload_json(char *out, size_t size, const char *extra)
{
  snprintf(out, size,
           "{%s\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\",\"role\":\"radiologist\","
           "\"jti\":\"00112233445566778899aabbccddeeff\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld}",
           extra, (long long)NOW, (long long)NOW, (long long)(NOW + 600));
}

static rr_token_keys *hs_keys(const unsigned char *secret)
{
  rr_token_keys *keys = NULL;
  char err[256] = "";
  ck_assert_msg(rr_token_keys_hs256(&keys, secret, 32, err, sizeof(err)) == 0, "%s", err);
  return keys;
}

/* noinline: once this is inlined, GCC 12 at -O2 takes pointers into the
 * returned token for pointers to the local `token` variable and reports a
 * false -Werror=dangling-pointer in the callers (Release builds). */
__attribute__((noinline)) static char *issue(const rr_token_keys *keys, const char *role, int64_t now,
                                             int64_t lifetime)
{
  char *token = NULL, err[256] = "";
  ck_assert_msg(rr_token_issue(&token, keys, ISS, AUD, "alice", role, now, lifetime, NULL, err, sizeof(err)) == 0, "%s",
                err);
  return token;
}

/* Verification fails and the sentence contains `needle`, never the token. */
static void refused(const rr_token_keys *keys, const char *token, int64_t now, int64_t leeway, const char *needle)
{
  rr_token_claims c;
  char err[256] = "";

  ck_assert_int_eq(rr_token_verify(&c, keys, token, ISS, AUD, now, leeway, err, sizeof(err)), RR_EINVAL);
  ck_assert_msg(strstr(err, needle) != NULL, "error '%s' lacks '%s'", err, needle);
  if (token != NULL && strlen(token) > 8)
    ck_assert_ptr_null(strstr(err, token));
  ck_assert_str_eq(c.subject, "");
  ck_assert_str_eq(c.role, "");
}

static void accepted(const rr_token_keys *keys, const char *token, int64_t now, int64_t leeway)
{
  rr_token_claims c;
  char err[256] = "";
  ck_assert_msg(rr_token_verify(&c, keys, token, ISS, AUD, now, leeway, err, sizeof(err)) == 0, "%s", err);
}

static void round_trip(rr_token_keys *keys, const char *alg)
{
  rr_token_claims issued, got;
  char *token = NULL, err[256] = "", json[64], h1[64], h2[64];
  size_t i;

  ck_assert_str_eq(rr_token_keys_alg(keys), alg);
  ck_assert_msg(rr_token_issue(&token, keys, ISS, AUD, "alice@example.org", "radiologist", NOW, 900, &issued, err,
                               sizeof(err)) == 0,
                "%s", err);
  ck_assert(strlen(token) < RR_TOKEN_MAX_BYTES);
  ck_assert_ptr_null(strchr(token, '\n'));
  ck_assert_ptr_null(strchr(token, '='));
  /* the header names the algorithm */
  snprintf(json, sizeof(json), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
  b64url(h1, sizeof(h1), (const unsigned char *)json, strlen(json));
  snprintf(json, sizeof(json), "{\"typ\":\"JWT\",\"alg\":\"%s\"}", alg);
  b64url(h2, sizeof(h2), (const unsigned char *)json, strlen(json));
  ck_assert(rr_str_starts_with(token, h1) || rr_str_starts_with(token, h2));

  ck_assert_str_eq(issued.subject, "alice@example.org");
  ck_assert_str_eq(issued.role, "radiologist");
  ck_assert_int_eq(strlen(issued.jti), 32);
  for (i = 0; i < 32; i++)
    ck_assert(strchr("0123456789abcdef", issued.jti[i]) != NULL);
  ck_assert_int_eq(issued.issued_at, NOW);
  ck_assert_int_eq(issued.not_before, NOW);
  ck_assert_int_eq(issued.expires_at, NOW + 900);

  ck_assert_msg(rr_token_verify(&got, keys, token, ISS, AUD, NOW + 10, 0, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(got.subject, issued.subject);
  ck_assert_str_eq(got.role, issued.role);
  ck_assert_str_eq(got.jti, issued.jti);
  ck_assert_int_eq(got.issued_at, issued.issued_at);
  ck_assert_int_eq(got.not_before, issued.not_before);
  ck_assert_int_eq(got.expires_at, issued.expires_at);
  free(token);

  /* two tokens never share an id */
  {
    rr_token_claims other;
    ck_assert_int_eq(rr_token_issue(&token, keys, ISS, AUD, "alice@example.org", "radiologist", NOW, 900, &other, err,
                                    sizeof(err)),
                     0);
    ck_assert_str_ne(other.jti, issued.jti);
    free(token);
  }
}

/* -------------------------------------------------------------- tests */

START_TEST(hs256_round_trip)
{
  rr_token_keys *keys = hs_keys(secret_a);
  round_trip(keys, "HS256");
  rr_token_keys_free(keys);
  rr_token_keys_free(NULL);
}
END_TEST

START_TEST(rs256_round_trip)
{
  rr_token_keys *keys = NULL, *verify_only = NULL, *derived = NULL;
  char *token, err[256] = "";

  make_key(&rsa_key, true);
  ck_assert_msg(rr_token_keys_pem(&keys, "RS256", rsa_key.priv, rsa_key.pub, err, sizeof(err)) == 0, "%s", err);
  round_trip(keys, "RS256");

  /* the public key alone verifies but cannot issue; the private key alone does both */
  ck_assert_msg(rr_token_keys_pem(&verify_only, "RS256", NULL, rsa_key.pub, err, sizeof(err)) == 0, "%s", err);
  ck_assert_msg(rr_token_keys_pem(&derived, "RS256", rsa_key.priv, NULL, err, sizeof(err)) == 0, "%s", err);
  token = issue(derived, "reader", NOW, 60);
  accepted(verify_only, token, NOW, 0);
  accepted(keys, token, NOW, 0);
  free(token);
  token = NULL;
  ck_assert_int_eq(rr_token_issue(&token, verify_only, ISS, AUD, "alice", "reader", NOW, 60, NULL, err, sizeof(err)),
                   RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "no private key"));
  ck_assert_ptr_null(token);
  rr_token_keys_free(keys);
  rr_token_keys_free(verify_only);
  rr_token_keys_free(derived);
}
END_TEST

START_TEST(es256_round_trip)
{
  rr_token_keys *keys = NULL;
  char err[256] = "";

  make_key(&ec_key, false);
  ck_assert_msg(rr_token_keys_pem(&keys, "ES256", ec_key.priv, ec_key.pub, err, sizeof(err)) == 0, "%s", err);
  round_trip(keys, "ES256");
  rr_token_keys_free(keys);
}
END_TEST

START_TEST(pem_keys_are_checked)
{
  rr_token_keys *keys = NULL;
  char err[256] = "", *encrypted;
  EVP_PKEY *pkey = NULL, *small = NULL;
  BIO *mem;
  long n;
  char *data;

  make_key(&rsa_key, true);
  make_key(&rsa_key2, true);
  make_key(&ec_key, false);
  ck_assert_int_eq(rr_token_keys_pem(&keys, "HS256", rsa_key.priv, rsa_key.pub, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_token_keys_pem(&keys, "rs256", rsa_key.priv, rsa_key.pub, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_token_keys_pem(&keys, "none", NULL, rsa_key.pub, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_token_keys_pem(&keys, "RS256", NULL, NULL, err, sizeof(err)), RR_EINVAL);
  /* pair mismatch, wrong key type, garbage */
  ck_assert_int_eq(rr_token_keys_pem(&keys, "RS256", rsa_key.priv, rsa_key2.pub, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "does not belong"));
  ck_assert_int_eq(rr_token_keys_pem(&keys, "RS256", ec_key.priv, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "not an RSA key"));
  ck_assert_int_eq(rr_token_keys_pem(&keys, "ES256", NULL, rsa_key.pub, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "not an EC key"));
  ck_assert_int_eq(rr_token_keys_pem(&keys, "RS256", "-----BEGIN PRIVATE KEY-----\nxx\n", NULL, err, sizeof(err)),
                   RR_EINVAL);
  ck_assert_int_eq(rr_token_keys_pem(&keys, "RS256", NULL, rsa_key.priv, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "BEGIN PUBLIC KEY"));
  /* an encrypted private key is refused, without prompting for a pass phrase */
  mem = BIO_new(BIO_s_mem());
  ck_assert_ptr_nonnull(mem);
  {
    BIO *in = BIO_new_mem_buf(ec_key.priv, -1);
    pkey = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
    BIO_free(in);
  }
  ck_assert_ptr_nonnull(pkey);
  ck_assert_int_eq(PEM_write_bio_PrivateKey(mem, pkey, EVP_aes_128_cbc(), (unsigned char *)"secret", 6, NULL, NULL), 1);
  n = BIO_get_mem_data(mem, &data);
  encrypted = strndup(data, (size_t)n);
  ck_assert_int_eq(rr_token_keys_pem(&keys, "ES256", encrypted, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "encrypted"));
  free(encrypted);
  BIO_free(mem);
  EVP_PKEY_free(pkey);
  /* RSA below 2048 bits */
  small = EVP_RSA_gen(1024);
  ck_assert_ptr_nonnull(small);
  encrypted = pem_of(small, true);
  ck_assert_int_eq(rr_token_keys_pem(&keys, "RS256", encrypted, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "2048"));
  free(encrypted);
  EVP_PKEY_free(small);
  /* EC on another curve */
  small = EVP_EC_gen("secp384r1");
  ck_assert_ptr_nonnull(small);
  encrypted = pem_of(small, true);
  ck_assert_int_eq(rr_token_keys_pem(&keys, "ES256", encrypted, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "P-256"));
  free(encrypted);
  EVP_PKEY_free(small);
  ck_assert_ptr_null(keys);
  /* HS256 secrets: 32..64 bytes */
  ck_assert_int_eq(rr_token_keys_hs256(&keys, secret_a, 31, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_token_keys_hs256(&keys, NULL, 32, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(keys);
}
END_TEST

START_TEST(expiry_and_leeway)
{
  rr_token_keys *keys = hs_keys(secret_a);
  char *token = issue(keys, "reader", NOW, 60); /* exp = NOW + 60 */

  accepted(keys, token, NOW + 59, 0);
  refused(keys, token, NOW + 60, 0, "expired");
  refused(keys, token, NOW + 3600, 0, "expired");
  accepted(keys, token, NOW + 80, 30); /* leeway accepted */
  refused(keys, token, NOW + 90, 30, "expired");
  free(token);
  rr_token_keys_free(keys);
}
END_TEST

/* auth_time (the session's login) travels in the token; an expired token
 * can still be read with RR_TOKEN_ALLOW_EXPIRED, to say why it ended. */
START_TEST(session_start_and_expired_claims)
{
  rr_token_keys *keys = hs_keys(secret_a);
  rr_token_request rq = {"alice", "reader", 3, NOW - 500, NOW, 60};
  rr_token_claims c;
  char *token = NULL, err[256] = "";

  ck_assert_msg(rr_token_issue_request(&token, keys, ISS, AUD, &rq, NULL, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(rr_token_verify(&c, keys, token, ISS, AUD, NOW + 10, 0, err, sizeof(err)), 0);
  ck_assert_int_eq(c.auth_time, NOW - 500);
  ck_assert_int_eq(c.generation, 3);
  ck_assert_int_eq(c.expires_at, NOW + 60);
  refused(keys, token, NOW + 61, 0, "expired");
  ck_assert_int_eq(rr_token_verify_flags(&c, keys, token, ISS, AUD, NOW + 7200, 0, RR_TOKEN_ALLOW_EXPIRED, err,
                                         sizeof(err)), 0);
  ck_assert_int_eq(c.expires_at, NOW + 60);
  ck_assert_str_eq(c.subject, "alice");
  free(token);
  token = NULL;
  /* a session cannot begin after its token was issued */
  rq.auth_time = NOW + 1;
  ck_assert_int_eq(rr_token_issue_request(&token, keys, ISS, AUD, &rq, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(token);
  {
    char payload[512], *crafted;
    payload_json(payload, sizeof(payload), "\"auth_time\":9999999999,");
    crafted = craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, secret_a, 32);
    refused(keys, crafted, NOW + 10, 0, "auth_time");
    free(crafted);
    payload_json(payload, sizeof(payload), "\"auth_time\":\"yesterday\",");
    crafted = craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, secret_a, 32);
    refused(keys, crafted, NOW + 10, 0, "auth_time");
    free(crafted);
  }
  /* a token without auth_time (issued before automatic log-off) has 0 */
  token = issue(keys, "reader", NOW, 60);
  ck_assert_int_eq(rr_token_verify(&c, keys, token, ISS, AUD, NOW, 0, err, sizeof(err)), 0);
  ck_assert_int_eq(c.auth_time, 0);
  free(token);
  rr_token_keys_free(keys);
}
END_TEST

/* auth/lifetime.c: each token lives the idle time, never past the session's maximum age. */
START_TEST(session_lifetime_rules)
{
  rr_session_limits l = {28800, 900, 43200};
  int64_t exp = 0;

  ck_assert_int_eq(rr_session_expiry(&exp, &l, NOW, NOW), 0);
  ck_assert_int_eq(exp, NOW + 900); /* idle time, not the token lifetime */
  ck_assert_int_eq(rr_session_expiry(&exp, &l, NOW, NOW + 43000), 0);
  ck_assert_int_eq(exp, NOW + 43200); /* capped by the maximum age */
  ck_assert_int_eq(rr_session_end_reason(&l, NOW, exp), RR_SESSION_END_MAX_AGE);
  ck_assert_int_eq(rr_session_end_reason(&l, NOW, NOW + 900), RR_SESSION_END_IDLE);
  ck_assert_str_eq(rr_session_end_name(RR_SESSION_END_MAX_AGE), "max-age");
  ck_assert_str_eq(rr_session_end_name(RR_SESSION_END_IDLE), "idle");
  ck_assert_int_eq(rr_session_expiry(&exp, &l, NOW, NOW + 43200), RR_EINVAL); /* no refresh past the end */
  ck_assert_int_eq(exp, 0);
  ck_assert_int_eq(rr_session_ends_at(&l, NOW), NOW + 43200);
  l.idle_timeout = 0; /* no idle log-off: the token lifetime */
  ck_assert_int_eq(rr_session_expiry(&exp, &l, NOW, NOW), 0);
  ck_assert_int_eq(exp, NOW + 28800);
  l.idle_timeout = 90000; /* an idle time above the token lifetime: the lifetime */
  ck_assert_int_eq(rr_session_expiry(&exp, &l, NOW, NOW), 0);
  ck_assert_int_eq(exp, NOW + 28800);
  l.max_age = 0; /* no maximum age */
  ck_assert_int_eq(rr_session_ends_at(&l, NOW), INT64_MAX);
  ck_assert_int_eq(rr_session_expiry(&exp, &l, NOW - 400000, NOW), 0);
  ck_assert_int_eq(exp, NOW + 28800);
}
END_TEST

START_TEST(not_yet_valid)
{
  rr_token_keys *keys = hs_keys(secret_a);
  char *token = issue(keys, "reader", NOW, 600); /* iat = nbf = NOW */
  char payload[1024], *crafted;

  refused(keys, token, NOW - 1000, 60, "not valid yet");
  refused(keys, token, NOW - 61, 60, "not valid yet");
  accepted(keys, token, NOW - 60, 60); /* within the leeway */
  accepted(keys, token, NOW, 0);
  free(token);
  /* iat in the future without nbf */
  snprintf(payload, sizeof(payload),
           "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\",\"role\":\"reader\",\"jti\":\"j1\","
           "\"iat\":%lld,\"exp\":%lld}",
           (long long)(NOW + 500), (long long)(NOW + 900));
  crafted = craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, secret_a, 32);
  refused(keys, crafted, NOW, 60, "issued in the future");
  accepted(keys, crafted, NOW + 500, 0);
  free(crafted);
  rr_token_keys_free(keys);
}
END_TEST

START_TEST(issuer_and_audience)
{
  rr_token_keys *keys = hs_keys(secret_a);
  char *token = NULL, err[256] = "", payload[1024], *crafted;
  rr_token_claims c;

  ck_assert_int_eq(rr_token_issue(&token, keys, "https://other.example.org", AUD, "alice", "reader", NOW, 60, NULL,
                                  err, sizeof(err)),
                   0);
  refused(keys, token, NOW, 0, "issuer");
  free(token);
  ck_assert_int_eq(rr_token_issue(&token, keys, ISS, "other-api", "alice", "reader", NOW, 60, NULL, err, sizeof(err)),
                   0);
  refused(keys, token, NOW, 0, "audience");
  free(token);
  /* verifying with the other issuer/audience names the check too */
  token = issue(keys, "reader", NOW, 60);
  ck_assert_int_eq(rr_token_verify(&c, keys, token, ISS "x", AUD, NOW, 0, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "issuer"));
  ck_assert_int_eq(rr_token_verify(&c, keys, token, ISS, "Reading-Room-API", NOW, 0, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "audience"));
  free(token);

  /* aud as an array holding the audience, or not */
  snprintf(payload, sizeof(payload),
           "{\"iss\":\"" ISS "\",\"aud\":[\"other\",\"" AUD "\"],\"sub\":\"alice\",\"role\":\"reader\",\"jti\":\"j1\","
           "\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld}",
           (long long)NOW, (long long)NOW, (long long)(NOW + 900));
  crafted = craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, secret_a, 32);
  ck_assert_msg(rr_token_verify(&c, keys, crafted, ISS, AUD, NOW, 0, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(c.subject, "alice");
  ck_assert_str_eq(c.jti, "j1");
  free(crafted);
  snprintf(payload, sizeof(payload),
           "{\"iss\":\"" ISS "\",\"aud\":[\"other\",7,null],\"sub\":\"alice\",\"role\":\"reader\",\"jti\":\"j1\","
           "\"exp\":%lld}",
           (long long)(NOW + 900));
  crafted = craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, secret_a, 32);
  refused(keys, crafted, NOW, 0, "audience");
  free(crafted);
  rr_token_keys_free(keys);
}
END_TEST

START_TEST(tampered_payload)
{
  rr_token_keys *keys = hs_keys(secret_a);
  char *token = issue(keys, "reader", NOW, 600), payload[1024], b64[1400], forged[4096];
  const char *dot1 = strchr(token, '.'), *dot2 = strrchr(token, '.');

  /* same header and signature, role flipped to admin */
  snprintf(payload, sizeof(payload),
           "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\",\"role\":\"admin\",\"jti\":\"j\",\"iat\":%lld,"
           "\"nbf\":%lld,\"exp\":%lld}",
           (long long)NOW, (long long)NOW, (long long)(NOW + 600));
  b64url(b64, sizeof(b64), (const unsigned char *)payload, strlen(payload));
  snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(dot1 - token), token, b64, dot2);
  refused(keys, forged, NOW, 0, "signature does not verify");
  /* one bit of the signature changed */
  snprintf(forged, sizeof(forged), "%s", token);
  forged[strlen(forged) - 2] = forged[strlen(forged) - 2] == 'A' ? 'B' : 'A';
  refused(keys, forged, NOW, 0, "signature does not verify");
  free(token);
  rr_token_keys_free(keys);
}
END_TEST

START_TEST(wrong_secret_or_key)
{
  rr_token_keys *a = hs_keys(secret_a), *b = hs_keys(secret_b), *ra = NULL, *rb = NULL, *ea = NULL, *eb = NULL;
  char *token, err[256] = "";

  token = issue(b, "admin", NOW, 600);
  refused(a, token, NOW, 0, "signature does not verify");
  free(token);

  make_key(&rsa_key, true);
  make_key(&rsa_key2, true);
  make_key(&ec_key, false);
  make_key(&ec_key2, false);
  ck_assert_int_eq(rr_token_keys_pem(&ra, "RS256", rsa_key.priv, NULL, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_token_keys_pem(&rb, "RS256", rsa_key2.priv, NULL, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_token_keys_pem(&ea, "ES256", ec_key.priv, NULL, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_token_keys_pem(&eb, "ES256", ec_key2.priv, NULL, err, sizeof(err)), 0);
  token = issue(rb, "admin", NOW, 600);
  refused(ra, token, NOW, 0, "signature does not verify");
  refused(ea, token, NOW, 0, "algorithm RS256 is not the expected ES256");
  refused(a, token, NOW, 0, "algorithm RS256 is not the expected HS256");
  free(token);
  token = issue(eb, "admin", NOW, 600);
  refused(ea, token, NOW, 0, "signature does not verify");
  free(token);
  /* an HS256 token is refused by RS256 keys, whatever it is signed with */
  token = issue(a, "admin", NOW, 600);
  refused(ra, token, NOW, 0, "algorithm HS256 is not the expected RS256");
  free(token);
  rr_token_keys_free(a);
  rr_token_keys_free(b);
  rr_token_keys_free(ra);
  rr_token_keys_free(rb);
  rr_token_keys_free(ea);
  rr_token_keys_free(eb);
}
END_TEST

START_TEST(alg_none_is_refused)
{
  rr_token_keys *keys = hs_keys(secret_a);
  char payload[1024], *token;

  payload_json(payload, sizeof(payload), "");
  /* empty signature, as RFC 7519 writes unsecured JWTs */
  token = craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, NULL, 0);
  ck_assert(rr_str_ends_with(token, "."));
  refused(keys, token, NOW, 0, "no signature");
  free(token);
  /* with some signature: the algorithm is what fails */
  token = craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, secret_a, 32);
  refused(keys, token, NOW, 0, "algorithm none is not the expected HS256");
  free(token);
  /* case variants libjwt would accept (it compares with strcasecmp) */
  token = craft("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", payload, secret_a, 32);
  refused(keys, token, NOW, 0, "algorithm hs256 is not the expected HS256");
  free(token);
  token = craft("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", payload, secret_a, 32);
  refused(keys, token, NOW, 0, "not the expected HS256");
  free(token);
  token = craft("{\"typ\":\"JWT\"}", payload, secret_a, 32);
  refused(keys, token, NOW, 0, "names no algorithm");
  free(token);
  token = craft("{\"alg\":null}", payload, secret_a, 32);
  refused(keys, token, NOW, 0, "names no algorithm");
  free(token);
  /* typ and crit */
  token = craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", payload, secret_a, 32);
  refused(keys, token, NOW, 0, "type is not JWT");
  free(token);
  token = craft("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", payload, secret_a, 32);
  refused(keys, token, NOW, 0, "crit");
  free(token);
  /* without typ, well signed: fine */
  token = craft("{\"alg\":\"HS256\"}", payload, secret_a, 32);
  accepted(keys, token, NOW, 0);
  free(token);
  rr_token_keys_free(keys);
}
END_TEST

START_TEST(algorithm_confusion_is_refused)
{
  rr_token_keys *rs = NULL;
  char payload[1024], *token, err[256] = "";

  /* HS256 token whose HMAC key is the verifier's RSA public key PEM: libjwt's
   * jwt_decode(token, public_pem) alone would accept it. */
  make_key(&rsa_key, true);
  ck_assert_int_eq(rr_token_keys_pem(&rs, "RS256", NULL, rsa_key.pub, err, sizeof(err)), 0);
  payload_json(payload, sizeof(payload), "");
  token = craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, rsa_key.pub, strlen(rsa_key.pub));
  refused(rs, token, NOW, 0, "algorithm HS256 is not the expected RS256");
  free(token);
  /* same for ES256 keys */
  make_key(&ec_key, false);
  rr_token_keys_free(rs);
  rs = NULL;
  ck_assert_int_eq(rr_token_keys_pem(&rs, "ES256", NULL, ec_key.pub, err, sizeof(err)), 0);
  token = craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, ec_key.pub, strlen(ec_key.pub));
  refused(rs, token, NOW, 0, "algorithm HS256 is not the expected ES256");
  free(token);
  rr_token_keys_free(rs);
}
END_TEST

START_TEST(malformed_tokens)
{
  rr_token_keys *keys = hs_keys(secret_a);
  char *token = issue(keys, "reader", NOW, 600), *big, forged[4096];
  const char *dot2 = strrchr(token, '.');

  refused(keys, NULL, NOW, 0, "empty");
  refused(keys, "", NOW, 0, "empty");
  refused(keys, "garbage", NOW, 0, "three dot-separated parts");
  refused(keys, "not a token at all", NOW, 0, "three");
  refused(keys, "a.b.c", NOW, 0, "header is not canonical base64url");
  refused(keys, "!!!.???.***", NOW, 0, "header is not canonical base64url");
  refused(keys, "e30.e30.e30", NOW, 0, "algorithm"); /* {} . {} */
  refused(keys, "WzFd.e30.e30", NOW, 0, "header is not a JSON object");                        /* [1] */
  /* two segments (signature dropped with its dot) and four segments */
  snprintf(forged, sizeof(forged), "%.*s", (int)(dot2 - token), token);
  refused(keys, forged, NOW, 0, "three dot-separated parts");
  snprintf(forged, sizeof(forged), "%s.", token);
  refused(keys, forged, NOW, 0, "three dot-separated parts");
  /* empty segments */
  refused(keys, "..", NOW, 0, "header");
  /* padding and characters outside base64url, which libjwt's decoder skips */
  snprintf(forged, sizeof(forged), "%s=", token);
  refused(keys, forged, NOW, 0, "signature is not canonical base64url");
  snprintf(forged, sizeof(forged), "%.*s!%s", (int)(dot2 - token + 1), token, dot2 + 1);
  refused(keys, forged, NOW, 0, "signature is not canonical base64url");
  snprintf(forged, sizeof(forged), "%.*s+%s", (int)(dot2 - token + 1), token, dot2 + 1);
  refused(keys, forged, NOW, 0, "signature is not canonical base64url");
  /* 9 KiB */
  big = malloc(9 * 1024 + 1);
  ck_assert_ptr_nonnull(big);
  memset(big, 'A', 9 * 1024);
  big[100] = '.';
  big[200] = '.';
  big[9 * 1024] = '\0';
  refused(keys, big, NOW, 0, "longer than 8192 bytes");
  free(big);
  free(token);
  rr_token_keys_free(keys);
}
END_TEST

START_TEST(claims_are_checked)
{
  rr_token_keys *keys = hs_keys(secret_a);
  const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  char payload[1024], *token;
  static const struct {
    const char *payload;
    const char *needle;
  } cases[] = {
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"role\":\"r\",\"jti\":\"j\"}", "expiry" },
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"role\":\"r\",\"jti\":\"j\",\"exp\":\"1700000600\"}", "expiry" },
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"role\":\"r\",\"jti\":\"j\",\"exp\":1700000600.5}", "expiry" },
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"role\":\"r\",\"jti\":\"j\",\"exp\":253402300800}", "expiry" },
    /* beyond int64: libjwt's JSON parser (jansson) refuses it, so the signature check fails */
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"role\":\"r\",\"jti\":\"j\",\"exp\":99999999999999999999}", "verify" },
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"role\":\"r\",\"jti\":\"j\",\"exp\":1700000600,\"nbf\":true}", "nbf" },
    { "{\"aud\":\"" AUD "\",\"sub\":\"a\",\"role\":\"r\",\"jti\":\"j\",\"exp\":1700000600}", "issuer" },
    { "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"role\":\"r\",\"jti\":\"j\",\"exp\":1700000600}", "audience" },
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"role\":\"r\",\"jti\":\"j\",\"exp\":1700000600}", "subject" },
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"\",\"role\":\"r\",\"jti\":\"j\",\"exp\":1700000600}", "subject" },
    /* NUL in a string: jansson (libjwt) refuses the payload, json-c would cut the string */
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\\u0000b\",\"role\":\"r\",\"jti\":\"j\",\"exp\":1700000600}", "verify" },
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"jti\":\"j\",\"exp\":1700000600}", "role" },
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"role\":\"rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr\",\"jti\":\"j\",\"exp\":1700000600}", "role" },
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"role\":[\"admin\"],\"jti\":\"j\",\"exp\":1700000600}", "role" },
    { "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"role\":\"r\",\"exp\":1700000600}", "jti" },
    { "[1,2]", "payload is not a JSON object" },
    { "{\"iss\":\"" ISS "\"} trailing", "payload is not a JSON object" },
  };
  size_t i;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    token = craft(hdr, cases[i].payload, secret_a, 32);
    refused(keys, token, NOW, 0, cases[i].needle);
    free(token);
  }
  /* the same payload with everything is fine; a 127-byte subject too */
  payload_json(payload, sizeof(payload), "\"x-extra\":{\"nested\":[1,2,3]},");
  token = craft(hdr, payload, secret_a, 32);
  accepted(keys, token, NOW, 0);
  free(token);
  rr_token_keys_free(keys);
}
END_TEST

START_TEST(issue_checks_its_arguments)
{
  rr_token_keys *keys = hs_keys(secret_a);
  char *token = NULL, err[256] = "", sub[200];

  ck_assert_int_eq(rr_token_issue(&token, keys, ISS, AUD, "", "reader", NOW, 60, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_token_issue(&token, keys, ISS, AUD, "alice", NULL, NOW, 60, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_token_issue(&token, keys, "", AUD, "alice", "r", NOW, 60, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_token_issue(&token, keys, ISS, AUD, "alice", "r", NOW, 0, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_token_issue(&token, keys, ISS, AUD, "alice", "r", -5, 60, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_token_issue(&token, keys, ISS, AUD, "a\xff", "r", NOW, 60, NULL, err, sizeof(err)), RR_EINVAL);
  memset(sub, 's', 127);
  sub[127] = '\0';
  ck_assert_int_eq(rr_token_issue(&token, keys, ISS, AUD, sub, "r", NOW, 60, NULL, err, sizeof(err)), 0);
  accepted(keys, token, NOW, 0);
  free(token);
  token = NULL;
  sub[127] = 's';
  sub[128] = '\0';
  ck_assert_int_eq(rr_token_issue(&token, keys, ISS, AUD, sub, "r", NOW, 60, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(token);
  rr_token_keys_free(keys);
}
END_TEST

START_TEST(secret_file)
{
  char dir[4096], path[4200], err[512] = "", cmd[4400];
  unsigned char s1[64], s2[64];
  size_t n1 = 0, n2 = 0;
  struct stat st;
  FILE *f;

  rr_test_tmpdir(dir, sizeof(dir));
  snprintf(path, sizeof(path), "%s/token-secret", dir);
  /* created, 0600 */
  ck_assert_msg(rr_token_secret_load_or_create(s1, sizeof(s1), &n1, path, err, sizeof(err)) == 0, "%s", err);
  ck_assert_uint_eq(n1, 32);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_uint_eq(st.st_mode & 07777, 0600);
  ck_assert_int_eq(st.st_size, 65); /* 64 hex digits and a newline */
  /* reloaded identical */
  ck_assert_msg(rr_token_secret_load_or_create(s2, 32, &n2, path, err, sizeof(err)) == 0, "%s", err);
  ck_assert_uint_eq(n2, 32);
  ck_assert_mem_eq(s1, s2, 32);
  /* no temporary file left behind */
  snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
  ck_assert_int_eq(system(cmd), 0);
  /* refused when readable by others, with a sentence naming the mode */
  ck_assert_int_eq(chmod(path, 0644), 0);
  ck_assert_int_eq(rr_token_secret_load_or_create(s2, sizeof(s2), &n2, path, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "0644"));
  ck_assert_ptr_nonnull(strstr(err, "group or others"));
  ck_assert_int_eq(chmod(path, 0640), 0);
  ck_assert_int_eq(rr_token_secret_load_or_create(s2, sizeof(s2), &n2, path, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(chmod(path, 0600), 0);
  /* the buffer must hold the secret */
  ck_assert_int_eq(rr_token_secret_load_or_create(s2, 16, &n2, path, err, sizeof(err)), RR_EINVAL);
  /* a symbolic link is not followed */
  snprintf(cmd, sizeof(cmd), "%s/link", dir);
  ck_assert_int_eq(symlink(path, cmd), 0);
  ck_assert_int_eq(rr_token_secret_load_or_create(s2, sizeof(s2), &n2, cmd, err, sizeof(err)), RR_EINVAL);
  /* raw bytes (48) are accepted, junk is not */
  snprintf(path, sizeof(path), "%s/raw-secret", dir);
  f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fwrite("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
                          "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
                          "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\xff",
                          1, 48, f),
                   48);
  fclose(f);
  ck_assert_int_eq(chmod(path, 0600), 0);
  ck_assert_msg(rr_token_secret_load_or_create(s2, sizeof(s2), &n2, path, err, sizeof(err)) == 0, "%s", err);
  ck_assert_uint_eq(n2, 48);
  ck_assert_uint_eq(s2[47], 0xff);
  snprintf(path, sizeof(path), "%s/short-secret", dir);
  f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  fputs("tooshort\n", f);
  fclose(f);
  ck_assert_int_eq(chmod(path, 0600), 0);
  ck_assert_int_eq(rr_token_secret_load_or_create(s2, sizeof(s2), &n2, path, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "hex digits"));
  /* a missing directory is an error, not created */
  snprintf(path, sizeof(path), "%s/missing/token-secret", dir);
  ck_assert_int_eq(rr_token_secret_load_or_create(s2, sizeof(s2), &n2, path, err, sizeof(err)), RR_EINVAL);
  /* the secret makes working keys */
  {
    rr_token_keys *keys = NULL;
    char *token;
    ck_assert_int_eq(rr_token_keys_hs256(&keys, s1, n1, err, sizeof(err)), 0);
    token = issue(keys, "reader", NOW, 60);
    accepted(keys, token, NOW, 0);
    free(token);
    rr_token_keys_free(keys);
  }
  rr_test_rmdir(dir);
}
END_TEST

START_TEST(token_hash)
{
  char h[65], h2[65];

  rr_token_hash(h, "abc");
  ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  rr_token_hash(h, NULL);
  ck_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  rr_token_hash(h, "a.b.c");
  rr_token_hash(h2, "a.b.d");
  ck_assert_str_ne(h, h2);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("token");
  TCase *tc = tcase_create("token");
  int rc;

  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, hs256_round_trip);
  tcase_add_test(tc, rs256_round_trip);
  tcase_add_test(tc, es256_round_trip);
  tcase_add_test(tc, pem_keys_are_checked);
  tcase_add_test(tc, expiry_and_leeway);
  tcase_add_test(tc, not_yet_valid);
  tcase_add_test(tc, session_start_and_expired_claims);
  tcase_add_test(tc, session_lifetime_rules);
  tcase_add_test(tc, issuer_and_audience);
  tcase_add_test(tc, tampered_payload);
  tcase_add_test(tc, wrong_secret_or_key);
  tcase_add_test(tc, alg_none_is_refused);
  tcase_add_test(tc, algorithm_confusion_is_refused);
  tcase_add_test(tc, malformed_tokens);
  tcase_add_test(tc, claims_are_checked);
  tcase_add_test(tc, issue_checks_its_arguments);
  tcase_add_test(tc, secret_file);
  tcase_add_test(tc, token_hash);
  suite_add_tcase(s, tc);
  rc = rr_test_run(s);
  free(rsa_key.priv);
  free(rsa_key.pub);
  free(rsa_key2.priv);
  free(rsa_key2.pub);
  free(ec_key.priv);
  free(ec_key.pub);
  free(ec_key2.priv);
  free(ec_key2.pub);
  return rc;
}
