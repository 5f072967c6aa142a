/*
 * backup_target_tool.c - drives the real backup targets (backup_s3.c,
 * backup_cloudinary.c, libcurl) from the command line, for
 * Tests/integration/backup-targets.test.mjs against the stand-ins in
 * Tests/lib (not a test itself; also handy by hand against a real bucket).
 *
 *   rr_backup_target_tool COMMAND ARGS...   options from the environment:
 *     RR_BT_TARGET=s3|cloudinary
 *     S3:          RR_BT_ENDPOINT RR_BT_REGION RR_BT_BUCKET RR_BT_ACCESS_KEY_ID
 *                  RR_BT_SECRET (or RR_BT_SECRET_ENV: the variable's name) RR_BT_PREFIX
 *                  RR_BT_PATH_STYLE=1 RR_BT_CA_BUNDLE RR_BT_TIMEOUT
 *     Cloudinary:  RR_BT_API_BASE RR_BT_CLOUD RR_BT_API_KEY RR_BT_SECRET (or RR_BT_SECRET_ENV)
 *                  RR_BT_FOLDER RR_BT_SHA256=1 RR_BT_CA_BUNDLE RR_BT_TIMEOUT
 *   commands:
 *     put KEY FILE                 store FILE's bytes under KEY
 *     get KEY FILE                 write the object to FILE
 *     exists KEY                   prints "yes" or "no"
 *     list PREFIX                  one key per line
 *     seal-put KEYFILE KEY FILE    seal FILE (aad KEY) with the key in KEYFILE, then put
 *     get-unseal KEYFILE KEY FILE  get, unseal, write the plaintext to FILE
 * Exit status: 0 done, 2 no such object, 1 any other failure (the sentence on
 * stderr, prefixed "error: ").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup_cloudinary.h"
#include "backup/backup_crypto.h"
#include "backup/backup_s3.h"
#include "backup/backup_target.h"
#include "util/errors.h"

#define OBJECT_MAX (512u * 1024 * 1024)

static const char *env(const char *name)
{
  const char *v = getenv(name);
  return v != NULL ? v : "";
}

static int open_target(rr_backup_target **t, char *err, size_t errsize)
{
  int timeout = atoi(env("RR_BT_TIMEOUT"));

  if (strcmp(env("RR_BT_TARGET"), "s3") == 0) {
    rr_backup_s3_options o = {env("RR_BT_ENDPOINT"), env("RR_BT_REGION"), env("RR_BT_BUCKET"),
                              env("RR_BT_ACCESS_KEY_ID"), env("RR_BT_SECRET"), env("RR_BT_SECRET_ENV"),
                              env("RR_BT_PREFIX"), strcmp(env("RR_BT_PATH_STYLE"), "1") == 0,
                              env("RR_BT_CA_BUNDLE"), timeout};
    return rr_backup_s3_new(t, &o, err, errsize);
  }
  if (strcmp(env("RR_BT_TARGET"), "cloudinary") == 0) {
    rr_backup_cloudinary_options o = {env("RR_BT_API_BASE"), env("RR_BT_CLOUD"), env("RR_BT_API_KEY"),
                                      env("RR_BT_SECRET"), env("RR_BT_SECRET_ENV"), env("RR_BT_FOLDER"),
                                      strcmp(env("RR_BT_SHA256"), "1") == 0, env("RR_BT_CA_BUNDLE"), timeout};
    return rr_backup_cloudinary_new(t, &o, err, errsize);
  }
  return rr_fail(err, errsize, RR_EINVAL, "RR_BT_TARGET must be s3 or cloudinary");
}

static int read_file(rr_buf *out, const char *path, char *err, size_t errsize)
{
  char chunk[65536];
  size_t n;
  int rc = 0;
  FILE *f = fopen(path, "rb");

  if (f == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "cannot open %s", path);
  while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    rc = rr_buf_append(out, chunk, n);
  fclose(f);
  return rc == 0 ? 0 : rr_fail(err, errsize, rc, "cannot read %s", path);
}

static int write_file(const char *path, const rr_buf *b, char *err, size_t errsize)
{
  FILE *f = fopen(path, "wb");
  int ok;

  if (f == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "cannot create %s", path);
  ok = b->len == 0 || fwrite(b->ptr, 1, b->len, f) == b->len;
  ok = fclose(f) == 0 && ok;
  return ok ? 0 : rr_fail(err, errsize, RR_ERROR, "cannot write %s", path);
}

/* The sealing commands: key from a key file, the object key as aad. */
static int sealed(rr_backup_target *t, bool put, const char *keyfile, const char *key, const char *file, char *err,
                  size_t errsize)
{
  uint8_t k[32];
  rr_buf a, b;
  int rc;

  rr_buf_init(&a, OBJECT_MAX);
  rr_buf_init(&b, OBJECT_MAX);
  rc = rr_backup_key_load(k, NULL, keyfile, err, errsize);
  if (rc == 0 && put) {
    rc = read_file(&a, file, err, errsize);
    if (rc == 0)
      rc = rr_backup_seal(&b, k, a.ptr, a.len, key, err, errsize);
    if (rc == 0)
      rc = rr_backup_target_put(t, key, b.ptr, b.len, err, errsize);
  } else if (rc == 0) {
    rc = rr_backup_target_get(t, &a, key, err, errsize);
    if (rc == 0)
      rc = rr_backup_unseal(&b, k, a.ptr, a.len, key, err, errsize);
    if (rc == 0)
      rc = write_file(file, &b, err, errsize);
  }
  rr_backup_key_wipe(k, sizeof(k));
  rr_buf_dispose(&a);
  rr_buf_dispose(&b);
  return rc;
}

static int run(rr_backup_target *t, int argc, char **argv, char *err, size_t errsize)
{
  const char *cmd = argv[1];
  rr_buf b;
  int rc = RR_EINVAL;

  rr_buf_init(&b, OBJECT_MAX);
  if (strcmp(cmd, "put") == 0 && argc == 4) {
    rc = read_file(&b, argv[3], err, errsize);
    if (rc == 0)
      rc = rr_backup_target_put(t, argv[2], b.ptr, b.len, err, errsize);
  } else if (strcmp(cmd, "get") == 0 && argc == 4) {
    rc = rr_backup_target_get(t, &b, argv[2], err, errsize);
    if (rc == 0)
      rc = write_file(argv[3], &b, err, errsize);
  } else if (strcmp(cmd, "exists") == 0 && argc == 3) {
    bool yes = false;
    rc = rr_backup_target_exists(t, &yes, argv[2], err, errsize);
    if (rc == 0)
      printf("%s\n", yes ? "yes" : "no");
  } else if (strcmp(cmd, "list") == 0 && argc == 3) {
    rr_backup_keys *keys = NULL;
    size_t i;
    rc = rr_backup_target_list(t, &keys, argv[2], err, errsize);
    for (i = 0; rc == 0 && i < keys->count; i++)
      printf("%s\n", keys->items[i]);
    rr_backup_keys_free(keys);
  } else if ((strcmp(cmd, "seal-put") == 0 || strcmp(cmd, "get-unseal") == 0) && argc == 5) {
    rc = sealed(t, strcmp(cmd, "seal-put") == 0, argv[2], argv[3], argv[4], err, errsize);
  } else {
    rc = rr_fail(err, errsize, RR_EINVAL, "unknown command or wrong number of arguments (see the file's comment)");
  }
  rr_buf_dispose(&b);
  return rc;
}

int main(int argc, char **argv)
{
  rr_backup_target *t = NULL;
  char err[1024] = "";
  int rc;

  if (argc < 2) {
    fprintf(stderr, "usage: %s put|get|exists|list|seal-put|get-unseal ARGS (see the source)\n", argv[0]);
    return 1;
  }
  rc = open_target(&t, err, sizeof(err));
  if (rc == 0)
    rc = run(t, argc, argv, err, sizeof(err));
  rr_backup_target_free(t);
  if (rc != 0)
    fprintf(stderr, "error: %s\n", err);
  return rc == 0 ? 0 : rc == RR_ENOTFOUND ? 2 : 1;
}
