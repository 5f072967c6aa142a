#include "password.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "util/errors.h"
#include "util/str.h"

const rr_password_params rr_password_default_params = {
  RR_PASSWORD_MEMORY_KIB, RR_PASSWORD_ITERATIONS, RR_PASSWORD_PARALLELISM
};

/* A hash of a random string made with the default parameters (see
 * rr_password_burn). Nobody knows a password matching it, and it does not
 * matter if someone does: the result is ignored. */
static const char burn_hash[] =
    "$argon2id$v=19$m=19456,t=2,p=1$UlJidXJuU2FsdC0yMDI0IQ$JmF6ZIjvcNavY+JtnJD6Jx0LBNdgdukjutFniEgG1LE";

#define ENCODED_MAX 256 /* longest encoded string rr_password_verify looks at */

typedef struct encoded_info {
  uint32_t version, m, t, p;
  size_t salt_len, hash_len; /* bytes */
} encoded_info;

static const char *parse_u32(const char *s, uint32_t *out)
{
  uint64_t v = 0;
  const char *start = s;

  if (*s == '0' && s[1] >= '0' && s[1] <= '9')
    return NULL; /* no leading zeros, like libargon2 */
  while (*s >= '0' && *s <= '9') {
    v = v * 10 + (uint64_t)(*s - '0');
    if (v > UINT32_MAX)
      return NULL;
    s++;
  }
  if (s == start)
    return NULL;
  *out = (uint32_t)v;
  return s;
}

static bool is_b64(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Unpadded base64 of n characters: how many bytes (n % 4 == 1 is invalid). */
static const char *parse_b64(const char *s, char end, size_t *bytes)
{
  size_t n = 0;

  while (is_b64(s[n]))
    n++;
  if (s[n] != end || n % 4 == 1)
    return NULL;
  *bytes = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
  return s + n;
}

static const char *expect(const char *s, const char *lit)
{
  size_t n = strlen(lit);
  return s != NULL && strncmp(s, lit, n) == 0 ? s + n : NULL;
}

/* Parse "$argon2id$v=19$m=..,t=..,p=..$salt$hash" strictly. */
static int parse_encoded(encoded_info *out, const char *encoded)
{
  const char *s;

  if (encoded == NULL || strnlen(encoded, ENCODED_MAX + 1) > ENCODED_MAX)
    return RR_EINVAL;
  s = expect(encoded, "$argon2id$v=");
  if (s == NULL || (s = parse_u32(s, &out->version)) == NULL)
    return RR_EINVAL;
  if ((s = expect(s, "$m=")) == NULL || (s = parse_u32(s, &out->m)) == NULL)
    return RR_EINVAL;
  if ((s = expect(s, ",t=")) == NULL || (s = parse_u32(s, &out->t)) == NULL)
    return RR_EINVAL;
  if ((s = expect(s, ",p=")) == NULL || (s = parse_u32(s, &out->p)) == NULL)
    return RR_EINVAL;
  if ((s = expect(s, "$")) == NULL || (s = parse_b64(s, '$', &out->salt_len)) == NULL)
    return RR_EINVAL;
  if ((s = parse_b64(s + 1, '\0', &out->hash_len)) == NULL)
    return RR_EINVAL;
  return 0;
}

static int check_params(const rr_password_params *p, char *err, size_t errsize)
{
  if (p->memory_kib < RR_PASSWORD_MEMORY_KIB || p->iterations < RR_PASSWORD_ITERATIONS ||
      p->parallelism < RR_PASSWORD_PARALLELISM)
    return rr_fail(err, errsize, RR_EINVAL,
                   "Argon2id parameters m=%u,t=%u,p=%u are weaker than the minimum m=%u,t=%u,p=%u",
                   (unsigned)p->memory_kib, (unsigned)p->iterations, (unsigned)p->parallelism,
                   RR_PASSWORD_MEMORY_KIB, RR_PASSWORD_ITERATIONS, RR_PASSWORD_PARALLELISM);
  if (p->memory_kib > RR_PASSWORD_MAX_MEMORY_KIB || p->iterations > RR_PASSWORD_MAX_ITERATIONS ||
      p->parallelism > RR_PASSWORD_MAX_PARALLELISM)
    return rr_fail(err, errsize, RR_EINVAL,
                   "Argon2id parameters m=%u,t=%u,p=%u exceed the maximum m=%u,t=%u,p=%u",
                   (unsigned)p->memory_kib, (unsigned)p->iterations, (unsigned)p->parallelism,
                   RR_PASSWORD_MAX_MEMORY_KIB, RR_PASSWORD_MAX_ITERATIONS, RR_PASSWORD_MAX_PARALLELISM);
  /* Argon2 needs at least 8 KiB per lane. */
  if (p->memory_kib < 8 * p->parallelism)
    return rr_fail(err, errsize, RR_EINVAL, "Argon2id needs at least 8 KiB of memory per lane");
  return 0;
}

int rr_password_hash(char *out, size_t outsize, const char *password, const rr_password_params *params,
                     char *err, size_t errsize)
{
  unsigned char salt[RR_PASSWORD_SALT_BYTES];
  size_t pwlen, need;
  int rc, error = 0;

  if (out != NULL && outsize > 0)
    out[0] = '\0';
  if (params == NULL)
    params = &rr_password_default_params;
  if (out == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no output buffer for the password hash");
  if (password == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no password given");
  pwlen = strnlen(password, RR_PASSWORD_MAX_BYTES + 1);
  if (pwlen > RR_PASSWORD_MAX_BYTES)
    return rr_fail(err, errsize, RR_EINVAL, "the password is longer than %u bytes", RR_PASSWORD_MAX_BYTES);
  if ((error = check_params(params, err, errsize)) < 0)
    return error;
  need = argon2_encodedlen(params->iterations, params->memory_kib, params->parallelism, RR_PASSWORD_SALT_BYTES,
                           RR_PASSWORD_HASH_BYTES, Argon2_id);
  if (need > outsize)
    return rr_fail(err, errsize, RR_EFULL, "the buffer for the password hash is too small (%zu bytes, %zu needed)",
                   outsize, need);
  if (RAND_bytes(salt, (int)sizeof(salt)) != 1) {
    error = rr_fail(err, errsize, RR_ERROR, "could not draw random bytes for the salt (OpenSSL RAND_bytes failed)");
    goto out;
  }
  rc = argon2id_hash_encoded(params->iterations, params->memory_kib, params->parallelism, password, pwlen, salt,
                             sizeof(salt), RR_PASSWORD_HASH_BYTES, out, outsize);
  if (rc != ARGON2_OK) {
    out[0] = '\0';
    error = rr_fail(err, errsize, rc == ARGON2_MEMORY_ALLOCATION_ERROR ? RR_ENOMEM : RR_ERROR,
                    "Argon2id hashing failed: %s", argon2_error_message(rc));
    goto out;
  }

out:
  OPENSSL_cleanse(salt, sizeof(salt));
  return error;
}

int rr_password_verify(const char *encoded, const char *password)
{
  encoded_info info;
  size_t pwlen;
  int rc;

  if (password == NULL)
    return RR_EINVAL;
  pwlen = strnlen(password, RR_PASSWORD_MAX_BYTES + 1);
  if (pwlen > RR_PASSWORD_MAX_BYTES)
    return RR_EINVAL;
  /* Bound the work a stored string can ask for before handing it over. */
  if (parse_encoded(&info, encoded) < 0 || info.version != ARGON2_VERSION_13 || info.m > RR_PASSWORD_MAX_MEMORY_KIB ||
      info.t > RR_PASSWORD_MAX_ITERATIONS || info.p > RR_PASSWORD_MAX_PARALLELISM || info.p == 0 ||
      info.salt_len < 8 || info.hash_len < 16)
    return RR_EINVAL;
  rc = argon2id_verify(encoded, password, pwlen);
  if (rc == ARGON2_OK)
    return 0;
  return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? RR_ENOMEM : RR_EINVAL;
}

bool rr_password_needs_rehash(const char *encoded, const rr_password_params *params)
{
  encoded_info info;

  if (params == NULL)
    params = &rr_password_default_params;
  if (parse_encoded(&info, encoded) < 0)
    return true;
  return info.version != ARGON2_VERSION_13 || info.m < params->memory_kib || info.t < params->iterations ||
         info.p < params->parallelism || info.salt_len < RR_PASSWORD_SALT_BYTES ||
         info.hash_len < RR_PASSWORD_HASH_BYTES;
}

/* Simple case folding (to lower case) for the scripts where the user name
 * and the password plausibly share letters. Not Unicode's full folding. */
static uint32_t fold_cp(uint32_t c)
{
  if (c >= 'A' && c <= 'Z')
    return c + 0x20;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3AB && c != 0x3A2) ||
      (c >= 0x410 && c <= 0x42F))
    return c + 0x20;
  if (c >= 0x400 && c <= 0x40F)
    return c + 0x50;
  if (c == 0x178)
    return 0xFF;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
    return c | 1u; /* pairs: even upper, odd lower */
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
    return (c & 1u) ? c + 1 : c; /* pairs: odd upper, even lower */
  if (c == 0x386)
    return 0x3AC; /* Greek capitals with tonos */
  if (c >= 0x388 && c <= 0x38A)
    return c + 0x25;
  if (c == 0x38C)
    return 0x3CC;
  if (c == 0x38E || c == 0x38F)
    return c + 0x3F;
  if (c == 0x3C2)
    return 0x3C3; /* final sigma */
  return c;
}

static bool equal_folded(const char *a, size_t alen, const char *b, size_t blen)
{
  size_t i = 0, j = 0;
  uint32_t ca, cb;

  while (i < alen && j < blen) {
    i += rr_utf8_decode(a + i, alen - i, &ca);
    j += rr_utf8_decode(b + j, blen - j, &cb);
    if (fold_cp(ca) != fold_cp(cb))
      return false;
  }
  return i == alen && j == blen;
}

int rr_password_check_policy(const char *password, const char *username, unsigned min_length, char *err,
                             size_t errsize)
{
  size_t len, i, chars = 0;
  uint32_t cp, first = 0;
  bool same = true;

  if (password == NULL || password[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "Please enter a password.");
  len = strnlen(password, RR_PASSWORD_MAX_BYTES + 1);
  if (len > RR_PASSWORD_MAX_BYTES)
    return rr_fail(err, errsize, RR_EINVAL, "The password is too long: at most %u bytes are allowed.",
                   RR_PASSWORD_MAX_BYTES);
  if (rr_utf8_valid_prefix(password, len) != len)
    return rr_fail(err, errsize, RR_EINVAL, "The password is not valid UTF-8 text.");
  for (i = 0; i < len; chars++) {
    i += rr_utf8_decode(password + i, len - i, &cp);
    if (chars == 0)
      first = cp;
    else if (cp != first)
      same = false;
  }
  if (min_length < 1)
    min_length = 1;
  if (chars < min_length)
    return rr_fail(err, errsize, RR_EINVAL, "The password is too short: it needs at least %u characters.",
                   min_length);
  if (username != NULL && username[0] != '\0' && equal_folded(password, len, username, strlen(username)))
    return rr_fail(err, errsize, RR_EINVAL, "The password must not be the user name.");
  if (same && chars > 1)
    return rr_fail(err, errsize, RR_EINVAL, "The password must not be one character repeated.");
  return 0;
}

void rr_password_burn(const char *password)
{
  (void)rr_password_verify(burn_hash, password != NULL ? password : "");
}
