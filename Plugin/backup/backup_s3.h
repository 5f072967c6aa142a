/*
 * backup_s3.h - an S3-compatible backup target (AWS S3, MinIO, Ceph RGW, Wasabi).
 *
 * Requests are signed with AWS Signature Version 4 by libcurl
 * (CURLOPT_AWS_SIGV4 "aws:amz:<region>:s3") with x-amz-content-sha256 set to
 * the payload's SHA-256. Operations: PUT object, GET object, HEAD object,
 * ListObjectsV2 (list-type=2, prefix, continuation-token).
 *
 * Options (ReadingRoom.Backup.S3.*; strings are copied by rr_backup_s3_new):
 *  endpoint    "https://s3.eu-west-1.amazonaws.com" or "http://127.0.0.1:9000";
 *              scheme required, no path, no query.
 *  region      e.g. "eu-west-1" ("us-east-1" when NULL/empty).
 *  bucket      required; DNS-compatible name when path_style is false.
 *  access_key_id, secret_access_key: required; when secret_access_key is
 *              NULL/empty, the environment variable named by
 *              secret_access_key_env is read at creation time.
 *  prefix      prepended to every object key ("" or e.g. "site-a/"); list
 *              results have it removed again.
 *  path_style  true: <endpoint>/<bucket>/<key> (MinIO, Ceph); false:
 *              virtual-host <scheme>://<bucket>.<host>/<key> (AWS).
 *  ca_bundle   optional PEM file for TLS verification (system store otherwise);
 *              verification is never disabled.
 *  timeout_seconds  whole-request timeout (default 60 when 0); connect timeout
 *              is min(timeout, 15 s).
 *
 * Errors from rr_backup_s3_new: RR_EINVAL with a sentence naming the option.
 * The target follows backup_target.h (one thread at a time). The secret is
 * kept in memory only and never written to err or the log.
 */
#ifndef RR_BACKUP_S3_H
#define RR_BACKUP_S3_H

#include <stdbool.h>

#include "backup_target.h"

typedef struct rr_backup_s3_options {
  const char *endpoint;
  const char *region;
  const char *bucket;
  const char *access_key_id;
  const char *secret_access_key;
  const char *secret_access_key_env;
  const char *prefix;
  bool path_style;
  const char *ca_bundle;
  int timeout_seconds;
} rr_backup_s3_options;

int rr_backup_s3_new(rr_backup_target **out, const rr_backup_s3_options *o, char *err, size_t errsize);

/* Exposed for unit tests. Percent-encode per SigV4 (RFC 3986 unreserved kept;
 * '/' kept when keep_slash). Appends to out. */
int rr_backup_s3_uri_encode(rr_buf *out, const char *s, bool keep_slash);
/* Parse one ListObjectsV2 answer: appends each <Key> (entity-decoded) to keys,
 * sets *truncated and copies <NextContinuationToken> into token (RR_EINVAL
 * when the XML is not a ListBucketResult). */
int rr_backup_s3_parse_list(rr_backup_keys *keys, bool *truncated, rr_buf *token, const char *xml, size_t len,
                            char *err, size_t errsize);
/* Turn an S3 XML error body into "Code: Message" (entity-decoded, bounded). */
void rr_backup_s3_error_sentence(char *out, size_t size, const char *xml, size_t len);

#endif
