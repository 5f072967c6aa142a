#include "annotations_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/args.h"
#include "api/caller.h"
#include "api/reply.h"
#include "api/route.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/str.h"

static OrthancPluginContext *ctx;
static const rr_api_deps *deps;

#define ERR_SIZE 256
#define LABEL_MAX_CHARS 256
#define FRAME_MAX 100000
/* the body: the data object and the few other members around it */
#define MAX_BODY (RR_ANNOTATION_DATA_MAX + 8192)

static const char *const tools[] = {"Length",     "Angle",     "CobbAngle",         "Bidirectional", "EllipticalROI",
                                    "RectangleROI", "CircleROI", "PlanarFreehandROI", "Probe",         "ArrowAnnotate"};

/* An annotation uid: 1..64 of [A-Za-z0-9._-] (cornerstone's are UUIDs). */
static bool annotation_uid_ok(const char *uid)
{
  size_t i;

  for (i = 0; uid[i] != '\0'; i++) {
    char c = uid[i];
    if (i >= RR_ANNOTATION_UID_SIZE - 1 ||
        !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-'))
      return false;
  }
  return i > 0;
}

/* Characters (code points) of valid UTF-8 text: bytes that do not continue one. */
static size_t utf8_chars(const char *s)
{
  size_t n = 0;

  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

static bool tool_ok(const char *tool)
{
  size_t i;

  for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
    if (strcmp(tool, tools[i]) == 0)
      return true;
  return false;
}

static void audit(const rr_identity *id, const char *action, const char *study_uid, const char *detail)
{
  if (deps->audit != NULL)
    rr_audit_log(deps->audit, id->username, id->role_name, "", action, study_uid, "success", detail);
}

/* ISO 8601 UTC with milliseconds of ms since the epoch. */
static void add_time_ms(json_object *o, const char *key, int64_t ms, int *jerr)
{
  char when[32], day[24];
  time_t t = (time_t)(ms / 1000);
  struct tm tm;

  if (ms <= 0 || gmtime_r(&t, &tm) == NULL) {
    rr_json_set_null(o, key, jerr);
    return;
  }
  strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(when, sizeof(when), "%s.%03dZ", day, (int)(ms % 1000));
  rr_json_set(o, key, json_object_new_string(when), jerr);
}

static json_object *annotation_json(const rr_annotation *a)
{
  int jerr = 0;
  json_object *o = json_object_new_object(), *data = json_tokener_parse(a->data_json ? a->data_json : "{}");

  if (data == NULL || !json_object_is_type(data, json_type_object)) {
    json_object_put(data); /* never trust the store blindly */
    data = json_object_new_object();
  }
  rr_json_set_str(o, "annotationUid", a->annotation_uid, &jerr);
  rr_json_set_str(o, "seriesInstanceUid", a->series_uid, &jerr);
  rr_json_set_str(o, "sopInstanceUid", a->sop_uid, &jerr);
  rr_json_set(o, "frame", json_object_new_int64(a->frame), &jerr);
  rr_json_set_str(o, "tool", a->tool, &jerr);
  rr_json_set(o, "label", rr_json_string(a->label), &jerr);
  rr_json_set(o, "data", data, &jerr);
  rr_json_set_str(o, "author", a->author, &jerr);
  add_time_ms(o, "createdAt", a->created_at, &jerr);
  add_time_ms(o, "updatedAt", a->updated_at, &jerr);
  rr_json_set(o, "version", json_object_new_int64(a->version), &jerr);
  return rr_json_done(o, jerr);
}

static json_object *key_image_json(const rr_key_image *k)
{
  int jerr = 0;
  json_object *o = json_object_new_object();

  rr_json_set_str(o, "sopInstanceUid", k->sop_uid, &jerr);
  rr_json_set_str(o, "seriesInstanceUid", k->series_uid, &jerr);
  rr_json_set(o, "frame", json_object_new_int64(k->frame), &jerr);
  rr_json_set_str(o, "author", k->author, &jerr);
  add_time_ms(o, "createdAt", k->created_at, &jerr);
  return rr_json_done(o, jerr);
}

/* The checks every route makes first: the study identifier, a signed-in
 * caller, a study the store knows. Answers itself and returns false. */
static bool study_and_caller(rr_identity *id, OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req)
{
  rr_study_detail *d = NULL;
  char err[ERR_SIZE] = "";
  int error;

  if (!rr_args_study_uid_ok(req->groups[0])) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                   "the study identifier must be a StudyInstanceUID (at most 64 characters: digits, dots, letters)");
    return false;
  }
  if (rr_api_caller(id, deps->auth != NULL) < 0) {
    rr_reply_error(ctx, out, RR_API_FORBIDDEN, "log in first");
    return false;
  }
  if ((error = rr_store_get_study(deps->store, &d, req->groups[0], err, sizeof(err))) < 0) {
    if (error == RR_ENOTFOUND)
      rr_reply_error(ctx, out, RR_API_NOT_FOUND, "no such study");
    else
      rr_reply_failure(ctx, out, error, "annotations", err);
    return false;
  }
  rr_study_detail_free(d);
  return true;
}

/* If-Match: "3", W/"3" or 3 → *version; 0 when absent. Answers 400 itself
 * and returns false when it names no version. */
static bool if_match(int64_t *version, OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req)
{
  const char *v = rr_reply_request_header(req, "If-Match");
  char num[24];
  size_t n;

  *version = 0;
  if (v == NULL)
    return true;
  if (strncmp(v, "W/", 2) == 0)
    v += 2;
  if (*v == '"')
    v++;
  n = strcspn(v, "\"");
  if (n == 0 || n >= sizeof(num) || (v[n] == '"' && v[n + 1] != '\0') || (v[n] == '\0' && v[-1] == '"')) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "If-Match must name one version, e.g. If-Match: \"3\"");
    return false;
  }
  memcpy(num, v, n);
  num[n] = '\0';
  if (rr_parse_i64(version, num, 1, INT64_MAX) < 0) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "If-Match must name one version, e.g. If-Match: \"3\"");
    return false;
  }
  return true;
}

/* A UID member of body into dst; false (and a sentence) when it is not one. */
static bool uid_member(char *dst, size_t size, json_object *body, const char *key, char *msg, size_t msgsize)
{
  int bad = 0;
  const char *v = rr_json_member_str(body, key, &bad);

  if (v == NULL || bad || !rr_args_study_uid_ok(v)) {
    snprintf(msg, msgsize, "'%s' must be a DICOM UID (at most 64 characters: digits and dots)", key);
    return false;
  }
  rr_str_copy(dst, size, v);
  return true;
}

/* The annotation a PUT body describes into *a (its data_json then points
 * into *data_text, which the caller frees). Answers 400 naming the member
 * and returns false when the body is wrong. */
static bool parse_annotation(rr_annotation *a, char **data_text, json_object *body, OrthancPluginRestOutput *out)
{
  char msg[160] = "";
  json_object *v;
  const char *s;
  size_t len;
  int bad = 0;

  if (!uid_member(a->series_uid, sizeof(a->series_uid), body, "seriesInstanceUid", msg, sizeof(msg)) ||
      !uid_member(a->sop_uid, sizeof(a->sop_uid), body, "sopInstanceUid", msg, sizeof(msg)))
    goto refuse;
  if (!json_object_object_get_ex(body, "frame", &v) || !json_object_is_type(v, json_type_int) ||
      json_object_get_int64(v) < 1 || json_object_get_int64(v) > FRAME_MAX) {
    snprintf(msg, sizeof(msg), "'frame' must be an integer from 1 (the first frame) to %d", FRAME_MAX);
    goto refuse;
  }
  a->frame = json_object_get_int64(v);
  s = rr_json_member_str(body, "tool", &bad);
  if (s == NULL || bad || !tool_ok(s)) {
    snprintf(msg, sizeof(msg), "'tool' must be one of Length, Angle, CobbAngle, Bidirectional, EllipticalROI,"
                               " RectangleROI, CircleROI, PlanarFreehandROI, Probe, ArrowAnnotate");
    goto refuse;
  }
  rr_str_copy(a->tool, sizeof(a->tool), s);
  s = rr_json_member_str(body, "label", &bad);
  len = s ? strlen(s) : 0;
  if (bad || rr_utf8_valid_prefix(s ? s : "", len) != len || len >= sizeof(a->label) ||
      utf8_chars(s ? s : "") > LABEL_MAX_CHARS) {
    snprintf(msg, sizeof(msg), "'label' must be text of at most %d characters", LABEL_MAX_CHARS);
    goto refuse;
  }
  rr_str_copy(a->label, sizeof(a->label), s ? s : "");
  if (!json_object_object_get_ex(body, "data", &v) || !json_object_is_type(v, json_type_object)) {
    snprintf(msg, sizeof(msg), "'data' must be a JSON object");
    goto refuse;
  }
  s = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  if (s == NULL || len > RR_ANNOTATION_DATA_MAX) {
    snprintf(msg, sizeof(msg), "'data' must be at most %d bytes of JSON", RR_ANNOTATION_DATA_MAX);
    goto refuse;
  }
  if ((*data_text = strdup(s)) == NULL) {
    rr_reply_failure(ctx, out, RR_ENOMEM, "annotations", "out of memory");
    return false;
  }
  a->data_json = *data_text;
  s = rr_json_member_str(body, "annotationUid", &bad);
  if (bad || (s != NULL && strcmp(s, a->annotation_uid) != 0)) {
    snprintf(msg, sizeof(msg), "'annotationUid' must be the one in the path (or absent)");
    goto refuse;
  }
  return true;
refuse:
  rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, msg);
  return false;
}

/* GET {root}dicom/studies/{uid}/annotations */
static OrthancPluginErrorCode on_list(OrthancPluginRestOutput *out, const char *url,
                                      const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  rr_annotation_list *list = NULL;
  rr_key_image_list *keys = NULL;
  json_object *root = NULL, *data, *arr;
  char err[ERR_SIZE] = "";
  int jerr = 0, error;
  size_t i;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (!study_and_caller(&id, out, req))
    return OrthancPluginErrorCode_Success;
  if ((error = rr_store_annotation_list(deps->store, &list, req->groups[0], err, sizeof(err))) < 0 ||
      (error = rr_store_key_image_list(deps->store, &keys, req->groups[0], err, sizeof(err))) < 0)
    goto out;
  root = json_object_new_object();
  data = json_object_new_array();
  arr = json_object_new_array();
  rr_json_set(root, "data", data, &jerr);
  rr_json_set(root, "keyImages", arr, &jerr);
  for (i = 0; i < list->count; i++)
    rr_json_append(data, annotation_json(&list->items[i]), &jerr);
  for (i = 0; i < keys->count; i++)
    rr_json_append(arr, key_image_json(&keys->items[i]), &jerr);
  rr_reply_built(ctx, out, 200, root, jerr);
out:
  if (error < 0)
    rr_reply_failure(ctx, out, error, "annotations", err);
  json_object_put(root);
  rr_annotation_list_free(list);
  rr_key_image_list_free(keys);
  return OrthancPluginErrorCode_Success;
}

static void put_annotation(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const rr_identity *id)
{
  rr_annotation a, stored;
  json_object *body = NULL, *answer = NULL;
  char *data_text = NULL, err[ERR_SIZE] = "";
  int64_t expected;
  bool created = false;
  int error;

  memset(&a, 0, sizeof(a));
  memset(&stored, 0, sizeof(stored));
  rr_str_copy(a.study_uid, sizeof(a.study_uid), req->groups[0]);
  rr_str_copy(a.annotation_uid, sizeof(a.annotation_uid), req->groups[1]);
  rr_str_copy(a.author, sizeof(a.author), id->username);
  if (!if_match(&expected, out, req) || (body = rr_reply_parse_body(ctx, out, req, MAX_BODY, 0)) == NULL)
    return;
  if (!parse_annotation(&a, &data_text, body, out))
    goto out;
  error = rr_store_annotation_put(deps->store, &stored, &created, &a, expected, rr_clock_unix_ms(), err, sizeof(err));
  if (error < 0) {
    rr_reply_failure(ctx, out, error, "annotations", err);
    goto out;
  }
  audit(id, created ? "annotation.create" : "annotation.update", a.study_uid, a.annotation_uid);
  answer = annotation_json(&stored);
  rr_reply_built(ctx, out, created ? 201 : 200, answer, answer ? 0 : RR_ENOMEM);
out:
  json_object_put(answer);
  json_object_put(body);
  free(data_text);
  rr_annotation_dispose(&stored);
}

/* PUT and DELETE {root}dicom/studies/{uid}/annotations/{annotationUid} */
static OrthancPluginErrorCode on_annotation(OrthancPluginRestOutput *out, const char *url,
                                            const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  char err[ERR_SIZE] = "";
  int64_t expected;
  int error;

  (void)url;
  if (req->method != OrthancPluginHttpMethod_Put && req->method != OrthancPluginHttpMethod_Delete) {
    rr_reply_method_not_allowed(ctx, out, "PUT,DELETE");
    return OrthancPluginErrorCode_Success;
  }
  if (!annotation_uid_ok(req->groups[1])) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                   "the annotation identifier must be 1 to 64 characters: letters, digits, '.', '_', '-'");
    return OrthancPluginErrorCode_Success;
  }
  if (!study_and_caller(&id, out, req))
    return OrthancPluginErrorCode_Success;
  if (req->method == OrthancPluginHttpMethod_Put) {
    put_annotation(out, req, &id);
    return OrthancPluginErrorCode_Success;
  }
  if (!if_match(&expected, out, req))
    return OrthancPluginErrorCode_Success;
  error = rr_store_annotation_remove(deps->store, req->groups[0], req->groups[1], id.username, expected, err,
                                     sizeof(err));
  if (error < 0) {
    rr_reply_failure(ctx, out, error, "annotations", err);
    return OrthancPluginErrorCode_Success;
  }
  audit(&id, "annotation.delete", req->groups[0], req->groups[1]);
  rr_reply_security_headers(ctx, out);
  OrthancPluginSendHttpStatusCode(ctx, out, 204);
  return OrthancPluginErrorCode_Success;
}

/* The first mark of a key image marked already (its author and time) into *k;
 * k is left as it is when it cannot be read. */
static void stored_key_image(rr_key_image *k)
{
  rr_key_image_list *keys = NULL;
  size_t i;

  if (rr_store_key_image_list(deps->store, &keys, k->study_uid, NULL, 0) < 0)
    return;
  for (i = 0; i < keys->count; i++)
    if (strcmp(keys->items[i].sop_uid, k->sop_uid) == 0 && keys->items[i].frame == k->frame) {
      *k = keys->items[i];
      break;
    }
  rr_key_image_list_free(keys);
}

/* PUT and DELETE {root}dicom/studies/{uid}/key-images/{SOPInstanceUID}[/frames/{n}] */
static OrthancPluginErrorCode on_key_image(OrthancPluginRestOutput *out, const char *url,
                                           const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  rr_key_image k;
  json_object *body = NULL;
  char err[ERR_SIZE] = "", msg[160] = "", detail[RR_UID_SIZE + 32];
  const char *frame;
  bool created = false;
  int error;

  (void)url;
  if (req->method != OrthancPluginHttpMethod_Put && req->method != OrthancPluginHttpMethod_Delete) {
    rr_reply_method_not_allowed(ctx, out, "PUT,DELETE");
    return OrthancPluginErrorCode_Success;
  }
  memset(&k, 0, sizeof(k));
  k.frame = 1;
  /* Orthanc parses query arguments of GET requests only: the frame is a path segment */
  frame = req->groupsCount > 2 ? req->groups[2] : "1";
  if (!rr_args_study_uid_ok(req->groups[1]) || rr_parse_i64(&k.frame, frame, 1, FRAME_MAX) < 0) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                   "the image is key-images/{SOPInstanceUID}/frames/{n}: a SOP Instance UID and a frame number from 1");
    return OrthancPluginErrorCode_Success;
  }
  if (!study_and_caller(&id, out, req))
    return OrthancPluginErrorCode_Success;
  rr_str_copy(k.study_uid, sizeof(k.study_uid), req->groups[0]);
  rr_str_copy(k.sop_uid, sizeof(k.sop_uid), req->groups[1]);
  rr_str_copy(k.author, sizeof(k.author), id.username);
  snprintf(detail, sizeof(detail), "%s frame %lld", k.sop_uid, (long long)k.frame);
  if (req->method == OrthancPluginHttpMethod_Delete) {
    if ((error = rr_store_key_image_unmark(deps->store, k.study_uid, k.sop_uid, k.frame, err, sizeof(err))) < 0) {
      rr_reply_failure(ctx, out, error, "key images", err);
      return OrthancPluginErrorCode_Success;
    }
    audit(&id, "keyimage.unmark", k.study_uid, detail);
    rr_reply_security_headers(ctx, out);
    OrthancPluginSendHttpStatusCode(ctx, out, 204);
    return OrthancPluginErrorCode_Success;
  }
  if ((body = rr_reply_parse_body(ctx, out, req, 4096, 0)) == NULL)
    return OrthancPluginErrorCode_Success;
  if (!uid_member(k.series_uid, sizeof(k.series_uid), body, "seriesInstanceUid", msg, sizeof(msg))) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, msg);
  } else if ((error = rr_store_key_image_mark(deps->store, &created, &k, rr_clock_unix_ms(), err, sizeof(err))) < 0) {
    rr_reply_failure(ctx, out, error, "key images", err);
  } else {
    json_object *answer;
    k.created_at = rr_clock_unix_ms();
    if (created)
      audit(&id, "keyimage.mark", k.study_uid, detail);
    else
      stored_key_image(&k);
    answer = key_image_json(&k);
    rr_reply_built(ctx, out, created ? 201 : 200, answer, answer ? 0 : RR_ENOMEM);
    json_object_put(answer);
  }
  json_object_put(body);
  return OrthancPluginErrorCode_Success;
}

int rr_annotations_api_register(OrthancPluginContext *context, const rr_api_deps *d, const char *root)
{
  char regex[RR_ROOT_SIZE * 2 + 64];
  int error;

  ctx = context;
  deps = d;
  snprintf(regex, sizeof(regex), "%s/dicom/studies/([^/]+)/annotations", root);
  if ((error = rr_api_route(context, regex, on_list)) < 0)
    return error;
  snprintf(regex, sizeof(regex), "%s/dicom/studies/([^/]+)/annotations/([^/]+)", root);
  if ((error = rr_api_route(context, regex, on_annotation)) < 0)
    return error;
  snprintf(regex, sizeof(regex), "%s/dicom/studies/([^/]+)/key-images/([^/]+)", root);
  if ((error = rr_api_route(context, regex, on_key_image)) < 0)
    return error;
  snprintf(regex, sizeof(regex), "%s/dicom/studies/([^/]+)/key-images/([^/]+)/frames/([^/]+)", root);
  return rr_api_route(context, regex, on_key_image);
}
