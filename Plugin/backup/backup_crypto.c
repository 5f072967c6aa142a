/*
 * backup_crypto.c - AES-256-GCM envelopes and key loading (contract in
 * backup_crypto.h).
 */
#include "backup_crypto.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "../util/base64.h"
#include "../util/errors.h"

#define KEY_FILE_MAX 4096

void rr_backup_key_wipe(void *key, size_t len)
{
  if (key != NULL && len > 0)
    OPENSSL_cleanse(key, len);
}

int rr_backup_key_generate(uint8_t key[32], char *err, size_t errsize)
{
  if (RAND_bytes(key, RR_BACKUP_KEY_LEN) != 1)
    return rr_fail(err, errsize, RR_ERROR, "the random generator failed to make a backup key");
  return 0;
}

/* Start an AES-256-GCM context with key and nonce, feed the aad. */
static int gcm_begin(EVP_CIPHER_CTX **out, bool encrypt, const uint8_t *key, const uint8_t *nonce, const char *aad)
{
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n = 0;
  int ok;

  if (ctx == NULL)
    return RR_ENOMEM;
  ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt ? 1 : 0) == 1 &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, RR_BACKUP_NONCE_LEN, NULL) == 1 &&
       EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, encrypt ? 1 : 0) == 1;
  if (ok && aad[0] != '\0')
    ok = strlen(aad) <= INT_MAX && EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1;
  if (!ok) {
    EVP_CIPHER_CTX_free(ctx);
    return RR_ERROR;
  }
  *out = ctx;
  return 0;
}

int rr_backup_seal(rr_buf *out, const uint8_t key[32], const void *plain, size_t len, const char *aad, char *err,
                   size_t errsize)
{
  EVP_CIPHER_CTX *ctx = NULL;
  uint8_t *env = NULL;
  size_t start = out->len, total;
  int n = 0, fin = 0, rc = RR_ERROR;

  if (key == NULL || aad == NULL || (plain == NULL && len > 0))
    return rr_fail(err, errsize, RR_EINVAL, "sealing a backup object needs a key, an object key and data");
  if (len > (size_t)INT_MAX - 64)
    return rr_fail(err, errsize, RR_EINVAL, "a backup object is limited to 2 GB");
  total = len + RR_BACKUP_SEAL_OVERHEAD;
  if (out->max - out->len < total)
    return rr_fail(err, errsize, RR_EFULL, "the sealed backup object is larger than the buffer allows");
  if ((env = malloc(total)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory while sealing a backup object");
  memcpy(env, RR_BACKUP_MAGIC, RR_BACKUP_MAGIC_LEN);
  if (RAND_bytes(env + RR_BACKUP_MAGIC_LEN, RR_BACKUP_NONCE_LEN) != 1)
    goto out;
  if ((rc = gcm_begin(&ctx, true, key, env + RR_BACKUP_MAGIC_LEN, aad)) != 0)
    goto out;
  rc = RR_ERROR;
  if (len > 0 && EVP_EncryptUpdate(ctx, env + RR_BACKUP_MAGIC_LEN + RR_BACKUP_NONCE_LEN, &n, plain, (int)len) != 1)
    goto out;
  if (EVP_EncryptFinal_ex(ctx, env + RR_BACKUP_MAGIC_LEN + RR_BACKUP_NONCE_LEN + n, &fin) != 1 ||
      (size_t)n + (size_t)fin != len)
    goto out;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, RR_BACKUP_TAG_LEN, env + total - RR_BACKUP_TAG_LEN) != 1)
    goto out;
  rc = rr_buf_append(out, env, total);
out:
  EVP_CIPHER_CTX_free(ctx);
  free(env);
  if (rc == 0)
    return 0;
  out->len = start;
  if (rc == RR_EFULL)
    return rr_fail(err, errsize, rc, "the sealed backup object is larger than the buffer allows");
  if (rc == RR_ENOMEM)
    return rr_fail(err, errsize, rc, "out of memory while sealing a backup object");
  return rr_fail(err, errsize, rc, "OpenSSL failed to seal a backup object");
}

int rr_backup_unseal(rr_buf *out, const uint8_t key[32], const void *sealed, size_t len, const char *aad, char *err,
                     size_t errsize)
{
  const uint8_t *p = sealed;
  EVP_CIPHER_CTX *ctx = NULL;
  uint8_t *plain = NULL;
  uint8_t tag[RR_BACKUP_TAG_LEN];
  size_t clen;
  int n = 0, fin = 0, rc = RR_ERROR;

  if (key == NULL || aad == NULL || sealed == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "opening a backup object needs a key, an object key and data");
  if (len < RR_BACKUP_SEAL_OVERHEAD || memcmp(p, RR_BACKUP_MAGIC, RR_BACKUP_MAGIC_LEN) != 0)
    return rr_fail(err, errsize, RR_EINVAL, "the object is not a Reading Room backup envelope (RRB1)");
  clen = len - RR_BACKUP_SEAL_OVERHEAD;
  if (clen > (size_t)INT_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "a backup object is limited to 2 GB");
  if (out->max - out->len < clen)
    return rr_fail(err, errsize, RR_EFULL, "the backup object is larger than the buffer allows");
  if ((plain = malloc(clen + 1)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory while opening a backup object");
  memcpy(tag, p + len - RR_BACKUP_TAG_LEN, sizeof(tag));
  if ((rc = gcm_begin(&ctx, false, key, p + RR_BACKUP_MAGIC_LEN, aad)) != 0)
    goto out;
  rc = RR_ERROR;
  if (clen > 0 &&
      EVP_DecryptUpdate(ctx, plain, &n, p + RR_BACKUP_MAGIC_LEN + RR_BACKUP_NONCE_LEN, (int)clen) != 1)
    goto out;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, RR_BACKUP_TAG_LEN, tag) != 1)
    goto out;
  if (EVP_DecryptFinal_ex(ctx, plain + n, &fin) != 1) {
    rc = RR_EINVAL; /* the tag does not match: nothing of the plaintext is used */
    goto out;
  }
  rc = rr_buf_append(out, plain, (size_t)n + (size_t)fin);
out:
  EVP_CIPHER_CTX_free(ctx);
  OPENSSL_cleanse(plain, clen + 1);
  free(plain);
  if (rc == 0)
    return 0;
  if (rc == RR_EINVAL)
    return rr_fail(err, errsize, rc,
                   "the backup object does not authenticate: it was altered, belongs to another object key, "
                   "or was sealed with another key");
  if (rc == RR_ENOMEM)
    return rr_fail(err, errsize, rc, "out of memory while opening a backup object");
  if (rc == RR_EFULL)
    return rr_fail(err, errsize, rc, "the backup object is larger than the buffer allows");
  return rr_fail(err, errsize, rc, "OpenSSL failed to open a backup object");
}

/* Decode base64 text (surrounding white space allowed) into exactly 32 bytes. */
static int key_from_base64(uint8_t key[32], const char *text, size_t len)
{
  rr_buf b;
  int rc;

  while (len > 0 && isspace((unsigned char)text[0])) {
    text++;
    len--;
  }
  while (len > 0 && isspace((unsigned char)text[len - 1]))
    len--;
  rr_buf_init(&b, 64);
  rc = rr_base64_decode(&b, text, len);
  if (rc == 0 && b.len != RR_BACKUP_KEY_LEN)
    rc = RR_EINVAL;
  if (rc == 0)
    memcpy(key, b.ptr, RR_BACKUP_KEY_LEN);
  if (b.ptr != NULL)
    OPENSSL_cleanse(b.ptr, b.cap);
  rr_buf_dispose(&b);
  return rc == 0 ? 0 : RR_EINVAL;
}

static int key_from_file(uint8_t key[32], const char *path, char *err, size_t errsize)
{
  char text[KEY_FILE_MAX];
  struct stat st;
  ssize_t got;
  size_t len = 0;
  int fd, rc;

  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return rr_fail(err, errsize, RR_EINVAL, "the backup key file %s cannot be read: %s", path, strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return rr_fail(err, errsize, RR_EINVAL, "the backup key file %s is not a regular file", path);
  }
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    close(fd);
    return rr_fail(err, errsize, RR_EINVAL,
                   "the backup key file %s is readable or writable by every user of the machine; "
                   "restrict it (chmod 600 %s, owned by the user running Orthanc) and start again",
                   path, path);
  }
  while (len < sizeof(text) && (got = read(fd, text + len, sizeof(text) - len)) != 0) {
    if (got < 0) {
      if (errno == EINTR)
        continue;
      rc = errno;
      close(fd);
      OPENSSL_cleanse(text, sizeof(text));
      return rr_fail(err, errsize, RR_EINVAL, "the backup key file %s cannot be read: %s", path, strerror(rc));
    }
    len += (size_t)got;
  }
  close(fd);
  if (len == RR_BACKUP_KEY_LEN) {
    memcpy(key, text, RR_BACKUP_KEY_LEN);
    rc = 0;
  } else {
    rc = len < sizeof(text) ? key_from_base64(key, text, len) : RR_EINVAL;
  }
  OPENSSL_cleanse(text, sizeof(text));
  if (rc != 0)
    return rr_fail(err, errsize, RR_EINVAL,
                   "the backup key file %s holds neither 32 raw bytes nor the base64 text of 32 bytes "
                   "(make one with: openssl rand 32 > FILE)",
                   path);
  return 0;
}

int rr_backup_key_load(uint8_t key[32], const char *key_base64, const char *key_file, char *err, size_t errsize)
{
  if (key_base64 != NULL && key_base64[0] != '\0') {
    if (key_from_base64(key, key_base64, strlen(key_base64)) != 0)
      return rr_fail(err, errsize, RR_EINVAL,
                     "ReadingRoom.Backup.Key is not the base64 text of 32 bytes (make one with: openssl rand -base64 32)");
    return 0;
  }
  if (key_file != NULL && key_file[0] != '\0')
    return key_from_file(key, key_file, err, errsize);
  return rr_fail(err, errsize, RR_EINVAL,
                 "backup needs an encryption key: set ReadingRoom.Backup.KeyFile (a file of 32 bytes, chmod 600) "
                 "or ReadingRoom.Backup.Key (base64 of 32 bytes)");
}
