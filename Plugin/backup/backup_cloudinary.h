/*
 * backup_cloudinary.h - a Cloudinary backup target (raw resources, type
 * "authenticated", so objects are never publicly deliverable).
 *
 *  put:    POST {api_base}/v1_1/{cloud}/raw/upload (multipart: file, public_id,
 *          timestamp, type=authenticated, overwrite=true, api_key, signature).
 *          signature = hex(SHA-1 or SHA-256 of "k1=v1&k2=v2...<api_secret>")
 *          over the signed parameters sorted by name (file, api_key,
 *          resource_type, cloud_name excluded), as Cloudinary documents.
 *  exists: GET {api_base}/v1_1/{cloud}/resources/raw/authenticated/{public_id}
 *          (Admin API, HTTP basic auth api_key:api_secret); 404 = absent.
 *  list:   GET {api_base}/v1_1/{cloud}/resources/raw/authenticated?prefix=...
 *          &max_results=500&next_cursor=... (Admin API), following next_cursor.
 *  get:    GET {api_base}/v1_1/{cloud}/raw/download?public_id=...&type=
 *          authenticated&timestamp=...&api_key=...&signature=... (the signed
 *          private-download URL of the Upload API).
 * The object key becomes public_id "{folder}/{key}" (folder "" = none); raw
 * public_ids keep their extension, so keys are used unchanged.
 *
 * Options (ReadingRoom.Backup.Cloudinary.*; copied by rr_backup_cloudinary_new):
 *  api_base    default "https://api.cloudinary.com"; scheme required.
 *  cloud_name, api_key: required.
 *  api_secret  or, when NULL/empty, the environment variable named api_secret_env.
 *  folder      optional prefix folder, without leading/trailing '/'.
 *  signature_sha256  sign with SHA-256 instead of SHA-1 (the account's
 *              "signature algorithm" setting must match).
 *  ca_bundle, timeout_seconds: as for S3.
 *
 * Errors from rr_backup_cloudinary_new: RR_EINVAL with a sentence naming the
 * option. The target follows backup_target.h (one thread at a time). The
 * secret never reaches err or the log.
 */
#ifndef RR_BACKUP_CLOUDINARY_H
#define RR_BACKUP_CLOUDINARY_H

#include <stdbool.h>
#include <stdint.h>

#include "backup_target.h"

typedef struct rr_backup_cloudinary_options {
  const char *api_base;
  const char *cloud_name;
  const char *api_key;
  const char *api_secret;
  const char *api_secret_env;
  const char *folder;
  bool signature_sha256;
  const char *ca_bundle;
  int timeout_seconds;
} rr_backup_cloudinary_options;

int rr_backup_cloudinary_new(rr_backup_target **out, const rr_backup_cloudinary_options *o, char *err,
                             size_t errsize);

/* Exposed for unit tests: the signature of the parameters (names and values,
 * n pairs, in any order; excluded names are skipped) with the secret, as
 * lowercase hex into out (41 bytes for SHA-1, 65 for SHA-256). */
int rr_backup_cloudinary_sign(char *out, size_t outsize, const char *const *names, const char *const *values,
                              size_t n, const char *api_secret, bool sha256);

#endif
