#include "api/capture_api.h"

#include <stdio.h>
#include <string.h>

#include "api/args.h"
#include "api/caller.h"
#include "api/reply.h"
#include "api/route.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/str.h"

#define MAX_BODY 4096
#define ERR_SIZE 256
/* How long the answer waits for the audit record to reach the store. */
#define CAPTURE_AUDIT_WAIT_MS 5000

static OrthancPluginContext *ctx;
static const rr_api_deps *deps;

typedef struct capture_request {
  char study_uid[RR_UID_SIZE];
  char sop_uid[RR_UID_SIZE];
  int64_t frame;  /* 1-based */
  bool burned_in; /* the overlay texts are drawn into the PNG */
} capture_request;

/* The body's members into r; on failure the message names the member. */
static int parse_capture(capture_request *r, json_object *body, char *err, size_t errsize)
{
  json_object *v;

  if (!json_object_object_get_ex(body, "sopInstanceUid", &v) || !json_object_is_type(v, json_type_string) ||
      !rr_args_study_uid_ok(json_object_get_string(v)))
    return rr_fail(err, errsize, RR_EINVAL, "'sopInstanceUid' must be a SOP Instance UID");
  rr_str_copy(r->sop_uid, sizeof(r->sop_uid), json_object_get_string(v));
  if (!json_object_object_get_ex(body, "frame", &v) || !json_object_is_type(v, json_type_int) ||
      json_object_get_int64(v) < 1 || json_object_get_int64(v) > 1000000)
    return rr_fail(err, errsize, RR_EINVAL, "'frame' must be a frame number from 1");
  r->frame = json_object_get_int64(v);
  if (!json_object_object_get_ex(body, "burnedIn", &v) || !json_object_is_type(v, json_type_boolean))
    return rr_fail(err, errsize, RR_EINVAL, "'burnedIn' must be true or false");
  r->burned_in = json_object_get_boolean(v);
  return 0;
}

/* 0 when the study holds the image (instance and frame); RR_ENOTFOUND with
 * the reason otherwise; another RR_E* when the store fails. */
static int check_image(const capture_request *r, char *err, size_t errsize)
{
  rr_study_detail *d = NULL;
  size_t i, j;
  int error;

  if ((error = rr_store_get_study(deps->store, &d, r->study_uid, err, errsize)) < 0)
    return error == RR_ENOTFOUND ? rr_fail(err, errsize, RR_ENOTFOUND, "no such study") : error;
  error = rr_fail(err, errsize, RR_ENOTFOUND, "the study holds no such image");
  for (i = 0; i < d->series_count; i++) {
    for (j = 0; j < d->series[i].instance_count; j++) {
      const rr_instance_rec *in = &d->series[i].instances[j];
      if (strcmp(in->sop_instance_uid, r->sop_uid) != 0)
        continue;
      if (r->frame <= (in->number_of_frames > 1 ? in->number_of_frames : 1))
        error = 0;
      else
        error = rr_fail(err, errsize, RR_ENOTFOUND, "the image has no such frame");
      goto out;
    }
  }
out:
  rr_study_detail_free(d);
  return error;
}

/* Queue the record and wait until the writer has put it into the store.
 * RR_ESTORE when it is not there in time or was dropped. */
static int audit_capture(const rr_identity *id, const capture_request *r, char *err, size_t errsize)
{
  rr_audit_stats before, after;
  char detail[RR_UID_SIZE + 64];

  if (deps->audit == NULL)
    return 0; /* access control off: no audit trail */
  snprintf(detail, sizeof(detail), "sop=%s frame=%lld burnedIn=%s", r->sop_uid, (long long)r->frame,
           r->burned_in ? "true" : "false");
  rr_audit_get_stats(deps->audit, &before);
  rr_audit_log(deps->audit, id->username, id->role_name, "", "viewer.capture", r->study_uid, "success", detail);
  if (rr_audit_flush(deps->audit, CAPTURE_AUDIT_WAIT_MS) < 0)
    return rr_fail(err, errsize, RR_ESTORE,
                   "the capture could not be recorded in the audit trail (the store does not answer); nothing was saved");
  rr_audit_get_stats(deps->audit, &after);
  if (after.dropped != before.dropped)
    return rr_fail(err, errsize, RR_ESTORE,
                   "the audit trail is overloaded and the capture could not be recorded; nothing was saved");
  return 0;
}

/* POST {root}/dicom/studies/{StudyInstanceUID}/captures */
static OrthancPluginErrorCode on_capture(OrthancPluginRestOutput *out, const char *url,
                                         const OrthancPluginHttpRequest *req)
{
  capture_request r;
  rr_identity id;
  json_object *body;
  char err[ERR_SIZE] = "";
  int error;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  memset(&r, 0, sizeof(r));
  if (rr_api_caller(&id, deps->auth != NULL) < 0) {
    rr_reply_error(ctx, out, RR_API_FORBIDDEN, "log in first");
    return OrthancPluginErrorCode_Success;
  }
  if (req->groupsCount < 1 || !rr_args_study_uid_ok(req->groups[0])) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "not a Study Instance UID");
    return OrthancPluginErrorCode_Success;
  }
  rr_str_copy(r.study_uid, sizeof(r.study_uid), req->groups[0]);
  if ((body = rr_reply_parse_body(ctx, out, req, MAX_BODY, 0)) == NULL)
    return OrthancPluginErrorCode_Success;
  error = parse_capture(&r, body, err, sizeof(err));
  json_object_put(body);
  if (error == 0)
    error = check_image(&r, err, sizeof(err));
  if (error == 0)
    error = audit_capture(&id, &r, err, sizeof(err));
  if (error < 0) {
    rr_reply_failure(ctx, out, error, "capture", err);
    return OrthancPluginErrorCode_Success;
  }
  rr_reply_security_headers(ctx, out);
  OrthancPluginSendHttpStatusCode(ctx, out, 204);
  return OrthancPluginErrorCode_Success;
}

int rr_capture_api_register(OrthancPluginContext *context, const rr_api_deps *d, const char *root)
{
  char regex[RR_ROOT_SIZE * 2 + 64];

  ctx = context;
  deps = d;
  snprintf(regex, sizeof(regex), "%s/dicom/studies/([^/]+)/captures", root);
  return rr_api_route(context, regex, on_capture);
}
