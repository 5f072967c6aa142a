/*
 * backup_object.c - backup object names and content (contract in
 * backup_object.h).
 */
#include "backup/backup_object.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backup/backup_crypto.h"
#include "util/errors.h"
#include "util/str.h"

int rr_backup_object_key(char *out, size_t size, const char *study_uid, const char *sop_uid)
{
  int n;

  if (!rr_uid_valid(study_uid) || !rr_uid_valid(sop_uid))
    return RR_EINVAL;
  n = snprintf(out, size, "studies/%s/%s.rrb", study_uid, sop_uid);
  return n < 0 || (size_t)n >= size ? RR_EFULL : 0;
}

int rr_backup_day_key(char *out, size_t size, const char *day, const char *study_uid)
{
  int n;

  if (!rr_uid_valid(study_uid) || day == NULL || strlen(day) != 10)
    return RR_EINVAL;
  n = snprintf(out, size, "days/%s/%s", day, study_uid);
  return n < 0 || (size_t)n >= size ? RR_EFULL : 0;
}

void rr_backup_day_of(char out[11], int64_t unix_ms)
{
  time_t t = (time_t)(unix_ms / 1000);
  struct tm tm;

  gmtime_r(&t, &tm);
  if (strftime(out, 11, "%Y-%m-%d", &tm) != 10)
    rr_str_copy(out, 11, "1970-01-01");
}

int rr_backup_object_seal(rr_buf *out, char sha256_hex[65], const uint8_t key[32], const char *object_key,
                          const void *dicom, size_t len, char *err, size_t errsize)
{
  unsigned char header[RR_BACKUP_OBJECT_HEADER], digest[32];
  rr_buf plain;
  uint64_t n = len;
  int i, error;

  SHA256(dicom, len, digest);
  rr_hex_encode(sha256_hex, digest, sizeof(digest));
  memcpy(header, RR_BACKUP_OBJECT_MAGIC, 4);
  header[4] = 1;
  memcpy(header + 5, digest, 32);
  for (i = 0; i < 8; i++)
    header[37 + i] = (unsigned char)(n >> (56 - 8 * i));
  rr_buf_init(&plain, len + sizeof(header));
  if ((error = rr_buf_append(&plain, header, sizeof(header))) < 0 || (error = rr_buf_append(&plain, dicom, len)) < 0)
    error = rr_fail(err, errsize, error, "out of memory sealing a backup object");
  else
    error = rr_backup_seal(out, key, plain.ptr, plain.len, object_key, err, errsize);
  rr_backup_key_wipe(plain.ptr, plain.len);
  rr_buf_dispose(&plain);
  return error;
}

int rr_backup_object_open(rr_buf *out, char sha256_hex[65], const uint8_t key[32], const char *object_key,
                          const void *sealed, size_t len, char *err, size_t errsize)
{
  const unsigned char *p;
  unsigned char digest[32];
  uint64_t n = 0;
  rr_buf plain;
  int i, error;

  rr_buf_init(&plain, len);
  if ((error = rr_backup_unseal(&plain, key, sealed, len, object_key, err, errsize)) < 0)
    goto out;
  p = (const unsigned char *)plain.ptr;
  if (plain.len < RR_BACKUP_OBJECT_HEADER || memcmp(p, RR_BACKUP_OBJECT_MAGIC, 4) != 0 || p[4] != 1) {
    error = rr_fail(err, errsize, RR_EINVAL, "%s opens but is not a Reading Room backup object", object_key);
    goto out;
  }
  for (i = 0; i < 8; i++)
    n = (n << 8) | p[37 + i];
  if (n != plain.len - RR_BACKUP_OBJECT_HEADER) {
    error = rr_fail(err, errsize, RR_EINVAL, "%s: the file's length does not match its header", object_key);
    goto out;
  }
  SHA256(p + RR_BACKUP_OBJECT_HEADER, (size_t)n, digest);
  if (memcmp(digest, p + 5, 32) != 0) {
    error = rr_fail(err, errsize, RR_EINVAL, "%s: the file's SHA-256 does not match the one recorded when copied",
                    object_key);
    goto out;
  }
  rr_hex_encode(sha256_hex, digest, sizeof(digest));
  if ((error = rr_buf_append(out, p + RR_BACKUP_OBJECT_HEADER, (size_t)n)) < 0)
    error = rr_fail(err, errsize, error, "out of memory opening a backup object");
out:
  if (plain.ptr != NULL)
    rr_backup_key_wipe(plain.ptr, plain.len);
  rr_buf_dispose(&plain);
  return error;
}
