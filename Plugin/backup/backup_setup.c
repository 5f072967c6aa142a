/*
 * backup_setup.c - the off-site backup from the configuration (contract in
 * backup_setup.h).
 */
#include "backup/backup_setup.h"

#include <stdlib.h>
#include <string.h>

#include "backup/backup_cloudinary.h"
#include "backup/backup_crypto.h"
#include "backup/backup_s3.h"
#include "util/errors.h"
#include "util/log.h"

static const char *opt(const char *s)
{
  return s != NULL && s[0] != '\0' ? s : NULL;
}

static int make_s3(void *ctx, rr_backup_target **out, char *err, size_t errsize)
{
  const rr_config *c = ctx;
  rr_backup_s3_options o;

  memset(&o, 0, sizeof(o));
  o.endpoint = c->backup_s3_endpoint;
  o.region = c->backup_s3_region;
  o.bucket = c->backup_s3_bucket;
  o.access_key_id = c->backup_s3_access_key_id;
  o.secret_access_key = opt(c->backup_s3_secret);
  o.secret_access_key_env = opt(c->backup_s3_secret_env);
  o.prefix = c->backup_s3_prefix;
  o.path_style = c->backup_s3_path_style;
  o.ca_bundle = opt(c->backup_s3_ca_bundle);
  o.timeout_seconds = (int)c->backup_s3_timeout_s;
  return rr_backup_s3_new(out, &o, err, errsize);
}

static int make_cloudinary(void *ctx, rr_backup_target **out, char *err, size_t errsize)
{
  const rr_config *c = ctx;
  rr_backup_cloudinary_options o;

  memset(&o, 0, sizeof(o));
  o.api_base = c->backup_cl_api_base;
  o.cloud_name = c->backup_cl_cloud_name;
  o.api_key = c->backup_cl_api_key;
  o.api_secret = opt(c->backup_cl_api_secret);
  o.api_secret_env = opt(c->backup_cl_api_secret_env);
  o.folder = c->backup_cl_folder;
  o.signature_sha256 = c->backup_cl_sha256;
  o.timeout_seconds = (int)c->backup_cl_timeout_s;
  return rr_backup_cloudinary_new(out, &o, err, errsize);
}

int rr_backup_setup(rr_backup_queue **out, const rr_config *c, rr_store *store, rr_rest_source source,
                    rr_rest_poster poster, char *err, size_t errsize)
{
  rr_backup_queue_options o;
  rr_backup_target *probe = NULL;
  const char *key_b64 = c->backup_key;
  int error;

  *out = NULL;
  if (!c->backup_enabled)
    return 0;
  memset(&o, 0, sizeof(o));
  if (key_b64[0] == '\0' && c->backup_key_file[0] == '\0' && c->backup_key_env[0] != '\0')
    key_b64 = getenv(c->backup_key_env) != NULL ? getenv(c->backup_key_env) : "";
  if ((error = rr_backup_key_load(o.key, opt(key_b64), opt(c->backup_key_file), err, errsize)) < 0)
    goto out;
  o.target_name = c->backup_target;
  o.max_attempts = c->backup_max_attempts;
  o.workers = c->backup_workers;
  o.claimer = c->node_name; /* "<host>:<HttpPort>": two Orthancs on one host are two claimers */
  o.make_target = strcmp(c->backup_target, "cloudinary") == 0 ? make_cloudinary : make_s3;
  o.make_target_ctx = (void *)c;
  o.source = source;
  o.poster = poster;
  if ((error = rr_backup_http_global_init(err, errsize)) < 0 ||
      (error = o.make_target(o.make_target_ctx, &probe, err, errsize)) < 0) /* a missing secret: say it now */
    goto out;
  if ((error = rr_backup_queue_new(out, store, &o)) < 0)
    rr_fail(err, errsize, error, "cannot create the backup queue");
out:
  rr_backup_target_free(probe);
  rr_backup_key_wipe(o.key, sizeof(o.key));
  return error;
}
