#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/base64.h"
#include "util/errors.h"
#include "util/sha256.h"
#include "util/str.h"

/* libjwt takes times as long. */
_Static_assert(sizeof(long) >= 8, "rr_token needs a 64-bit long for libjwt's integer claims");

#define PEM_MAX 16384               /* longest PEM text accepted */
#define TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define LIFETIME_MAX (31 * 86400)
#define LEEWAY_MAX 3600
#define SECRET_FILE_MAX 256         /* bytes read from a secret file at most */

struct rr_token_keys {
  jwt_alg_t alg;
  const char *alg_name;     /* "HS256", "RS256", "ES256" */
  unsigned char *sign_key;  /* HS256 secret or PKCS#8 PEM; NULL = verify only */
  size_t sign_len;
  unsigned char *verify_key; /* HS256 secret or SPKI PEM */
  size_t verify_len;
};

/* ------------------------------------------------------------- helpers */

/* Is s[0..n) canonical unpadded base64url (the only encoding of its bytes)? */
static bool b64url_canonical(const char *s, size_t n)
{
  size_t i;
  int last = 0;

  if (n == 0 || n % 4 == 1)
    return false;
  for (i = 0; i < n; i++)
    if ((last = rr_base64_digit(s[i], true)) < 0)
      return false;
  if (n % 4 == 2)
    return (last & 0x0F) == 0;
  if (n % 4 == 3)
    return (last & 0x03) == 0;
  return true;
}

/* Decode canonical base64url s[0..n) into a malloc'd, NUL-terminated buffer. */
static int b64url_decode(unsigned char **out, size_t *outlen, const char *s, size_t n)
{
  unsigned char *buf;
  uint32_t acc = 0;
  size_t i, len = 0;
  int bits = 0;

  *out = NULL;
  buf = malloc(n / 4 * 3 + 3);
  if (buf == NULL)
    return RR_ENOMEM;
  for (i = 0; i < n; i++) {
    acc = (acc << 6) | (uint32_t)rr_base64_digit(s[i], true);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      buf[len++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  buf[len] = '\0';
  *out = buf;
  *outlen = len;
  return 0;
}

/* Parse exactly one JSON object from text[0..len) (strict, valid UTF-8). */
static json_object *parse_object(const unsigned char *text, size_t len)
{
  json_tokener *tok;
  json_object *obj = NULL;

  if (len == 0 || len > RR_TOKEN_MAX_BYTES || memchr(text, '\0', len) != NULL)
    return NULL;
  tok = json_tokener_new();
  if (tok == NULL)
    return NULL;
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  obj = json_tokener_parse_ex(tok, (const char *)text, (int)len);
  if (obj != NULL &&
      (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != len ||
       !json_object_is_type(obj, json_type_object))) {
    json_object_put(obj);
    obj = NULL;
  }
  json_tokener_free(tok);
  return obj;
}

/* A string member of 1..maxlen bytes, valid UTF-8 without NUL, or NULL. */
static const char *get_str(json_object *obj, const char *key, size_t maxlen)
{
  json_object *v;
  const char *s;
  size_t n;

  if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  s = json_object_get_string(v);
  n = (size_t)json_object_get_string_len(v);
  if (n == 0 || n > maxlen || strlen(s) != n || rr_utf8_valid_prefix(s, n) != n)
    return NULL;
  return s;
}

/* An integer member in [0, TIME_MAX]: 1 found, 0 absent, -1 wrong type or range. */
static int get_time(int64_t *out, json_object *obj, const char *key)
{
  json_object *v;
  int64_t t;

  *out = 0;
  if (!json_object_object_get_ex(obj, key, &v))
    return 0;
  if (!json_object_is_type(v, json_type_int))
    return -1;
  errno = 0;
  t = json_object_get_int64(v);
  if (errno != 0 || t < 0 || t > TIME_MAX)
    return -1;
  *out = t;
  return 1;
}

static bool valid_text(const char *s, size_t maxlen)
{
  size_t n;

  if (s == NULL || s[0] == '\0')
    return false;
  n = strnlen(s, maxlen + 1);
  return n <= maxlen && rr_utf8_valid_prefix(s, n) == n;
}

static int from_errno(int e)
{
  return e == ENOMEM ? RR_ENOMEM : RR_ERROR;
}

/* ---------------------------------------------------------------- keys */

void rr_token_keys_free(rr_token_keys *keys)
{
  if (keys == NULL)
    return;
  if (keys->sign_key != NULL) {
    OPENSSL_cleanse(keys->sign_key, keys->sign_len);
    free(keys->sign_key);
  }
  if (keys->verify_key != NULL) {
    OPENSSL_cleanse(keys->verify_key, keys->verify_len);
    free(keys->verify_key);
  }
  free(keys);
}

const char *rr_token_keys_alg(const rr_token_keys *keys)
{
  return keys != NULL ? keys->alg_name : "";
}

static unsigned char *dup_bytes(const void *p, size_t n)
{
  unsigned char *copy = malloc(n + 1);

  if (copy != NULL) {
    memcpy(copy, p, n);
    copy[n] = '\0';
  }
  return copy;
}

int rr_token_keys_hs256(rr_token_keys **out, const unsigned char *secret, size_t len, char *err, size_t errsize)
{
  rr_token_keys *keys = NULL;
  int error = 0;

  *out = NULL;
  if (secret == NULL || len < RR_TOKEN_SECRET_MIN || len > RR_TOKEN_SECRET_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "the HS256 secret must be %u to %u bytes long", RR_TOKEN_SECRET_MIN,
                   RR_TOKEN_SECRET_MAX);
  if ((keys = calloc(1, sizeof(*keys))) == NULL || (keys->sign_key = dup_bytes(secret, len)) == NULL ||
      (keys->verify_key = dup_bytes(secret, len)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  keys->alg = JWT_ALG_HS256;
  keys->alg_name = "HS256";
  keys->sign_len = keys->verify_len = len;
  *out = keys;
  keys = NULL;

out:
  rr_token_keys_free(keys);
  return error;
}

/* Never prompt for a pass phrase (OpenSSL's default reads the terminal). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
  (void)buf;
  (void)size;
  (void)rwflag;
  (void)u;
  return -1;
}

static int check_pkey(EVP_PKEY *pkey, jwt_alg_t alg, const char *what, char *err, size_t errsize)
{
  char group[64] = "";
  size_t glen = 0;

  if (alg == JWT_ALG_RS256) {
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
      return rr_fail(err, errsize, RR_EINVAL, "the %s is not an RSA key, as RS256 needs", what);
    if (EVP_PKEY_get_bits(pkey) < 2048)
      return rr_fail(err, errsize, RR_EINVAL, "the %s has %d bits; RS256 needs at least 2048", what,
                     EVP_PKEY_get_bits(pkey));
    return 0;
  }
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
    return rr_fail(err, errsize, RR_EINVAL, "the %s is not an EC key, as ES256 needs", what);
  if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1 ||
      (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0))
    return rr_fail(err, errsize, RR_EINVAL, "the %s is not on the P-256 curve, as ES256 needs", what);
  return 0;
}

/* Copy a memory BIO's content into a malloc'd buffer. */
static int bio_take(unsigned char **out, size_t *outlen, BIO *bio)
{
  char *data = NULL;
  long n = BIO_get_mem_data(bio, &data);

  if (n <= 0 || (*out = dup_bytes(data, (size_t)n)) == NULL)
    return RR_ENOMEM;
  *outlen = (size_t)n;
  return 0;
}

/* Read one unencrypted PEM key (a private key when is_private, else a
 * public key) and check it suits alg. *out is the caller's to free
 * (EVP_PKEY_free); NULL on error. 0, RR_ENOMEM or RR_EINVAL. */
static int read_pem_key(EVP_PKEY **out, const char *pem, bool is_private, jwt_alg_t alg, char *err, size_t errsize)
{
  BIO *in;
  int error;

  *out = NULL;
  if ((in = BIO_new_mem_buf(pem, -1)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  *out = is_private ? PEM_read_bio_PrivateKey(in, NULL, no_passphrase, NULL)
                    : PEM_read_bio_PUBKEY(in, NULL, no_passphrase, NULL);
  BIO_free(in);
  if (*out == NULL)
    return is_private
               ? rr_fail(err, errsize, RR_EINVAL,
                         "the private key is not an unencrypted PEM private key (encrypted keys are not supported)")
               : rr_fail(err, errsize, RR_EINVAL, "the public key is not a PEM public key (\"BEGIN PUBLIC KEY\")");
  if ((error = check_pkey(*out, alg, is_private ? "private key" : "public key", err, errsize)) < 0) {
    EVP_PKEY_free(*out);
    *out = NULL;
  }
  return error;
}

/* Hand libjwt normalised PEM: unencrypted PKCS#8 and SubjectPublicKeyInfo,
 * one key each, so that it never needs OpenSSL's pass phrase prompt. Fills
 * keys' sign key from priv (when not NULL) and its verify key from pub, or
 * from priv when pub is NULL. 0 or RR_ENOMEM. */
static int encode_pem_keys(rr_token_keys *keys, EVP_PKEY *priv, EVP_PKEY *pub, char *err, size_t errsize)
{
  BIO *mem = NULL;
  int error = 0;

  if (priv != NULL) {
    /* secmem: the BIO's buffer is cleansed when freed */
    if ((mem = BIO_new(BIO_s_secmem())) == NULL ||
        PEM_write_bio_PrivateKey(mem, priv, NULL, NULL, 0, NULL, NULL) != 1 ||
        bio_take(&keys->sign_key, &keys->sign_len, mem) < 0) {
      error = rr_fail(err, errsize, RR_ENOMEM, "could not re-encode the private key");
      goto out;
    }
    BIO_free(mem);
    mem = NULL;
  }
  if ((mem = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_PUBKEY(mem, pub != NULL ? pub : priv) != 1 ||
      bio_take(&keys->verify_key, &keys->verify_len, mem) < 0) {
    error = rr_fail(err, errsize, RR_ENOMEM, "could not encode the public key");
    goto out;
  }

out:
  BIO_free(mem);
  return error;
}

int rr_token_keys_pem(rr_token_keys **out, const char *alg, const char *private_pem, const char *public_pem,
                      char *err, size_t errsize)
{
  rr_token_keys *keys = NULL;
  EVP_PKEY *priv = NULL, *pub = NULL;
  int error = 0;

  *out = NULL;
  if (alg == NULL || (strcmp(alg, "RS256") != 0 && strcmp(alg, "ES256") != 0))
    return rr_fail(err, errsize, RR_EINVAL, "the algorithm must be \"RS256\" or \"ES256\"");
  if (private_pem == NULL && public_pem == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "%s needs a private key, a public key or both", alg);
  if ((private_pem != NULL && strnlen(private_pem, PEM_MAX + 1) > PEM_MAX) ||
      (public_pem != NULL && strnlen(public_pem, PEM_MAX + 1) > PEM_MAX))
    return rr_fail(err, errsize, RR_EINVAL, "a PEM key is longer than %d bytes", PEM_MAX);
  if ((keys = calloc(1, sizeof(*keys))) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  keys->alg = strcmp(alg, "RS256") == 0 ? JWT_ALG_RS256 : JWT_ALG_ES256;
  keys->alg_name = keys->alg == JWT_ALG_RS256 ? "RS256" : "ES256";

  if (private_pem != NULL && (error = read_pem_key(&priv, private_pem, true, keys->alg, err, errsize)) < 0)
    goto out;
  if (public_pem != NULL) {
    if ((error = read_pem_key(&pub, public_pem, false, keys->alg, err, errsize)) < 0)
      goto out;
    if (priv != NULL && EVP_PKEY_eq(priv, pub) != 1) {
      error = rr_fail(err, errsize, RR_EINVAL, "the public key does not belong to the private key");
      goto out;
    }
  }
  if ((error = encode_pem_keys(keys, priv, pub, err, errsize)) < 0)
    goto out;
  *out = keys;
  keys = NULL;

out:
  EVP_PKEY_free(priv);
  EVP_PKEY_free(pub);
  rr_token_keys_free(keys);
  return error;
}

/* --------------------------------------------------------- secret file */

static int parse_secret(unsigned char *out, size_t outsize, size_t *outlen, const unsigned char *buf, size_t n,
                        const char *path, char *err, size_t errsize)
{
  size_t t = n, i;
  bool hex = true;

  while (t > 0 && (buf[t - 1] == '\n' || buf[t - 1] == '\r' || buf[t - 1] == ' ' || buf[t - 1] == '\t'))
    t--;
  for (i = 0; i < t && hex; i++)
    hex = rr_hex_value((char)buf[i]) >= 0;
  if (hex && t % 2 == 0 && t >= 2 * RR_TOKEN_SECRET_MIN && t <= 2 * RR_TOKEN_SECRET_MAX) {
    if (t / 2 > outsize)
      return rr_fail(err, errsize, RR_EFULL, "the secret in %s (%zu bytes) does not fit in %zu bytes", path, t / 2,
                     outsize);
    for (i = 0; i < t / 2; i++)
      out[i] = (unsigned char)(rr_hex_value((char)buf[2 * i]) << 4 | rr_hex_value((char)buf[2 * i + 1]));
    *outlen = t / 2;
    return 0;
  }
  if (n >= RR_TOKEN_SECRET_MIN && n <= RR_TOKEN_SECRET_MAX) {
    if (n > outsize)
      return rr_fail(err, errsize, RR_EFULL, "the secret in %s (%zu bytes) does not fit in %zu bytes", path, n,
                     outsize);
    memcpy(out, buf, n);
    *outlen = n;
    return 0;
  }
  return rr_fail(err, errsize, RR_EINVAL, "%s holds neither %u to %u hex digits nor %u to %u raw bytes", path,
                 2 * RR_TOKEN_SECRET_MIN, 2 * RR_TOKEN_SECRET_MAX, RR_TOKEN_SECRET_MIN, RR_TOKEN_SECRET_MAX);
}

/* Load an existing secret file. RR_ENOTFOUND when it does not exist. */
static int load_secret(unsigned char *out, size_t outsize, size_t *outlen, const char *path, char *err,
                       size_t errsize)
{
  unsigned char buf[SECRET_FILE_MAX + 1];
  struct stat st;
  size_t n = 0;
  ssize_t r;
  int fd, error = 0;

  fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT)
      return RR_ENOTFOUND;
    return rr_fail(err, errsize, RR_EINVAL, "cannot open the token secret %s: %s", path, strerror(errno));
  }
  if (fstat(fd, &st) != 0) {
    error = rr_fail(err, errsize, RR_EINVAL, "cannot stat the token secret %s: %s", path, strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    error = rr_fail(err, errsize, RR_EINVAL, "the token secret %s is not a regular file", path);
    goto out;
  }
  if (st.st_uid != geteuid()) {
    error = rr_fail(err, errsize, RR_EINVAL,
                    "the token secret %s is owned by uid %ld, not by this process's uid %ld; refusing to use it",
                    path, (long)st.st_uid, (long)geteuid());
    goto out;
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    error = rr_fail(err, errsize, RR_EINVAL,
                    "the token secret %s is accessible to group or others (mode %04o); refusing to use it "
                    "(chmod 600 it, or delete it to have a new one made)",
                    path, (unsigned)(st.st_mode & 07777));
    goto out;
  }
  while (n < sizeof(buf)) {
    r = read(fd, buf + n, sizeof(buf) - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      error = rr_fail(err, errsize, RR_EINVAL, "cannot read the token secret %s: %s", path, strerror(errno));
      goto out;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  if (n > SECRET_FILE_MAX) {
    error = rr_fail(err, errsize, RR_EINVAL, "the token secret %s is longer than %d bytes", path, SECRET_FILE_MAX);
    goto out;
  }
  error = parse_secret(out, outsize, outlen, buf, n, path, err, errsize);

out:
  OPENSSL_cleanse(buf, sizeof(buf));
  close(fd);
  return error;
}

static int write_all(int fd, const char *p, size_t n)
{
  ssize_t w;

  while (n > 0) {
    w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void fsync_parent(const char *path)
{
  char dir[4096];
  char *slash;
  int fd;

  if (rr_str_copy(dir, sizeof(dir), path) != strlen(path))
    return;
  slash = strrchr(dir, '/');
  if (slash == NULL)
    rr_str_copy(dir, sizeof(dir), ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

int rr_token_secret_load_or_create(unsigned char *out, size_t outsize, size_t *outlen, const char *path, char *err,
                                   size_t errsize)
{
  unsigned char secret[RR_TOKEN_SECRET_MIN];
  char hex[2 * RR_TOKEN_SECRET_MIN + 2];
  char tmp[4200];
  int fd = -1, error = 0, n;
  bool tmp_exists = false;

  *outlen = 0;
  if (out == NULL || outsize < RR_TOKEN_SECRET_MIN)
    return rr_fail(err, errsize, RR_EINVAL, "the buffer for the token secret must hold at least %u bytes",
                   RR_TOKEN_SECRET_MIN);
  if (path == NULL || path[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "no path given for the token secret");
  error = load_secret(out, outsize, outlen, path, err, errsize);
  if (error != RR_ENOTFOUND)
    return error;
  error = 0;

  n = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
  if (n < 0 || (size_t)n >= sizeof(tmp))
    return rr_fail(err, errsize, RR_EINVAL, "the token secret path is too long");
  if (RAND_bytes(secret, (int)sizeof(secret)) != 1) {
    error = rr_fail(err, errsize, RR_ERROR, "could not draw random bytes for the token secret (RAND_bytes failed)");
    goto out;
  }
  rr_hex_encode(hex, secret, sizeof(secret));
  hex[2 * RR_TOKEN_SECRET_MIN] = '\n';
  hex[2 * RR_TOKEN_SECRET_MIN + 1] = '\0';

  /* mkstemp: O_CREAT|O_EXCL, mode 0600 whatever the umask. */
  fd = mkstemp(tmp);
  if (fd < 0) {
    error = rr_fail(err, errsize, RR_EINVAL, "cannot create the token secret next to %s: %s", path, strerror(errno));
    goto out;
  }
  tmp_exists = true;
  if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || write_all(fd, hex, 2 * RR_TOKEN_SECRET_MIN + 1) != 0 ||
      fsync(fd) != 0) {
    error = rr_fail(err, errsize, RR_EINVAL, "cannot write the token secret next to %s: %s", path, strerror(errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    error = rr_fail(err, errsize, RR_EINVAL, "cannot write the token secret next to %s: %s", path, strerror(errno));
    goto out;
  }
  fd = -1;
  /* link() never replaces: if another process created the file meanwhile,
   * every process must end up with that one. rename() only where the file
   * system has no hard links. */
  if (link(tmp, path) != 0) {
    if (errno == EEXIST) {
      error = load_secret(out, outsize, outlen, path, err, errsize);
      if (error == RR_ENOTFOUND)
        error = rr_fail(err, errsize, RR_EINVAL, "the token secret %s vanished while it was created", path);
      goto out;
    }
    if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS) {
      error = rr_fail(err, errsize, RR_EINVAL, "cannot create the token secret %s: %s", path, strerror(errno));
      goto out;
    }
    if (rename(tmp, path) != 0) {
      error = rr_fail(err, errsize, RR_EINVAL, "cannot create the token secret %s: %s", path, strerror(errno));
      goto out;
    }
    tmp_exists = false;
  }
  fsync_parent(path);
  memcpy(out, secret, sizeof(secret));
  *outlen = sizeof(secret);

out:
  if (fd >= 0)
    close(fd);
  if (tmp_exists)
    (void)unlink(tmp);
  OPENSSL_cleanse(secret, sizeof(secret));
  OPENSSL_cleanse(hex, sizeof(hex));
  return error;
}

/* --------------------------------------------------------------- issue */

/* The shape rr_token_verify() insists on: three canonical segments. */
static bool token_shape_ok(const char *token, size_t len, size_t *dot1, size_t *dot2)
{
  const char *a, *b;

  a = memchr(token, '.', len);
  if (a == NULL)
    return false;
  b = memchr(a + 1, '.', len - (size_t)(a + 1 - token));
  if (b == NULL || memchr(b + 1, '.', len - (size_t)(b + 1 - token)) != NULL)
    return false;
  *dot1 = (size_t)(a - token);
  *dot2 = (size_t)(b - token);
  return true;
}

/* Step 1 of rr_token_verify (and the last check of issuing): the shape,
 * before anything parses the token. Sets *len and the two dot positions;
 * 0 or RR_EINVAL with a message (err may be NULL). */
static int verify_shape(size_t *len, size_t *d1, size_t *d2, const char *token, char *err, size_t errsize)
{
  if (token == NULL || token[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "the token is empty");
  *len = strnlen(token, RR_TOKEN_MAX_BYTES + 1);
  if (*len > RR_TOKEN_MAX_BYTES)
    return rr_fail(err, errsize, RR_EINVAL, "the token is longer than %u bytes", RR_TOKEN_MAX_BYTES);
  if (!token_shape_ok(token, *len, d1, d2))
    return rr_fail(err, errsize, RR_EINVAL, "the token does not have three dot-separated parts");
  if (!b64url_canonical(token, *d1))
    return rr_fail(err, errsize, RR_EINVAL, "the token's header is not canonical base64url");
  if (!b64url_canonical(token + *d1 + 1, *d2 - *d1 - 1))
    return rr_fail(err, errsize, RR_EINVAL, "the token's payload is not canonical base64url");
  if (*len - *d2 - 1 == 0)
    return rr_fail(err, errsize, RR_EINVAL, "the token has no signature (unsigned tokens are refused)");
  if (!b64url_canonical(token + *d2 + 1, *len - *d2 - 1))
    return rr_fail(err, errsize, RR_EINVAL, "the token's signature is not canonical base64url");
  return 0;
}

int rr_token_issue(char **out, const rr_token_keys *keys, const char *issuer, const char *audience,
                   const char *subject, const char *role, int64_t now, int64_t lifetime_seconds,
                   rr_token_claims *claims_out, char *err, size_t errsize)
{
  return rr_token_issue_gen(out, keys, issuer, audience, subject, role, 0, now, lifetime_seconds, claims_out, err,
                            errsize);
}

/* The arguments of rr_token_issue_gen() other than the generation: keys
 * that can sign, names of valid UTF-8 that fit, a time and a lifetime in
 * range. 0 or RR_EINVAL. */
static int issue_args_ok(const rr_token_keys *keys, const char *issuer, const char *audience, const char *subject,
                         const char *role, int64_t now, int64_t lifetime_seconds, char *err, size_t errsize)
{
  const rr_token_claims *c = NULL; /* for the field sizes only */

  if (keys == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no keys to sign the token");
  if (keys->sign_key == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "the %s keys have no private key: they can verify tokens, not issue them",
                   keys->alg_name);
  if (!valid_text(issuer, RR_TOKEN_NAME_MAX) || !valid_text(audience, RR_TOKEN_NAME_MAX))
    return rr_fail(err, errsize, RR_EINVAL, "the issuer and the audience must be 1 to %u bytes of UTF-8",
                   RR_TOKEN_NAME_MAX);
  if (!valid_text(subject, sizeof(c->subject) - 1))
    return rr_fail(err, errsize, RR_EINVAL, "the subject must be 1 to %zu bytes of UTF-8", sizeof(c->subject) - 1);
  if (!valid_text(role, sizeof(c->role) - 1))
    return rr_fail(err, errsize, RR_EINVAL, "the role must be 1 to %zu bytes of UTF-8", sizeof(c->role) - 1);
  if (now < 0 || now > TIME_MAX - LIFETIME_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "the current time is out of range");
  if (lifetime_seconds < 1 || lifetime_seconds > LIFETIME_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "the token lifetime must be 1 to %d seconds", LIFETIME_MAX);
  return 0;
}

/* The claims of a new token: a random jti, the given subject and role
 * (checked by issue_args_ok), iat = nbf = now, exp = now + lifetime, and
 * the generation (0 to 2^31 - 1). 0, RR_ERROR (no randomness) or
 * RR_EINVAL. */
static int new_claims(rr_token_claims *claims, const rr_token_request *rq, char *err, size_t errsize)
{
  const char *subject = rq->subject, *role = rq->role;
  int64_t generation = rq->generation, now = rq->now, lifetime_seconds = rq->lifetime_seconds;
  unsigned char rnd[16];
  int error = 0;

  if (RAND_bytes(rnd, (int)sizeof(rnd)) != 1) {
    error = rr_fail(err, errsize, RR_ERROR, "could not draw random bytes for the token id (RAND_bytes failed)");
    goto out;
  }
  rr_hex_encode(claims->jti, rnd, sizeof(rnd));
  rr_str_copy(claims->subject, sizeof(claims->subject), subject);
  rr_str_copy(claims->role, sizeof(claims->role), role);
  claims->issued_at = claims->not_before = now;
  claims->expires_at = now + lifetime_seconds;
  if (generation < 0 || generation > 2147483647) {
    error = rr_fail(err, errsize, RR_EINVAL, "the token generation is out of range");
    goto out;
  }
  claims->generation = generation;
  if (rq->auth_time < 0 || rq->auth_time > now) {
    error = rr_fail(err, errsize, RR_EINVAL, "the session's start (auth_time) is not a time before now");
    goto out;
  }
  claims->auth_time = rq->auth_time;

out:
  OPENSSL_cleanse(rnd, sizeof(rnd));
  return error;
}

/* Sign the claims (gen only when above 0) with libjwt: *out is a new
 * compact JWS the caller frees (free()). 0, RR_ENOMEM or RR_ERROR. */
static int sign_claims(char **out, const rr_token_keys *keys, const char *issuer, const char *audience,
                       const rr_token_claims *claims, char *err, size_t errsize)
{
  jwt_t *jwt = NULL;
  int rc, error = 0;

  *out = NULL;
  if ((rc = jwt_new(&jwt)) != 0) {
    error = rr_fail(err, errsize, from_errno(rc), "cannot create the token (libjwt: %s)", strerror(rc));
    goto out;
  }
  if ((rc = jwt_set_alg(jwt, keys->alg, keys->sign_key, (int)keys->sign_len)) != 0 ||
      (rc = jwt_add_grant(jwt, "iss", issuer)) != 0 || (rc = jwt_add_grant(jwt, "aud", audience)) != 0 ||
      (rc = jwt_add_grant(jwt, "sub", claims->subject)) != 0 || (rc = jwt_add_grant(jwt, "role", claims->role)) != 0 ||
      (rc = jwt_add_grant(jwt, "jti", claims->jti)) != 0 ||
      (rc = jwt_add_grant_int(jwt, "iat", (long)claims->issued_at)) != 0 ||
      (rc = jwt_add_grant_int(jwt, "nbf", (long)claims->not_before)) != 0 ||
      (rc = jwt_add_grant_int(jwt, "exp", (long)claims->expires_at)) != 0 ||
      (claims->generation > 0 && (rc = jwt_add_grant_int(jwt, "gen", (long)claims->generation)) != 0) ||
      (claims->auth_time > 0 && (rc = jwt_add_grant_int(jwt, "auth_time", (long)claims->auth_time)) != 0)) {
    error = rr_fail(err, errsize, from_errno(rc), "cannot fill the token (libjwt: %s)", strerror(rc));
    goto out;
  }
  errno = 0;
  *out = jwt_encode_str(jwt);
  if (*out == NULL) {
    rc = errno;
    error = rr_fail(err, errsize, from_errno(rc), "cannot sign the token with %s (libjwt: %s)", keys->alg_name,
                    rc != 0 ? strerror(rc) : "unknown error");
    goto out;
  }

out:
  jwt_free(jwt);
  return error;
}

int rr_token_issue_gen(char **out, const rr_token_keys *keys, const char *issuer, const char *audience,
                       const char *subject, const char *role, int64_t generation, int64_t now,
                       int64_t lifetime_seconds, rr_token_claims *claims_out, char *err, size_t errsize)
{
  rr_token_request rq = {subject, role, generation, 0, now, lifetime_seconds};

  return rr_token_issue_request(out, keys, issuer, audience, &rq, claims_out, err, errsize);
}

int rr_token_issue_request(char **out, const rr_token_keys *keys, const char *issuer, const char *audience,
                           const rr_token_request *rq, rr_token_claims *claims_out, char *err, size_t errsize)
{
  rr_token_claims claims;
  char *token = NULL;
  size_t len, d1, d2;
  int error = 0;

  *out = NULL;
  memset(&claims, 0, sizeof(claims));
  if (claims_out != NULL)
    memset(claims_out, 0, sizeof(*claims_out));
  if ((error = issue_args_ok(keys, issuer, audience, rq->subject, rq->role, rq->now, rq->lifetime_seconds, err,
                             errsize)) < 0 ||
      (error = new_claims(&claims, rq, err, errsize)) < 0 ||
      (error = sign_claims(&token, keys, issuer, audience, &claims, err, errsize)) < 0)
    goto out;
  /* Only hand out what rr_token_verify() will accept. */
  if (verify_shape(&len, &d1, &d2, token, NULL, 0) < 0) {
    error = rr_fail(err, errsize, RR_ERROR, "libjwt produced a token that is not compact, canonical JWS");
    goto out;
  }
  *out = token;
  token = NULL;
  if (claims_out != NULL)
    *claims_out = claims;

out:
  free(token);
  return error;
}

/* -------------------------------------------------------------- verify */

/* Quote an algorithm name from a token only when it is short and plain. */
static const char *safe_alg(const char *alg)
{
  size_t i;

  if (alg == NULL || alg[0] == '\0' || strlen(alg) > 16)
    return "(unreadable)";
  for (i = 0; alg[i] != '\0'; i++)
    if (!((alg[i] >= 'A' && alg[i] <= 'Z') || (alg[i] >= 'a' && alg[i] <= 'z') || (alg[i] >= '0' && alg[i] <= '9')))
      return "(unreadable)";
  return alg;
}

static bool audience_ok(json_object *payload, const char *audience)
{
  json_object *aud, *item;
  size_t i, n;

  if (!json_object_object_get_ex(payload, "aud", &aud))
    return false;
  if (json_object_is_type(aud, json_type_string))
    return strcmp(json_object_get_string(aud), audience) == 0 &&
           (size_t)json_object_get_string_len(aud) == strlen(audience);
  if (!json_object_is_type(aud, json_type_array))
    return false;
  n = json_object_array_length(aud);
  for (i = 0; i < n; i++) {
    item = json_object_array_get_idx(aud, i);
    if (json_object_is_type(item, json_type_string) && strcmp(json_object_get_string(item), audience) == 0 &&
        (size_t)json_object_get_string_len(item) == strlen(audience))
      return true;
  }
  return false;
}

/* Step 2 of rr_token_verify: the parsed header pins the algorithm to the
 * keys' one, allows only typ JWT and refuses crit. 0 or RR_EINVAL. */
static int verify_header(json_object *header, const rr_token_keys *keys, char *err, size_t errsize)
{
  json_object *v;
  const char *alg;

  if (!json_object_object_get_ex(header, "alg", &v) || !json_object_is_type(v, json_type_string))
    return rr_fail(err, errsize, RR_EINVAL, "the token's header names no algorithm");
  alg = json_object_get_string(v);
  if (strcmp(alg, keys->alg_name) != 0 || (size_t)json_object_get_string_len(v) != strlen(keys->alg_name))
    return rr_fail(err, errsize, RR_EINVAL, "the token's algorithm %s is not the expected %s", safe_alg(alg),
                   keys->alg_name);
  if (json_object_object_get_ex(header, "typ", &v) &&
      (!json_object_is_type(v, json_type_string) || !rr_str_ieq(json_object_get_string(v), "JWT")))
    return rr_fail(err, errsize, RR_EINVAL, "the token's type is not JWT");
  if (json_object_object_get_ex(header, "crit", &v))
    return rr_fail(err, errsize, RR_EINVAL,
                   "the token's header has critical extensions (crit), which are not supported");
  return 0;
}

/* Step 3 of rr_token_verify: the signature, by libjwt with the pinned key
 * (the header says the same algorithm, checked in step 2, and again here).
 * Frees what libjwt allocates; 0, RR_ENOMEM or RR_EINVAL. */
static int verify_signature(const rr_token_keys *keys, const char *token, char *err, size_t errsize)
{
  jwt_t *jwt = NULL;
  int rc, error = 0;

  rc = jwt_decode(&jwt, token, keys->verify_key, (int)keys->verify_len);
  if (rc != 0 || jwt == NULL)
    error = rc == ENOMEM ? rr_fail(err, errsize, RR_ENOMEM, "out of memory while checking the signature")
                         : rr_fail(err, errsize, RR_EINVAL, "the token's signature does not verify");
  else if (jwt_get_alg(jwt) != keys->alg)
    error = rr_fail(err, errsize, RR_EINVAL, "the token's algorithm is not the expected %s", keys->alg_name);
  jwt_free(jwt);
  return error;
}

/* An optional time claim (nbf, iat): absent leaves *out alone; present, it
 * must be a valid time no later than latest. The two messages name the
 * claim. 0 or RR_EINVAL. */
static int verify_optional_time(int64_t *out, json_object *payload, const char *key, int64_t latest,
                                const char *invalid_msg, const char *late_msg, char *err, size_t errsize)
{
  int found = get_time(out, payload, key);

  if (found < 0)
    return rr_fail(err, errsize, RR_EINVAL, "%s", invalid_msg);
  if (found > 0 && *out > latest)
    return rr_fail(err, errsize, RR_EINVAL, "%s", late_msg);
  return 0;
}

/* Step 4a of rr_token_verify: exp (required, not past), nbf and iat
 * (optional, not in the future), each with the leeway. 0 or RR_EINVAL. */
static int verify_times(rr_token_claims *c, json_object *payload, int64_t now, int64_t leeway_seconds,
                        unsigned flags, char *err, size_t errsize)
{
  int error;

  if (get_time(&c->expires_at, payload, "exp") <= 0)
    return rr_fail(err, errsize, RR_EINVAL, "the token has no valid expiry time (exp)");
  if (!(flags & RR_TOKEN_ALLOW_EXPIRED) && c->expires_at <= now - leeway_seconds)
    return rr_fail(err, errsize, RR_EINVAL, "the token has expired");
  if ((error = verify_optional_time(&c->not_before, payload, "nbf", now + leeway_seconds,
                                    "the token's not-before time (nbf) is not a valid time",
                                    "the token is not valid yet (nbf)", err, errsize)) < 0 ||
      (error = verify_optional_time(&c->issued_at, payload, "iat", now + leeway_seconds,
                                    "the token's issue time (iat) is not a valid time",
                                    "the token was issued in the future (iat)", err, errsize)) < 0)
    return error;
  return verify_optional_time(&c->auth_time, payload, "auth_time",
                              c->issued_at != 0 ? c->issued_at : now + leeway_seconds,
                              "the token's session start (auth_time) is not a valid time",
                              "the token's session start (auth_time) is after its issue", err, errsize);
}

/* Step 4b of rr_token_verify: iss and aud as expected; sub, role, jti
 * present and short enough (copied into *c); gen optional (absent = 0).
 * 0 or RR_EINVAL. */
static int verify_identity(rr_token_claims *c, json_object *payload, const char *issuer, const char *audience,
                           char *err, size_t errsize)
{
  const char *s, *sub, *role, *jti;
  json_object *g;

  s = get_str(payload, "iss", RR_TOKEN_NAME_MAX);
  if (s == NULL || strcmp(s, issuer) != 0)
    return rr_fail(err, errsize, RR_EINVAL, "the token's issuer (iss) is not the expected one");
  if (!audience_ok(payload, audience))
    return rr_fail(err, errsize, RR_EINVAL, "the token's audience (aud) does not include the expected one");
  if ((sub = get_str(payload, "sub", sizeof(c->subject) - 1)) == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "the token's subject (sub) is missing, empty or longer than %zu bytes",
                   sizeof(c->subject) - 1);
  if ((role = get_str(payload, "role", sizeof(c->role) - 1)) == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "the token's role is missing, empty or longer than %zu bytes",
                   sizeof(c->role) - 1);
  if ((jti = get_str(payload, "jti", sizeof(c->jti) - 1)) == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "the token's id (jti) is missing, empty or longer than %zu bytes",
                   sizeof(c->jti) - 1);
  if (json_object_object_get_ex(payload, "gen", &g)) {
    if (!json_object_is_type(g, json_type_int) || json_object_get_int64(g) < 0 ||
        json_object_get_int64(g) > 2147483647)
      return rr_fail(err, errsize, RR_EINVAL, "the token's generation (gen) is not a small whole number");
    c->generation = json_object_get_int64(g);
  }
  rr_str_copy(c->subject, sizeof(c->subject), sub);
  rr_str_copy(c->role, sizeof(c->role), role);
  rr_str_copy(c->jti, sizeof(c->jti), jti);
  return 0;
}

int rr_token_verify(rr_token_claims *out, const rr_token_keys *keys, const char *token, const char *issuer,
                    const char *audience, int64_t now, int64_t leeway_seconds, char *err, size_t errsize)
{
  return rr_token_verify_flags(out, keys, token, issuer, audience, now, leeway_seconds, 0, err, errsize);
}

int rr_token_verify_flags(rr_token_claims *out, const rr_token_keys *keys, const char *token, const char *issuer,
                          const char *audience, int64_t now, int64_t leeway_seconds, unsigned flags, char *err,
                          size_t errsize)
{
  unsigned char *header_text = NULL, *payload_text = NULL;
  json_object *header = NULL, *payload = NULL;
  size_t len, d1 = 0, d2 = 0, hlen, plen;
  rr_token_claims c;
  int error = 0;

  memset(out, 0, sizeof(*out));
  memset(&c, 0, sizeof(c));
  if (keys == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no keys to verify the token");
  if (!valid_text(issuer, RR_TOKEN_NAME_MAX) || !valid_text(audience, RR_TOKEN_NAME_MAX))
    return rr_fail(err, errsize, RR_EINVAL, "the expected issuer and audience must be 1 to %u bytes of UTF-8",
                   RR_TOKEN_NAME_MAX);
  if (now < 0 || now > TIME_MAX || leeway_seconds < 0 || leeway_seconds > LEEWAY_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "the time or the leeway (0 to %d seconds) is out of range", LEEWAY_MAX);

  /* 1. Shape, before anything parses it. */
  if ((error = verify_shape(&len, &d1, &d2, token, err, errsize)) < 0)
    return error;

  /* 2. Header: pin the algorithm. */
  if ((error = b64url_decode(&header_text, &hlen, token, d1)) < 0 ||
      (error = b64url_decode(&payload_text, &plen, token + d1 + 1, d2 - d1 - 1)) < 0) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  if ((header = parse_object(header_text, hlen)) == NULL) {
    error = rr_fail(err, errsize, RR_EINVAL, "the token's header is not a JSON object");
    goto out;
  }
  if ((error = verify_header(header, keys, err, errsize)) < 0)
    goto out;
  if ((payload = parse_object(payload_text, plen)) == NULL) {
    error = rr_fail(err, errsize, RR_EINVAL, "the token's payload is not a JSON object");
    goto out;
  }

  /* 3. Signature; 4. claims. */
  if ((error = verify_signature(keys, token, err, errsize)) < 0 ||
      (error = verify_times(&c, payload, now, leeway_seconds, flags, err, errsize)) < 0 ||
      (error = verify_identity(&c, payload, issuer, audience, err, errsize)) < 0)
    goto out;
  *out = c;

out:
  json_object_put(header);
  json_object_put(payload);
  free(header_text);
  free(payload_text);
  return error;
}

void rr_token_hash(char out[65], const char *token)
{
  if (token == NULL)
    token = "";
  if (rr_sha256_hex(out, token, strlen(token)) != 0)
    out[0] = '\0';
}
