#include "api/sr_api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/args.h"
#include "api/caller.h"
#include "api/reply.h"
#include "api/route.h"
#include "dicom/sr_check.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/orthanc_rest.h"
#include "util/str.h"

#define ERR_SIZE 512

static OrthancPluginContext *ctx;
static const rr_api_deps *deps;

static void audit(const rr_identity *id, const char *uid, const char *outcome, const char *detail)
{
  if (deps->audit != NULL)
    rr_audit_log(deps->audit, id->username, id->role_name, "", "measurements.archive", uid, outcome, detail);
}

/* The study's Orthanc identifier and Patient ID (from Orthanc itself, which
 * files the new object by Patient ID + Study Instance UID). 0, RR_ENOTFOUND
 * (answered 404) or another failure (answered). */
static int study_in_orthanc(char oid[RR_OID_SIZE], char patient_id[RR_SR_UID_SIZE], OrthancPluginRestOutput *out,
                            const char *uid)
{
  rr_study_detail *d = NULL;
  rr_rest_source src = rr_rest_source_orthanc(ctx);
  json_object *study = NULL, *tags, *v;
  char err[ERR_SIZE] = "", uri[RR_OID_SIZE + 16];
  int rc;

  if ((rc = rr_store_get_study(deps->store, &d, uid, err, sizeof(err))) < 0) {
    if (rc == RR_ENOTFOUND)
      rr_reply_error(ctx, out, RR_API_NOT_FOUND, "no such study");
    else
      rr_reply_failure(ctx, out, rc, "store", err);
    return rc;
  }
  rr_str_copy(oid, RR_OID_SIZE, d->study.orthanc_id);
  rr_study_detail_free(d);
  snprintf(uri, sizeof(uri), "/studies/%s", oid);
  if ((rc = src.get_json(src.ctx, &study, uri, err, sizeof(err))) < 0) {
    if (rc == RR_ENOTFOUND)
      rr_reply_error(ctx, out, RR_API_NOT_FOUND, "no such study in Orthanc");
    else
      rr_reply_failure(ctx, out, RR_EUPSTREAM, "reading the study from Orthanc", err);
    return rc;
  }
  patient_id[0] = '\0';
  if (json_object_object_get_ex(study, "PatientMainDicomTags", &tags) && json_object_object_get_ex(tags, "PatientID", &v) &&
      json_object_is_type(v, json_type_string))
    rr_str_copy_trim(patient_id, RR_SR_UID_SIZE, json_object_get_string(v));
  json_object_put(study);
  return 0;
}

/* Orthanc's own reading of the file, checked against the route's rules.
 * 0, or the failure (answered). */
static int check_file(rr_sr_facts *f, OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req,
                      const char *uid, const char *patient_id)
{
  char err[ERR_SIZE] = "";
  char *text;
  json_object *tags;
  int rc;

  text = OrthancPluginDicomBufferToJson(ctx, req->body, (uint32_t)req->bodySize, OrthancPluginDicomToJsonFormat_Short,
                                        OrthancPluginDicomToJsonFlags_ConvertBinaryToNull |
                                            OrthancPluginDicomToJsonFlags_StopAfterPixelData,
                                        256);
  if (text == NULL) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "the body is not a DICOM file Orthanc can read");
    return RR_EINVAL;
  }
  tags = json_tokener_parse(text);
  OrthancPluginFreeString(ctx, text);
  rc = rr_sr_facts_read(f, tags, err, sizeof(err));
  json_object_put(tags);
  if (rc == 0)
    rc = rr_sr_check(f, uid, patient_id, err, sizeof(err));
  if (rc < 0)
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, err);
  return rc;
}

/* Orthanc's JSON answer (not NUL-terminated) as an object; NULL. */
static json_object *parse_answer(const OrthancPluginMemoryBuffer *b)
{
  json_tokener *tok = json_tokener_new();
  json_object *o = NULL;

  if (tok != NULL && b->size > 0 && b->size < INT32_MAX)
    o = json_tokener_parse_ex(tok, (const char *)b->data, (int)b->size);
  if (tok != NULL)
    json_tokener_free(tok);
  return o;
}

/* Store the checked file through Orthanc's REST API. 0 with the new
 * instance's Orthanc identifier, or the failure (answered). */
static int store_file(char id[RR_OID_SIZE], OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req,
                      const char *study_oid)
{
  OrthancPluginMemoryBuffer answer = {0};
  json_object *o = NULL, *v;
  const char *status = "", *parent = "";
  char uri[RR_OID_SIZE + 16];
  int rc = 0;

  if (OrthancPluginRestApiPost(ctx, &answer, "/instances", req->body, (uint32_t)req->bodySize) !=
      OrthancPluginErrorCode_Success) {
    rr_reply_error(ctx, out, RR_API_UPSTREAM_ERROR, "Orthanc refused to store the measurement report");
    return RR_EUPSTREAM;
  }
  o = parse_answer(&answer);
  OrthancPluginFreeMemoryBuffer(ctx, &answer);
  if (json_object_object_get_ex(o, "Status", &v) && json_object_is_type(v, json_type_string))
    status = json_object_get_string(v);
  if (json_object_object_get_ex(o, "ParentStudy", &v) && json_object_is_type(v, json_type_string))
    parent = json_object_get_string(v);
  id[0] = '\0';
  if (json_object_object_get_ex(o, "ID", &v) && json_object_is_type(v, json_type_string))
    rr_str_copy(id, RR_OID_SIZE, json_object_get_string(v));
  if (strcmp(status, "AlreadyStored") == 0) {
    rr_reply_error(ctx, out, RR_API_CONFLICT,
                   "an instance with this SOP Instance UID is in the archive already; nothing was changed");
    rc = RR_EEXISTS;
  } else if (strcmp(status, "Success") != 0 || id[0] == '\0') {
    rr_reply_error(ctx, out, RR_API_UPSTREAM_ERROR, "Orthanc did not store the measurement report");
    rc = RR_EUPSTREAM;
  } else if (strcmp(parent, study_oid) != 0) {
    /* checked before storing, so only a race (the study changed meanwhile):
     * take back what was just created, and only that */
    snprintf(uri, sizeof(uri), "/instances/%s", id);
    OrthancPluginRestApiDelete(ctx, uri);
    rr_reply_error(ctx, out, RR_API_CONFLICT, "the study changed while the report was stored; nothing was kept");
    rc = RR_ECONFLICT;
  }
  json_object_put(o);
  return rc;
}

static OrthancPluginErrorCode on_reports(OrthancPluginRestOutput *out, const char *url,
                                         const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  rr_identity id;
  rr_sr_facts f;
  json_object *o;
  char uid[RR_UID_SIZE], study_oid[RR_OID_SIZE], patient_id[RR_SR_UID_SIZE], oid[RR_OID_SIZE];
  const char *type;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  if (rr_api_caller(&id, deps->auth != NULL) < 0) {
    rr_reply_error(ctx, out, RR_API_FORBIDDEN, "log in first");
    return OrthancPluginErrorCode_Success;
  }
  if (req->groupsCount < 1 || !rr_args_study_uid_ok(req->groups[0])) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                   "the study identifier must be a StudyInstanceUID (at most 64 characters: digits and dots)");
    return OrthancPluginErrorCode_Success;
  }
  rr_str_copy(uid, sizeof(uid), req->groups[0]);
  type = rr_reply_request_header(req, "content-type");
  if (type != NULL && strncmp(type, "application/dicom", 17) != 0 && strncmp(type, "application/octet-stream", 24) != 0) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "the body must be a DICOM file (Content-Type: application/dicom)");
    return OrthancPluginErrorCode_Success;
  }
  if (req->bodySize > RR_SR_MAX_BYTES) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "the measurement report is larger than 16 MiB");
    return OrthancPluginErrorCode_Success;
  }
  if (!rr_sr_is_part10(req->body, req->bodySize)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                   "the body is not a DICOM Part 10 file (no 128-byte preamble followed by \"DICM\")");
    return OrthancPluginErrorCode_Success;
  }
  if (study_in_orthanc(study_oid, patient_id, out, uid) < 0 || check_file(&f, out, req, uid, patient_id) < 0 ||
      store_file(oid, out, req, study_oid) < 0)
    return OrthancPluginErrorCode_Success;
  audit(&id, uid, "success", f.sop_instance_uid);
  rr_log_info("measurement report stored: instance %s in study %s", oid, study_oid);
  o = json_object_new_object();
  rr_json_set_str(o, "orthancId", oid, &jerr);
  rr_json_set_str(o, "sopInstanceUid", f.sop_instance_uid, &jerr);
  rr_json_set_str(o, "seriesInstanceUid", f.series_instance_uid, &jerr);
  rr_json_set_str(o, "sopClass", rr_sr_class_name(f.sop_class_uid), &jerr);
  rr_json_set_str(o, "templateIdentifier", f.template_id, &jerr);
  rr_reply_built(ctx, out, 201, o, jerr);
  json_object_put(o);
  return OrthancPluginErrorCode_Success;
}

int rr_sr_api_register(OrthancPluginContext *context, const rr_api_deps *d, const char *root)
{
  char regex[512];

  ctx = context;
  deps = d;
  snprintf(regex, sizeof(regex), "%s/dicom/studies/([^/]+)/measurement-reports", root);
  return rr_api_route(context, regex, on_reports);
}
