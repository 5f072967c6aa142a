#include "api/reports_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/args.h"
#include "api/caller.h"
#include "api/reply.h"
#include "api/route.h"
#include "auth/filter.h"
#include "report/report_access.h"
#include "report/report_compose.h"
#include "report/report_fhir.h"
#include "report/report_outputs.h"
#include "report/report_pdf.h"
#include "report/template.h"
#include "store/store_index.h"
#include "store/store_reports.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/big_stack.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/sha256.h"
#include "util/str.h"

#define MAX_BODY (RR_REPORT_JSON_MAX + 64 * 1024)
#define ERR_SIZE 512
#define PASSWORD_MAX 1024

static OrthancPluginContext *ctx;
static const rr_api_deps *deps;
static char api_root[RR_ROOT_SIZE];

static const char *const final_states[] = {"final", "appended", "corrected"};

/* ------------------------------------------------------------ helpers */

static int caller(rr_identity *id, OrthancPluginRestOutput *out)
{
  if (rr_api_caller(id, deps->auth != NULL) < 0) {
    rr_reply_error(ctx, out, RR_API_FORBIDDEN, "log in first");
    return -1;
  }
  return 0;
}

static bool physician(const rr_identity *id)
{
  return deps->auth != NULL && id->role == RR_ROLE_PHYSICIAN;
}

static void audit(const rr_identity *id, const char *action, const char *resource, const char *outcome,
                  const char *detail)
{
  if (deps->audit != NULL)
    rr_audit_log(deps->audit, id->username, id->role_name, rr_filter_current_source(), action, resource, outcome,
                 detail);
}

static void report_resource(char out[32], int64_t id)
{
  snprintf(out, 32, "report %lld", (long long)id);
}

static void send_failure(OrthancPluginRestOutput *out, int error, const char *err)
{
  rr_reply_failure(ctx, out, error, "reports API", err);
}

static bool final_state(const char *state)
{
  size_t i;

  for (i = 0; i < 3; i++)
    if (strcmp(state, final_states[i]) == 0)
      return true;
  return false;
}

/* A report id of the route (digits, > 0); answers 404 otherwise. */
static bool report_id(int64_t *id, const char *text, OrthancPluginRestOutput *out)
{
  if (rr_parse_i64(id, text, 1, INT64_MAX) < 0) {
    rr_reply_error(ctx, out, RR_API_NOT_FOUND, "no such report");
    return false;
  }
  return true;
}

/* Times of the store are ms; the wire has ISO 8601 UTC. */
static void add_ms(json_object *o, const char *key, int64_t ms, int *jerr)
{
  rr_json_add_time(o, key, ms > 0 ? ms / 1000 : 0, jerr);
}

/* A stored JSON text, or `fallback` parsed. */
static json_object *stored(const char *text, const char *fallback)
{
  json_object *o = text && text[0] ? json_tokener_parse(text) : NULL;

  return o != NULL ? o : json_tokener_parse(fallback);
}

/* Whether a physician may read this report: a final state and the scope. */
static int physician_may_read(bool *out, const rr_identity *id, const rr_report *r, char *err, size_t errsize)
{
  *out = false;
  if (!final_state(r->state))
    return 0;
  if (deps->report_access == NULL) {
    *out = true;
    return 0;
  }
  return rr_report_access_physician_may_read(out, deps->report_access, r->study_uid, id->display_name, err, errsize);
}

static const rr_report_version *latest(const rr_report *r)
{
  return r->version_count > 0 ? &r->versions[r->version_count - 1] : NULL;
}

static void etag_of(char out[48], const rr_report *r)
{
  const rr_report_version *v = latest(r);

  snprintf(out, 48, "\"%lld.%lld\"", (long long)(v ? v->version : 0), (long long)(v ? v->revision : 0));
}

/* ---------------------------------------------------------- JSON shapes */

static json_object *version_json(const rr_report *r, const rr_report_version *v)
{
  int jerr = 0;
  json_object *o = json_object_new_object();
  char name[128], pdf[RR_ROOT_SIZE + 64];

  rr_json_set(o, "version", json_object_new_int64(v->version), &jerr);
  rr_json_set_str(o, "kind", v->kind, &jerr);
  rr_json_set_str(o, "status", v->status, &jerr);
  rr_json_set(o, "fields", stored(v->fields_json, "{}"), &jerr);
  rr_json_set(o, "inserts", stored(v->inserts_json, "{}"), &jerr);
  rr_json_set_opt(o, "text", v->text != NULL, rr_json_string(v->text), &jerr);
  rr_json_set_str(o, "author", v->author, &jerr);
  rr_json_set_str(o, "updatedBy", v->updated_by, &jerr);
  add_ms(o, "createdAt", v->created_at, &jerr);
  add_ms(o, "updatedAt", v->updated_at, &jerr);
  rr_json_set(o, "revision", json_object_new_int64(v->revision), &jerr);
  rr_json_set_opt(o, "signedBy", v->signed_by[0] != '\0', rr_json_string(v->signed_by), &jerr);
  name[0] = '\0';
  if (v->signed_by[0] != '\0' && deps->report_composer != NULL)
    rr_report_compose_display_name(name, sizeof(name), deps->report_composer, v->signed_by);
  rr_json_set_opt(o, "signedByName", name[0] != '\0', rr_json_string(name), &jerr);
  add_ms(o, "signedAt", v->signed_at, &jerr);
  rr_json_set_opt(o, "pdfSha256", v->pdf_sha256[0] != '\0', rr_json_string(v->pdf_sha256), &jerr);
  snprintf(pdf, sizeof(pdf), "%sreports/%lld/pdf?version=%lld", api_root, (long long)r->id, (long long)v->version);
  rr_json_set_opt(o, "pdf", v->signed_at > 0 && v->pdf_sha256[0] != '\0', rr_json_string(pdf), &jerr);
  return rr_json_done(o, jerr);
}

static json_object *critical_json(const rr_report *r, int *jerr)
{
  json_object *c, *o;

  if (r->critical_json == NULL || (c = json_tokener_parse(r->critical_json)) == NULL)
    return NULL;
  o = json_object_new_object();
  rr_json_set_str(o, "recipient", rr_json_str(c, "recipient"), jerr);
  rr_json_set_str(o, "method", rr_json_str(c, "method"), jerr);
  add_ms(o, "communicatedAt", json_object_get_int64(rr_json_obj(c, "communicatedAt")), jerr);
  rr_json_set_str(o, "recordedBy", rr_json_str(c, "recordedBy"), jerr);
  json_object_put(c);
  return o;
}

/* The report as the wire contract has it; for a physician its final
 * versions only. */
static json_object *report_json(const rr_report *r, bool for_physician)
{
  int jerr = 0;
  json_object *o = json_object_new_object(), *arr, *a, *crit, *outputs = NULL;
  char id[24], etag[48], err[ERR_SIZE];
  size_t i;

  snprintf(id, sizeof(id), "%lld", (long long)r->id);
  rr_json_set_str(o, "reportId", id, &jerr);
  rr_json_set_str(o, "studyInstanceUid", r->study_uid, &jerr);
  rr_json_set_str(o, "state", r->state, &jerr);
  rr_json_set_opt(o, "stateReason", r->state_reason != NULL, rr_json_string(r->state_reason), &jerr);
  rr_json_set(o, "template", stored(r->template_json, "{}"), &jerr);
  rr_json_set(o, "critical", json_object_new_boolean(r->critical), &jerr);
  crit = critical_json(r, &jerr);
  rr_json_set_opt(o, "criticalCommunication", crit != NULL, crit, &jerr);
  arr = json_object_new_array();
  for (i = 0; i < r->ack_count; i++) {
    a = json_object_new_object();
    rr_json_set_str(a, "username", r->acks[i].username, &jerr);
    add_ms(a, "at", r->acks[i].at, &jerr);
    rr_json_append(arr, a, &jerr);
  }
  rr_json_set(o, "acknowledgements", arr, &jerr);
  rr_json_set_str(o, "createdBy", r->created_by, &jerr);
  add_ms(o, "createdAt", r->created_at, &jerr);
  add_ms(o, "updatedAt", r->updated_at, &jerr);
  rr_json_set_opt(o, "prevailingVersion", r->prevailing_version > 0, json_object_new_int64(r->prevailing_version),
                  &jerr);
  etag_of(etag, r);
  rr_json_set_str(o, "etag", etag, &jerr);
  arr = json_object_new_array();
  for (i = 0; i < r->version_count; i++)
    if (!for_physician || strcmp(r->versions[i].status, "final") == 0)
      rr_json_append(arr, version_json(r, &r->versions[i]), &jerr);
  rr_json_set(o, "versions", arr, &jerr);
  if (rr_report_outputs_json(&outputs, deps->store, r->id, err, sizeof(err)) < 0) {
    rr_log_error("reports: the outputs of report %lld cannot be read: %s", (long long)r->id, err);
    outputs = json_object_new_array();
  }
  rr_json_set(o, "outputs", outputs, &jerr);
  return rr_json_done(o, jerr);
}

/* Answer with the report as stored now (ETag header included). */
static void send_report(OrthancPluginRestOutput *out, int status, int64_t id, bool for_physician)
{
  rr_report *r = NULL;
  json_object *o;
  char err[ERR_SIZE] = "", etag[48];
  int error;

  if ((error = rr_store_report_get(deps->store, &r, id, err, sizeof(err))) < 0) {
    send_failure(out, error, error == RR_ENOTFOUND ? "no such report" : err);
    return;
  }
  o = report_json(r, for_physician);
  etag_of(etag, r);
  OrthancPluginSetHttpHeader(ctx, out, "ETag", etag);
  rr_reply_json(ctx, out, status, o);
  json_object_put(o);
  rr_report_free(r);
}

/* Load the report of the route for the caller: 404 when absent or, for a
 * physician, not readable. *out (rr_report_free) on success. */
static bool load_report(rr_report **out, int64_t id, const rr_identity *who, OrthancPluginRestOutput *o)
{
  char err[ERR_SIZE] = "";
  bool may = true;
  int error;

  *out = NULL;
  if ((error = rr_store_report_get(deps->store, out, id, err, sizeof(err))) < 0) {
    send_failure(o, error, error == RR_ENOTFOUND ? "no such report" : err);
    return false;
  }
  if (physician(who) && ((error = physician_may_read(&may, who, *out, err, sizeof(err))) < 0 || !may)) {
    if (error < 0)
      send_failure(o, error, err);
    else
      rr_reply_error(ctx, o, RR_API_NOT_FOUND, "no such report");
    rr_report_free(*out);
    *out = NULL;
    return false;
  }
  return true;
}

/* ---------------------------------------------------------- preconditions */

/* If-Match: "<version>.<revision>" (quotes optional). Answers 412 precondition_required when
 * absent, 412 when malformed; true when *e is filled. */
static bool if_match(rr_report_expect *e, const OrthancPluginHttpRequest *req, OrthancPluginRestOutput *out)
{
  const char *h = rr_reply_request_header(req, "if-match");
  char buf[48], *dot;
  size_t n;

  if (h == NULL || h[0] == '\0') {
    rr_reply_error(ctx, out, RR_API_PRECONDITION_REQUIRED,
                   "send If-Match with the report's ETag (\"<version>.<revision>\") to change it");
    return false;
  }
  if (strncmp(h, "W/", 2) == 0)
    h += 2;
  rr_str_copy(buf, sizeof(buf), h[0] == '"' ? h + 1 : h);
  n = strlen(buf);
  if (n > 0 && buf[n - 1] == '"')
    buf[n - 1] = '\0';
  if ((dot = strchr(buf, '.')) == NULL) {
    rr_reply_error(ctx, out, RR_API_VERSION_MISMATCH, "If-Match is not a report's ETag (\"<version>.<revision>\")");
    return false;
  }
  *dot = '\0';
  if (rr_parse_i64(&e->version, buf, 1, INT64_MAX) < 0 || rr_parse_i64(&e->revision, dot + 1, 1, INT64_MAX) < 0) {
    rr_reply_error(ctx, out, RR_API_VERSION_MISMATCH, "If-Match is not a report's ETag (\"<version>.<revision>\")");
    return false;
  }
  return true;
}

/* The signer's password, checked as a login checks it. Answers 403
 * (wrong_password or locked) and audits report.sign.refused when it does
 * not hold; true when it does (or access control is off). */
static bool password_holds(const rr_identity *id, json_object *body, int64_t rid, const char *what,
                           OrthancPluginRestOutput *out)
{
  char err[ERR_SIZE] = "", res[32];
  int bad = 0, error;
  const char *password = rr_json_member_str(body, "password", &bad);

  if (deps->auth == NULL)
    return true;
  report_resource(res, rid);
  if (password == NULL || bad || password[0] == '\0' || strlen(password) > PASSWORD_MAX) {
    audit(id, "report.sign.refused", res, "denied", "no password");
    rr_reply_error(ctx, out, RR_API_WRONG_PASSWORD, "signing needs your password ('password')");
    return false;
  }
  error = rr_auth_verify_password(deps->auth, id->username, password, rr_filter_current_source(), err, sizeof(err));
  if (error == 0)
    return true;
  snprintf(err, sizeof(err), "%s: %s", what, error == RR_ELOCKED ? "account locked" : "wrong password");
  audit(id, "report.sign.refused", res, "denied", err);
  if (error == RR_ELOCKED)
    rr_reply_error(ctx, out, RR_API_LOCKED, "too many failed attempts: try again later");
  else if (error == RR_EINVAL)
    rr_reply_error(ctx, out, RR_API_WRONG_PASSWORD, "the password is not right: the report is not signed");
  else
    send_failure(out, error, "the password could not be checked");
  return false;
}

/* A text member of at most max bytes of UTF-8; `required` refuses an empty
 * or absent one. Answers 400 itself; NULL when absent and not required. */
static bool text_member(const char **out, json_object *body, const char *key, size_t max, bool required,
                        OrthancPluginRestOutput *o)
{
  char msg[160];
  int bad = 0;
  const char *s = rr_json_member_str(body, key, &bad);

  *out = s;
  if (bad || (s != NULL && (strlen(s) > max || rr_utf8_valid_prefix(s, strlen(s)) != strlen(s))) ||
      (required && (s == NULL || s[strspn(s, " \t\r\n")] == '\0'))) {
    snprintf(msg, sizeof(msg), "'%s' must be %sUTF-8 text of at most %zu bytes", key, required ? "non-empty " : "",
             max);
    rr_reply_error(ctx, o, RR_API_INVALID_ARGUMENT, msg);
    return false;
  }
  return true;
}

/* The fields' check against the report's template snapshot (400). */
static bool fields_hold(const rr_report *r, json_object *fields, OrthancPluginRestOutput *out)
{
  char err[ERR_SIZE] = "";
  int error;

  if (!json_object_is_type(fields, json_type_object)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "'fields' must be an object {\"<field id>\": value}");
    return false;
  }
  if ((error = rr_template_check_fields(r->template_json, json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN),
                                        err, sizeof(err))) < 0) {
    send_failure(out, error, err);
    return false;
  }
  return true;
}

/* 422 incomplete with the empty block fields, or true when none. */
static bool complete(const rr_report *r, const char *fields_json, OrthancPluginRestOutput *out)
{
  char *block = NULL, *warn = NULL, err[ERR_SIZE] = "";
  json_object *missing, *root, *e, *ids;
  int jerr = 0, error;
  size_t i, n;
  rr_buf msg;

  if ((error = rr_template_missing(&block, &warn, r->template_json, fields_json, err, sizeof(err))) < 0) {
    send_failure(out, error, err);
    return false;
  }
  missing = json_tokener_parse(block ? block : "[]");
  n = json_object_is_type(missing, json_type_array) ? json_object_array_length(missing) : 0;
  free(block);
  free(warn);
  if (n == 0) {
    json_object_put(missing);
    return true;
  }
  rr_buf_init(&msg, 4096);
  rr_buf_puts(&msg, "required fields are empty: ");
  ids = json_object_new_array();
  for (i = 0; i < n; i++) {
    e = json_object_array_get_idx(missing, i);
    rr_buf_printf(&msg, "%s%s", i ? ", " : "", rr_json_str(e, "label"));
    rr_json_append(ids, rr_json_string(rr_json_str(e, "id")), &jerr);
  }
  root = json_object_new_object();
  e = json_object_new_object();
  rr_json_set_str(e, "code", rr_api_error_info_of(RR_API_INCOMPLETE)->code, &jerr);
  rr_json_set_str(e, "message", msg.ptr ? msg.ptr : "", &jerr);
  rr_json_set(e, "fields", ids, &jerr);
  rr_json_set(root, "error", e, &jerr);
  rr_reply_built(ctx, out, 422, root, jerr);
  json_object_put(root);
  json_object_put(missing);
  rr_buf_dispose(&msg);
  return false;
}

/* "YYYY-MM-DDTHH:MM[:SS[.fff]]Z" (UTC) as unix ms; -1 when not one. */
static int64_t parse_iso_ms(const char *s)
{
  int y, mo, d, h, mi, n = 0;
  double sec = 0;
  int64_t days, yy;
  unsigned m;

  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5 || n == 0)
    return -1;
  s += n;
  if (*s == ':') {
    char *end;
    sec = strtod(s + 1, &end);
    s = end;
  }
  if (strcmp(s, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 ||
      sec >= 61)
    return -1;
  /* days from civil (H. Hinnant) */
  yy = y - (mo <= 2);
  m = (unsigned)mo;
  days = (yy / 400) * 146097 + (int64_t)((yy % 400) * 365 + (yy % 400) / 4 - (yy % 400) / 100) +
         (int64_t)((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + (unsigned)d - 1) - 719468;
  return ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)(sec * 1000);
}

/* The communication of a critical result for a final signature:
 * {"recipient", "method", "communicatedAt"?} as the stored JSON text
 * (*out, malloc'd) with communicatedAt in ms and recordedBy. Answers 422
 * (absent) or 400 (malformed) itself. */
static bool communication_of(char **out, json_object *body, const rr_identity *id, int64_t now,
                             OrthancPluginRestOutput *o)
{
  json_object *c = rr_json_obj(body, "communication"), *s;
  const char *recipient, *method, *at = NULL;
  int64_t when = now;
  int jerr = 0, bad = 0;

  *out = NULL;
  if (c == NULL || json_object_is_type(c, json_type_null)) {
    rr_reply_error(ctx, o, RR_API_INCOMPLETE,
                   "the report has a critical result: record its communication ('communication': {\"recipient\", "
                   "\"method\", \"communicatedAt\"}) to finalize it");
    return false;
  }
  recipient = rr_json_member_str(c, "recipient", &bad);
  method = rr_json_member_str(c, "method", &bad);
  at = rr_json_member_str(c, "communicatedAt", &bad);
  if (bad || recipient == NULL || method == NULL || recipient[0] == '\0' || method[0] == '\0' ||
      strlen(recipient) > 256 || strlen(method) > 64 || (at != NULL && (when = parse_iso_ms(at)) < 0)) {
    rr_reply_error(ctx, o, RR_API_INVALID_ARGUMENT,
                   "'communication' is {\"recipient\" (who was told), \"method\" (phone, in person...), "
                   "\"communicatedAt\"? (ISO 8601 UTC)}");
    return false;
  }
  s = json_object_new_object();
  rr_json_set_str(s, "recipient", recipient, &jerr);
  rr_json_set_str(s, "method", method, &jerr);
  rr_json_set(s, "communicatedAt", json_object_new_int64(when), &jerr);
  rr_json_set_str(s, "recordedBy", id->username, &jerr);
  if (jerr == 0)
    *out = strdup(json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN));
  json_object_put(s);
  if (*out == NULL) {
    send_failure(o, RR_ENOMEM, "out of memory");
    return false;
  }
  return true;
}

/* ---------------------------------------------------------------- signing */

/* What one signature renders and writes. */
typedef struct signing {
  const rr_identity *id;
  const rr_report *r;
  rr_report_compose_in in;
  unsigned char *pdf;
  size_t pdf_size;
  char sha[RR_HASH_HEX_SIZE];
  bool key_images;
} signing;

/* The PDF is rendered on a thread of its own with a large stack
 * (util/big_stack.h): fontconfig's first parse of its configuration
 * overflowed an Orthanc HTTP thread's stack (SIGSEGV in libfontconfig). */
typedef struct render_job {
  const rr_report_doc *doc;
  unsigned char *pdf;
  size_t pdf_size;
  char err[ERR_SIZE];
  int error;
} render_job;

static void render_on_big_stack(void *arg)
{
  render_job *j = arg;

  j->error = rr_report_pdf_render(&j->pdf, &j->pdf_size, j->doc, NULL, j->err, sizeof(j->err));
}

static int render_pdf(unsigned char **pdf, size_t *pdf_size, const rr_report_doc *doc, char *err, size_t errsize)
{
  render_job j;

  memset(&j, 0, sizeof(j));
  j.doc = doc;
  if (rr_big_stack_run(render_on_big_stack, &j, 0) < 0)
    return rr_fail(err, errsize, RR_ENOMEM, "cannot start the PDF renderer");
  if (j.error < 0) {
    free(j.pdf);
    return rr_fail(err, errsize, j.error, "%s", j.err);
  }
  *pdf = j.pdf;
  *pdf_size = j.pdf_size;
  return 0;
}

/* Compose the version, render its PDF and hash it (the bytes kept as
 * evidence). */
static int render(signing *s, char *err, size_t errsize)
{
  rr_report_doc *doc = NULL;
  int error;

  if (deps->report_composer == NULL)
    return rr_fail(err, errsize, RR_ERROR, "reports are not set up");
  s->in.images = true;
  if ((error = rr_report_compose(&doc, deps->report_composer, s->r, &s->in, err, errsize)) < 0)
    return error;
  s->key_images = doc->image_count > 0;
  error = render_pdf(&s->pdf, &s->pdf_size, doc, err, errsize);
  rr_report_doc_free(doc);
  if (error < 0)
    return error;
  return rr_sha256_hex(s->sha, s->pdf, s->pdf_size);
}

/* A refusal of compose/render/store as an answer: a finding no longer
 * reviewed is 409 not_reviewed. */
static void send_sign_failure(OrthancPluginRestOutput *out, int error, const char *err)
{
  if (error == RR_ECONFLICT && strstr(err, "AI analysis") != NULL)
    rr_reply_error(ctx, out, RR_API_NOT_REVIEWED, err);
  else
    send_failure(out, error, err);
}

/* After a final signature: the PDF, the SR and the key images go into the
 * archive (the outputs worker). A failure to queue is logged: the outputs
 * page shows the version without outputs, and the signature stands. */
static void enqueue_outputs(int64_t rid, int64_t version, bool key_images)
{
  if (deps->report_outputs == NULL)
    return;
  if (rr_report_outputs_enqueue(deps->report_outputs, rid, version, key_images) < 0)
    rr_log_error("reports: cannot queue the archive outputs of report %lld version %lld", (long long)rid,
                 (long long)version);
}

/* ------------------------------------------------------------- handlers */

/* PUT reports/{id}/draft {"fields"?, "inserts"?, "critical"?} + If-Match */
static void do_draft(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const rr_identity *id,
                     int64_t rid)
{
  rr_report_expect e;
  rr_report *r = NULL;
  json_object *body = NULL, *fields, *inserts, *crit, *checked = NULL;
  char err[ERR_SIZE] = "", res[32];
  int critical = -1, error;
  const char *fields_json = NULL;

  if (!if_match(&e, req, out) || (body = rr_reply_parse_body(ctx, out, req, MAX_BODY, 0)) == NULL ||
      !load_report(&r, rid, id, out))
    goto out;
  fields = rr_json_obj(body, "fields");
  inserts = rr_json_obj(body, "inserts");
  crit = rr_json_obj(body, "critical");
  if (crit != NULL && !json_object_is_type(crit, json_type_boolean)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "'critical' must be true or false");
    goto out;
  }
  if (crit != NULL)
    critical = json_object_get_boolean(crit) ? 1 : 0;
  if (fields != NULL && !fields_hold(r, fields, out))
    goto out;
  if (fields != NULL)
    fields_json = json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN);
  if (inserts != NULL && deps->report_composer != NULL &&
      (error = rr_report_compose_check_inserts(&checked, deps->report_composer, r->study_uid, inserts, err,
                                               sizeof(err))) < 0) {
    if (error == RR_ECONFLICT)
      rr_reply_error(ctx, out, RR_API_NOT_REVIEWED, err);
    else
      send_failure(out, error, err);
    goto out;
  }
  error = rr_store_report_save_draft(deps->store, NULL, rid, &e, fields_json,
                                     checked ? json_object_to_json_string_ext(checked, JSON_C_TO_STRING_PLAIN) : NULL,
                                     critical, id->username, rr_clock_unix_ms(), err, sizeof(err));
  report_resource(res, rid);
  if (error < 0) {
    if (error == RR_ECONFLICT)
      snprintf(err, sizeof(err), "a report in state %s has no draft to change", r->state);
    audit(id, "report.draft", res, "failure", error == RR_ESTALE ? "stale If-Match" : "refused");
    send_failure(out, error, error == RR_ESTALE ? "the report changed since you read it: reload it" : err);
    goto out;
  }
  snprintf(err, sizeof(err), "%s%s%s", fields_json ? "fields " : "", checked ? "inserts " : "",
           critical >= 0 ? (critical ? "critical on" : "critical off") : "");
  audit(id, "report.draft", res, "success", err);
  send_report(out, 200, rid, false);
out:
  json_object_put(checked);
  json_object_put(body);
  rr_report_free(r);
}

/* The store's idea of the next version and of the current state must be
 * the caller's (If-Match); 412 otherwise, before anything is rendered. */
static bool next_version(int64_t *version, int64_t rid, const rr_report_expect *e, OrthancPluginRestOutput *out)
{
  rr_report_expect now;
  char err[ERR_SIZE] = "";
  int error;

  if ((error = rr_store_report_next_version(deps->store, version, &now, rid, err, sizeof(err))) < 0) {
    send_failure(out, error, err);
    return false;
  }
  if (e != NULL && (now.version != e->version || now.revision != e->revision)) {
    rr_reply_error(ctx, out, RR_API_VERSION_MISMATCH, "the report changed since you read it: reload it");
    return false;
  }
  return true;
}

/* POST reports/{id}/sign {"password", "status", "communication"?} + If-Match */
static void do_sign(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const rr_identity *id,
                    int64_t rid)
{
  rr_report_expect e;
  rr_report *r = NULL;
  rr_report_signature sig;
  signing s;
  json_object *body = NULL;
  char err[ERR_SIZE] = "", res[32], *critical = NULL;
  const char *status;
  int64_t now = rr_clock_unix_ms(), signed_version = 0;
  int bad = 0, error;

  memset(&s, 0, sizeof(s));
  report_resource(res, rid);
  if (!if_match(&e, req, out) || (body = rr_reply_parse_body(ctx, out, req, 64 * 1024, 0)) == NULL ||
      !load_report(&r, rid, id, out))
    goto out;
  status = rr_json_member_str(body, "status", &bad);
  if (status == NULL || (strcmp(status, "preliminary") != 0 && strcmp(status, "final") != 0)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "'status' must be preliminary or final");
    goto out;
  }
  if (strcmp(r->state, "draft") != 0 && strcmp(r->state, "preliminary") != 0) {
    snprintf(err, sizeof(err), "a report in state %s cannot be signed (an addendum or a correction can)", r->state);
    rr_reply_error(ctx, out, RR_API_CONFLICT, err);
    goto out;
  }
  if (!password_holds(id, body, rid, "sign", out) || !complete(r, latest(r)->fields_json, out))
    goto out;
  if (strcmp(status, "final") == 0 && r->critical && !communication_of(&critical, body, id, now, out))
    goto out;
  if (!next_version(&s.in.version, rid, &e, out))
    goto out;
  s.id = id;
  s.r = r;
  s.in.kind = latest(r)->kind;
  s.in.status = status;
  s.in.fields_json = latest(r)->fields_json;
  s.in.inserts_json = latest(r)->inserts_json;
  s.in.text = latest(r)->text;
  s.in.signed_by = id->username;
  s.in.signed_at = now;
  s.in.critical_json = critical;
  if ((error = render(&s, err, sizeof(err))) < 0) {
    send_sign_failure(out, error, err);
    goto out;
  }
  memset(&sig, 0, sizeof(sig));
  sig.signed_by = id->username;
  sig.signed_at = now;
  sig.pdf = s.pdf;
  sig.pdf_size = s.pdf_size;
  sig.pdf_sha256 = s.sha;
  sig.critical_json = critical;
  if ((error = rr_store_report_sign(deps->store, &signed_version, rid, &e, status, &sig, err, sizeof(err))) < 0) {
    audit(id, "report.sign", res, "failure", error == RR_ESTALE ? "stale If-Match" : "refused by the store");
    send_failure(out, error, error == RR_ESTALE ? "the report changed since you read it: reload it" : err);
    goto out;
  }
  snprintf(err, sizeof(err), "%s, version %lld", status, (long long)signed_version);
  audit(id, "report.sign", res, "success", err);
  if (strcmp(status, "final") == 0)
    enqueue_outputs(rid, signed_version, s.key_images);
  send_report(out, 200, rid, false);
out:
  free(s.pdf);
  free(critical);
  json_object_put(body);
  rr_report_free(r);
}

static const rr_report_version *prevailing(const rr_report *r)
{
  size_t i;

  for (i = 0; i < r->version_count; i++)
    if (r->versions[i].version == r->prevailing_version)
      return &r->versions[i];
  return NULL;
}

/* POST reports/{id}/addenda {"password", "text"} and
 * POST reports/{id}/corrections {"password", "fields", "reason"}: a new
 * signed final version of a final report. */
static void do_new_version(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const rr_identity *id,
                           int64_t rid, bool addendum)
{
  rr_report *r = NULL;
  rr_report_signature sig;
  const rr_report_version *p;
  signing s;
  json_object *body = NULL, *fields = NULL;
  char err[ERR_SIZE] = "", res[32];
  const char *text, *fields_json;
  int64_t now = rr_clock_unix_ms(), version = 0;
  int error;

  memset(&s, 0, sizeof(s));
  report_resource(res, rid);
  if ((body = rr_reply_parse_body(ctx, out, req, MAX_BODY, 0)) == NULL || !load_report(&r, rid, id, out))
    goto out;
  if (!text_member(&text, body, addendum ? "text" : "reason", RR_REPORT_TEXT_MAX, true, out))
    goto out;
  if (!final_state(r->state) || (p = prevailing(r)) == NULL) {
    snprintf(err, sizeof(err), "only a final report takes %s (this one is %s)", addendum ? "addenda" : "corrections",
             r->state);
    rr_reply_error(ctx, out, RR_API_CONFLICT, err);
    goto out;
  }
  fields_json = p->fields_json;
  if (!addendum) {
    if ((fields = rr_json_obj(body, "fields")) == NULL) {
      rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "a correction needs the corrected 'fields'");
      goto out;
    }
    if (!fields_hold(r, fields, out))
      goto out;
    fields_json = json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN);
    if (!complete(r, fields_json, out))
      goto out;
  }
  if (!password_holds(id, body, rid, addendum ? "addendum" : "correction", out) ||
      !next_version(&s.in.version, rid, NULL, out))
    goto out;
  s.id = id;
  s.r = r;
  s.in.kind = addendum ? "addendum" : "correction";
  s.in.status = "final";
  s.in.fields_json = fields_json;
  s.in.inserts_json = p->inserts_json;
  s.in.text = text;
  s.in.signed_by = id->username;
  s.in.signed_at = now;
  if ((error = render(&s, err, sizeof(err))) < 0) {
    send_sign_failure(out, error, err);
    goto out;
  }
  memset(&sig, 0, sizeof(sig));
  sig.signed_by = id->username;
  sig.signed_at = now;
  sig.pdf = s.pdf;
  sig.pdf_size = s.pdf_size;
  sig.pdf_sha256 = s.sha;
  error = rr_store_report_add_version(deps->store, &version, rid, r->prevailing_version, s.in.kind,
                                      fields_json, text, &sig, err, sizeof(err));
  if (error < 0) {
    audit(id, addendum ? "report.addendum" : "report.correction", res, "failure", "refused by the store");
    send_failure(out, error, error == RR_ESTALE ? "the report changed since you read it: reload it" : err);
    goto out;
  }
  snprintf(err, sizeof(err), "version %lld", (long long)version);
  audit(id, addendum ? "report.addendum" : "report.correction", res, "success", err);
  enqueue_outputs(rid, version, s.key_images);
  send_report(out, 201, rid, false);
out:
  free(s.pdf);
  json_object_put(body);
  rr_report_free(r);
}

/* POST reports/{id}/cancel and .../entered-in-error {"reason"} */
static void do_close(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const rr_identity *id,
                     int64_t rid, bool in_error)
{
  json_object *body;
  const char *reason, *action = in_error ? "report.entered-in-error" : "report.cancel";
  char err[ERR_SIZE] = "", res[32];
  int error;

  report_resource(res, rid);
  if ((body = rr_reply_parse_body(ctx, out, req, RR_REPORT_TEXT_MAX + 1024, 0)) == NULL)
    return;
  if (!text_member(&reason, body, "reason", RR_REPORT_TEXT_MAX, true, out)) {
    json_object_put(body);
    return;
  }
  if (in_error)
    error = rr_store_report_entered_in_error(deps->store, rid, id->username, reason, rr_clock_unix_ms(), err,
                                             sizeof(err));
  else
    error = rr_store_report_cancel(deps->store, rid, id->username, reason, rr_clock_unix_ms(), err, sizeof(err));
  json_object_put(body);
  if (error < 0) {
    if (error != RR_ENOTFOUND)
      audit(id, action, res, "failure", "refused");
    send_failure(out, error, error == RR_ENOTFOUND ? "no such report" : err);
    return;
  }
  audit(id, action, res, "success", "");
  send_report(out, 200, rid, false);
}

/* POST reports/{id}/acknowledge */
static void do_acknowledge(OrthancPluginRestOutput *out, const rr_identity *id, int64_t rid)
{
  rr_report *r = NULL;
  char err[ERR_SIZE] = "", res[32];
  int error;

  if (!load_report(&r, rid, id, out))
    return;
  rr_report_free(r);
  report_resource(res, rid);
  if ((error = rr_store_report_acknowledge(deps->store, rid, id->username, rr_clock_unix_ms(), err, sizeof(err))) <
      0) {
    send_failure(out, error, error == RR_ECONFLICT ? "the report has no critical result to acknowledge" : err);
    return;
  }
  audit(id, "report.acknowledge", res, "success", "");
  send_report(out, 200, rid, physician(id));
}

/* The version a PDF or FHIR request is about: ?version=n, else the
 * prevailing one, else (not for physicians) the latest signed one. 0 when
 * there is none the caller may have; -1 when the argument is malformed. */
static int64_t version_wanted(const OrthancPluginHttpRequest *req, const rr_report *r, bool for_physician)
{
  char buf[24];
  const char *arg = rr_args_query(req, "version", buf, sizeof(buf));
  int64_t n = 0;
  size_t i;

  if (arg == NULL || (arg[0] != '\0' && rr_parse_i64(&n, arg, 1, INT64_MAX) < 0))
    return -1;
  if (n == 0) {
    n = r->prevailing_version;
    for (i = r->version_count; n == 0 && !for_physician && i > 0; i--)
      if (r->versions[i - 1].signed_at > 0)
        n = r->versions[i - 1].version;
  }
  for (i = 0; i < r->version_count; i++)
    if (r->versions[i].version == n)
      return r->versions[i].signed_at > 0 && (!for_physician || strcmp(r->versions[i].status, "final") == 0) ? n : 0;
  return 0;
}

/* GET reports/{id}/pdf[?version=n] */
static void do_pdf(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const rr_identity *id,
                   int64_t rid)
{
  rr_report *r = NULL;
  rr_report_version v;
  char err[ERR_SIZE] = "", res[32], header[128], etag[RR_HASH_HEX_SIZE + 2];
  int64_t n;
  int error;

  memset(&v, 0, sizeof(v));
  if (!load_report(&r, rid, id, out))
    return;
  report_resource(res, rid);
  if ((n = version_wanted(req, r, physician(id))) <= 0) {
    rr_reply_error(ctx, out, n < 0 ? RR_API_INVALID_ARGUMENT : RR_API_NOT_FOUND,
                   n < 0 ? "'version' must be a version number" : "no signed version of this report to show");
    goto out;
  }
  if ((error = rr_store_report_pdf(deps->store, &v, rid, n, err, sizeof(err))) < 0 || v.pdf == NULL) {
    send_failure(out, error < 0 ? error : RR_ENOTFOUND, error == RR_ENOTFOUND || error == 0 ? "no PDF for this version" : err);
    goto out;
  }
  snprintf(header, sizeof(header), "attachment; filename=\"report-%lld-v%lld.pdf\"", (long long)rid, (long long)n);
  OrthancPluginSetHttpHeader(ctx, out, "Content-Disposition", header);
  snprintf(etag, sizeof(etag), "\"%s\"", v.pdf_sha256);
  OrthancPluginSetHttpHeader(ctx, out, "ETag", etag);
  OrthancPluginSetHttpHeader(ctx, out, "Cache-Control", "private, no-store");
  OrthancPluginSetHttpHeader(ctx, out, "X-Content-Type-Options", "nosniff");
  rr_reply_security_headers(ctx, out);
  OrthancPluginAnswerBuffer(ctx, out, v.pdf, (uint32_t)v.pdf_size, "application/pdf");
  snprintf(err, sizeof(err), "version %lld", (long long)n);
  audit(id, "report.pdf", res, "success", err);
out:
  rr_report_version_dispose(&v);
  rr_report_free(r);
}

/* GET reports/{id}/fhir: the prevailing version (else the latest signed
 * one) as a FHIR R4 DiagnosticReport. */
static void do_fhir(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const rr_identity *id,
                    int64_t rid)
{
  rr_report *r = NULL;
  rr_report_doc *doc = NULL;
  unsigned char *pdf = NULL;
  size_t pdf_size = 0, len = 0;
  json_object *o = NULL;
  char err[ERR_SIZE] = "", res[32], url[RR_ROOT_SIZE + 64];
  const char *text;
  int64_t n;
  int error;

  if (!load_report(&r, rid, id, out))
    return;
  report_resource(res, rid);
  if ((n = version_wanted(req, r, physician(id))) <= 0) {
    rr_reply_error(ctx, out, n < 0 ? RR_API_INVALID_ARGUMENT : RR_API_NOT_FOUND,
                   n < 0 ? "'version' must be a version number" : "no signed version of this report to show");
    goto out;
  }
  snprintf(url, sizeof(url), "%sreports/%lld/pdf?version=%lld", api_root, (long long)rid, (long long)n);
  if ((error = rr_report_compose_load(deps->report_composer, &doc, &pdf, &pdf_size, rid, n, err, sizeof(err))) < 0 ||
      (error = rr_report_fhir(&o, doc, r->state, doc->signed_at, url, pdf, pdf_size, err, sizeof(err))) < 0) {
    send_failure(out, error, err);
    goto out;
  }
  text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  OrthancPluginSetHttpHeader(ctx, out, "Cache-Control", "no-store");
  OrthancPluginSetHttpHeader(ctx, out, "X-Content-Type-Options", "nosniff");
  rr_reply_security_headers(ctx, out);
  OrthancPluginAnswerBuffer(ctx, out, text, (uint32_t)len, "application/fhir+json");
  audit(id, "report.fhir", res, "success", "");
out:
  json_object_put(o);
  free(pdf);
  rr_report_doc_free(doc);
  rr_report_free(r);
}

/* {root}reports/{id}/{action} */
static OrthancPluginErrorCode on_action(OrthancPluginRestOutput *out, const char *url,
                                        const OrthancPluginHttpRequest *req)
{
  static const struct {
    const char *name;
    OrthancPluginHttpMethod method;
    const char *allowed;
  } actions[] = {
    {"draft", OrthancPluginHttpMethod_Put, "PUT"},
    {"sign", OrthancPluginHttpMethod_Post, "POST"},
    {"addenda", OrthancPluginHttpMethod_Post, "POST"},
    {"corrections", OrthancPluginHttpMethod_Post, "POST"},
    {"cancel", OrthancPluginHttpMethod_Post, "POST"},
    {"entered-in-error", OrthancPluginHttpMethod_Post, "POST"},
    {"acknowledge", OrthancPluginHttpMethod_Post, "POST"},
    {"pdf", OrthancPluginHttpMethod_Get, "GET"},
    {"fhir", OrthancPluginHttpMethod_Get, "GET"},
  };
  rr_identity id;
  int64_t rid;
  size_t k;

  (void)url;
  for (k = 0; k < sizeof(actions) / sizeof(actions[0]); k++)
    if (strcmp(req->groups[1], actions[k].name) == 0)
      break;
  if (k == sizeof(actions) / sizeof(actions[0])) {
    rr_reply_error(ctx, out, RR_API_NOT_FOUND, "no such API route");
    return OrthancPluginErrorCode_Success;
  }
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, actions[k].method, actions[k].allowed);
  if (caller(&id, out) < 0 || !report_id(&rid, req->groups[0], out))
    return OrthancPluginErrorCode_Success;
  switch (k) {
  case 0: do_draft(out, req, &id, rid); break;
  case 1: do_sign(out, req, &id, rid); break;
  case 2: do_new_version(out, req, &id, rid, true); break;
  case 3: do_new_version(out, req, &id, rid, false); break;
  case 4: do_close(out, req, &id, rid, false); break;
  case 5: do_close(out, req, &id, rid, true); break;
  case 6: do_acknowledge(out, &id, rid); break;
  case 7: do_pdf(out, req, &id, rid); break;
  default: do_fhir(out, req, &id, rid); break;
  }
  return OrthancPluginErrorCode_Success;
}

/* GET {root}reports/{id} */
static OrthancPluginErrorCode on_report(OrthancPluginRestOutput *out, const char *url,
                                        const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  rr_report *r = NULL;
  json_object *o;
  int64_t rid;
  char res[32], etag[48];

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (caller(&id, out) < 0 || !report_id(&rid, req->groups[0], out) || !load_report(&r, rid, &id, out))
    return OrthancPluginErrorCode_Success;
  o = report_json(r, physician(&id));
  etag_of(etag, r);
  OrthancPluginSetHttpHeader(ctx, out, "ETag", etag);
  rr_reply_json(ctx, out, 200, o);
  json_object_put(o);
  report_resource(res, rid);
  audit(&id, "report.read", res, "success", "");
  rr_report_free(r);
  return OrthancPluginErrorCode_Success;
}

/* POST {root}reports {"studyInstanceUid", "templateId"?} -> 201 */
static void do_create(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const rr_identity *id)
{
  rr_study_detail *d = NULL;
  rr_report_expect e = {1, 1};
  json_object *body;
  char err[ERR_SIZE] = "", tid[RR_REPORT_TEMPLATE_ID_SIZE] = "", res[32], *tpl = NULL, *defaults = NULL;
  const char *uid, *given;
  bool retired = false;
  int64_t rid = 0, open_id = 0;
  int bad = 0, error;

  if ((body = rr_reply_parse_body(ctx, out, req, 4096, 0)) == NULL)
    return;
  uid = rr_json_member_str(body, "studyInstanceUid", &bad);
  given = rr_json_member_str(body, "templateId", &bad);
  if (bad || uid == NULL || !rr_args_study_uid_ok(uid) || (given != NULL && strlen(given) >= sizeof(tid))) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "the body is {\"studyInstanceUid\", \"templateId\"?}");
    goto out;
  }
  if ((error = rr_store_get_study(deps->store, &d, uid, err, sizeof(err))) < 0) {
    send_failure(out, error, error == RR_ENOTFOUND ? "no such study" : err);
    goto out;
  }
  if (given != NULL) {
    rr_str_copy(tid, sizeof(tid), given);
  } else {
    const char *body_part = d->series_count > 0 ? d->series[0].series.body_part : "";
    if ((error = rr_templates_choose(tid, sizeof(tid), deps->templates, d->study.modalities, body_part,
                                     d->study.study_description)) < 0) {
      send_failure(out, error, "the templates cannot be read");
      goto out;
    }
  }
  if ((error = rr_templates_get(&tpl, &retired, deps->templates, tid, err, sizeof(err))) < 0) {
    send_failure(out, error == RR_ENOTFOUND ? RR_EINVAL : error, error == RR_ENOTFOUND ? "no such template" : err);
    goto out;
  }
  if (retired) {
    rr_reply_error(ctx, out, RR_API_CONFLICT, "the template is retired: choose another one");
    goto out;
  }
  if ((error = rr_template_defaults(&defaults, tpl, err, sizeof(err))) < 0) {
    send_failure(out, error, err);
    goto out;
  }
  error = rr_store_report_create(deps->store, &rid, uid, tid, tpl, id->username, rr_clock_unix_ms(), err, sizeof(err));
  if (error == RR_EEXISTS) {
    rr_store_report_open_for_study(deps->store, &open_id, uid, NULL, 0);
    snprintf(err, sizeof(err), "the study has an open report already: %lld", (long long)open_id);
    rr_reply_error(ctx, out, RR_API_ALREADY_EXISTS, err);
    goto out;
  }
  if (error < 0 || (error = rr_store_report_save_draft(deps->store, NULL, rid, &e, defaults, NULL, -1, id->username,
                                                      rr_clock_unix_ms(), err, sizeof(err))) < 0) {
    send_failure(out, error, err);
    goto out;
  }
  report_resource(res, rid);
  audit(id, "report.create", res, "success", tid);
  send_report(out, 201, rid, false);
out:
  free(defaults);
  free(tpl);
  rr_study_detail_free(d);
  json_object_put(body);
}

/* The list query of GET reports from the arguments; a physician's is
 * narrowed to final states and their scope. Answers 400 itself. */
static bool list_query(rr_report_query *q, bool *nothing, const OrthancPluginHttpRequest *req, const rr_identity *id,
                       OrthancPluginRestOutput *out)
{
  char buf[RR_QUERY_VALUE_SIZE], *tok, *save = NULL;
  const char *v;
  int64_t n;
  size_t i;

  memset(q, 0, sizeof(*q));
  if ((v = rr_args_query(req, "state", buf, sizeof(buf))) == NULL)
    goto bad;
  if (v != buf) /* no `state` argument: v is a constant "" and buf was never written */
    buf[0] = '\0';
  for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
    bool keep = !physician(id) || final_state(tok);
    if (strlen(tok) >= RR_REPORT_STATE_SIZE || q->state_count == 8)
      goto bad;
    if (keep)
      rr_str_copy(q->states[q->state_count++], RR_REPORT_STATE_SIZE, tok);
  }
  *nothing = physician(id) && q->state_count == 0 && v[0] != '\0'; /* states a physician never sees */
  if (physician(id) && q->state_count == 0)
    for (i = 0; i < 3; i++)
      rr_str_copy(q->states[q->state_count++], RR_REPORT_STATE_SIZE, final_states[i]);
  if (rr_args_query(req, "q", q->text, sizeof(q->text)) == NULL ||
      rr_args_query(req, "patientId", q->patient_id, sizeof(q->patient_id)) == NULL)
    goto bad;
  if ((v = rr_args_query(req, "limit", buf, sizeof(buf))) == NULL || (v[0] && rr_parse_i64(&n, v, 1, 500) < 0))
    goto bad;
  q->limit = v[0] ? (size_t)n : 50;
  if ((v = rr_args_query(req, "offset", buf, sizeof(buf))) == NULL || (v[0] && rr_parse_i64(&n, v, 0, 1000000) < 0))
    goto bad;
  q->offset = v[0] ? (size_t)n : 0;
  rr_str_copy(q->username, sizeof(q->username), id->username);
  if (physician(id) && deps->report_access != NULL &&
      rr_report_access_scope(deps->report_access) == RR_PHYSICIAN_SCOPE_REFERRING) {
    rr_report_access_pn_of(q->referring, sizeof(q->referring), id->display_name);
    if (q->referring[0] == '\0')
      rr_str_copy(q->referring, sizeof(q->referring), "^^^nobody^^^");
  }
  return true;
bad:
  rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                 "arguments: state (comma-separated states), q, patientId, limit (1-500), offset");
  return false;
}

static json_object *row_json(const rr_report_row *w)
{
  int jerr = 0;
  json_object *o = json_object_new_object();
  char id[24];

  snprintf(id, sizeof(id), "%lld", (long long)w->id);
  rr_json_set_str(o, "reportId", id, &jerr);
  rr_json_set_str(o, "studyInstanceUid", w->study_uid, &jerr);
  rr_json_set_str(o, "state", w->state, &jerr);
  rr_json_set_str(o, "templateId", w->template_id, &jerr);
  rr_json_set(o, "critical", json_object_new_boolean(w->critical), &jerr);
  rr_json_set(o, "acknowledged", json_object_new_boolean(w->acknowledged), &jerr);
  rr_json_set_str(o, "patientName", w->patient_name, &jerr);
  rr_json_set_str(o, "patientId", w->patient_id, &jerr);
  rr_json_set_str(o, "patientBirthDate", w->patient_birth_date, &jerr);
  rr_json_set_str(o, "studyDate", w->study_date, &jerr);
  rr_json_set_str(o, "studyDescription", w->study_description, &jerr);
  rr_json_set_str(o, "accessionNumber", w->accession_number, &jerr);
  rr_json_set_str(o, "referringPhysicianName", w->referring_physician, &jerr);
  rr_json_set(o, "modalities", rr_json_split_values(w->modalities), &jerr);
  rr_json_set_opt(o, "signedBy", w->signed_by[0] != '\0', rr_json_string(w->signed_by), &jerr);
  add_ms(o, "signedAt", w->signed_at, &jerr);
  add_ms(o, "updatedAt", w->updated_at, &jerr);
  return rr_json_done(o, jerr);
}

static void do_list(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const rr_identity *id)
{
  rr_report_query q;
  rr_report_row_list *list = NULL;
  json_object *o, *arr;
  char err[ERR_SIZE] = "";
  size_t i;
  int jerr = 0, error;
  bool nothing = false;

  if (!list_query(&q, &nothing, req, id, out))
    return;
  if (nothing) {
    o = json_object_new_object();
    rr_json_set(o, "data", json_object_new_array(), &jerr);
    rr_json_set(o, "total", json_object_new_int64(0), &jerr);
    rr_reply_built(ctx, out, 200, o, jerr);
    json_object_put(o);
    return;
  }
  if ((error = rr_store_report_list(deps->store, &list, &q, err, sizeof(err))) < 0) {
    send_failure(out, error, err);
    return;
  }
  o = json_object_new_object();
  arr = json_object_new_array();
  for (i = 0; i < list->count; i++)
    rr_json_append(arr, row_json(&list->items[i]), &jerr);
  rr_json_set(o, "data", arr, &jerr);
  rr_json_set(o, "total", json_object_new_int64(list->total), &jerr);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
  rr_report_row_list_free(list);
}

/* {root}reports: GET the list, POST a new report */
static OrthancPluginErrorCode on_reports(OrthancPluginRestOutput *out, const char *url,
                                         const OrthancPluginHttpRequest *req)
{
  rr_identity id;

  (void)url;
  if (req->method != OrthancPluginHttpMethod_Get && req->method != OrthancPluginHttpMethod_Post) {
    rr_reply_method_not_allowed(ctx, out, "GET,POST");
    return OrthancPluginErrorCode_Success;
  }
  if (caller(&id, out) < 0)
    return OrthancPluginErrorCode_Success;
  if (req->method == OrthancPluginHttpMethod_Get)
    do_list(out, req, &id);
  else
    do_create(out, req, &id);
  return OrthancPluginErrorCode_Success;
}

/* {"data": [{"name", "text", "updatedAt"}]}: the user's macros by name */
static void send_macros(OrthancPluginRestOutput *out, const char *username)
{
  rr_macro_list *list = NULL;
  json_object *o, *arr, *m;
  char err[ERR_SIZE] = "";
  size_t i;
  int jerr = 0, error;

  if ((error = rr_store_macro_list(deps->store, &list, username, err, sizeof(err))) < 0) {
    send_failure(out, error, err);
    return;
  }
  o = json_object_new_object();
  arr = json_object_new_array();
  for (i = 0; i < list->count; i++) {
    m = json_object_new_object();
    rr_json_set_str(m, "name", list->items[i].name, &jerr);
    rr_json_set_str(m, "text", list->items[i].text, &jerr);
    add_ms(m, "updatedAt", list->items[i].updated_at, &jerr);
    rr_json_append(arr, m, &jerr);
  }
  rr_json_set(o, "data", arr, &jerr);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
  rr_macro_list_free(list);
}

/* GET {root}reports/macros: the caller's macros */
static OrthancPluginErrorCode on_macros(OrthancPluginRestOutput *out, const char *url,
                                        const OrthancPluginHttpRequest *req)
{
  rr_identity id;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (caller(&id, out) == 0)
    send_macros(out, id.username);
  return OrthancPluginErrorCode_Success;
}

/* A macro name of the route: 1..64 bytes of UTF-8 without control
 * characters (decoded once by Orthanc). */
static bool macro_name_ok(const char *name)
{
  size_t i, n = strlen(name);

  if (n == 0 || n >= RR_MACRO_NAME_SIZE || rr_utf8_valid_prefix(name, n) != n)
    return false;
  for (i = 0; i < n; i++)
    if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
      return false;
  return true;
}

/* PUT|DELETE {root}reports/macros/{name} */
static OrthancPluginErrorCode on_macro(OrthancPluginRestOutput *out, const char *url,
                                       const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  json_object *body;
  const char *name = req->groups[0], *text;
  char err[ERR_SIZE] = "";
  int error;

  (void)url;
  if (req->method != OrthancPluginHttpMethod_Put && req->method != OrthancPluginHttpMethod_Delete) {
    rr_reply_method_not_allowed(ctx, out, "PUT,DELETE");
    return OrthancPluginErrorCode_Success;
  }
  if (caller(&id, out) < 0)
    return OrthancPluginErrorCode_Success;
  if (!macro_name_ok(name)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "a macro's name is 1 to 64 bytes of text");
    return OrthancPluginErrorCode_Success;
  }
  if (req->method == OrthancPluginHttpMethod_Delete) {
    if ((error = rr_store_macro_remove(deps->store, id.username, name, err, sizeof(err))) < 0) {
      send_failure(out, error, error == RR_ENOTFOUND ? "no such macro" : err);
      return OrthancPluginErrorCode_Success;
    }
    audit(&id, "macro.remove", id.username, "success", "");
    send_macros(out, id.username);
    return OrthancPluginErrorCode_Success;
  }
  if ((body = rr_reply_parse_body(ctx, out, req, RR_MACRO_TEXT_MAX + 1024, 0)) == NULL)
    return OrthancPluginErrorCode_Success;
  if (text_member(&text, body, "text", RR_MACRO_TEXT_MAX, true, out)) {
    if ((error = rr_store_macro_put(deps->store, id.username, name, text, rr_clock_unix_ms(), err, sizeof(err))) < 0)
      send_failure(out, error, error == RR_EFULL ? "at most 500 macros per user" : err);
    else
      audit(&id, "macro.put", id.username, "success", "");
  } else {
    error = -1;
  }
  json_object_put(body);
  if (error == 0)
    send_macros(out, id.username);
  return OrthancPluginErrorCode_Success;
}

/* GET {root}dicom/studies/{uid}/reports: newest first; physicians see the
 * final ones with their final versions only. */
static OrthancPluginErrorCode on_study_reports(OrthancPluginRestOutput *out, const char *url,
                                               const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  rr_report_list *list = NULL;
  json_object *o, *arr;
  char err[ERR_SIZE] = "";
  bool may;
  size_t i;
  int jerr = 0, error;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (caller(&id, out) < 0)
    return OrthancPluginErrorCode_Success;
  if (!rr_args_study_uid_ok(req->groups[0])) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "not a Study Instance UID");
    return OrthancPluginErrorCode_Success;
  }
  if ((error = rr_store_report_for_study(deps->store, &list, req->groups[0], err, sizeof(err))) < 0) {
    send_failure(out, error, error == RR_ENOTFOUND ? "no such study" : err);
    return OrthancPluginErrorCode_Success;
  }
  o = json_object_new_object();
  arr = json_object_new_array();
  for (i = 0; i < list->count; i++) {
    may = true;
    if (physician(&id) && (physician_may_read(&may, &id, &list->items[i], err, sizeof(err)) < 0 || !may))
      continue;
    rr_json_append(arr, report_json(&list->items[i], physician(&id)), &jerr);
  }
  rr_json_set(o, "data", arr, &jerr);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
  rr_report_list_free(list);
  if (physician(&id))
    audit(&id, "report.read", req->groups[0], "success", "study reports");
  return OrthancPluginErrorCode_Success;
}

/* ------------------------------------------------------------ turnaround */

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

  return x < y ? -1 : x > y;
}

/* {"median", "p90", "studies"} of n durations in seconds (nearest rank);
 * median and p90 null when n is 0. Sorts v. */
static json_object *figure_json(int64_t *v, size_t n, int *jerr)
{
  json_object *o = json_object_new_object();
  size_t k90;

  qsort(v, n, sizeof(*v), cmp_i64);
  k90 = n > 0 ? (size_t)((n * 90 + 99) / 100) : 0;
  rr_json_set_opt(o, "median", n > 0, json_object_new_double(n == 0 ? 0 : n % 2 ? (double)v[n / 2]
                                                                             : (v[n / 2 - 1] + v[n / 2]) / 2.0),
                  jerr);
  rr_json_set_opt(o, "p90", n > 0, json_object_new_int64(n > 0 ? v[k90 - 1] : 0), jerr);
  rr_json_set(o, "studies", json_object_new_int64((int64_t)n), jerr);
  return o;
}

/* One modality's row: the four intervals over its timelines. */
static json_object *turnaround_row(const rr_report_timeline_list *l, const char *modality, int64_t *scratch,
                                   int *jerr)
{
  static const char *const names[] = {"receivedToOpened", "openedToPreliminary", "openedToFinal", "receivedToFinal"};
  json_object *o = json_object_new_object();
  size_t i, k, n, studies = 0;

  for (i = 0; i < l->count; i++)
    studies += strcmp(l->items[i].modality, modality) == 0;
  rr_json_set_str(o, "modality", modality, jerr);
  rr_json_set(o, "studies", json_object_new_int64((int64_t)studies), jerr);
  for (k = 0; k < 4; k++) {
    for (i = 0, n = 0; i < l->count; i++) {
      const rr_report_timeline *t = &l->items[i];
      int64_t from = k == 0 || k == 3 ? t->received_at : t->opened_at;
      int64_t to = k == 0 ? t->opened_at : k == 1 ? t->preliminary_at : t->final_at;
      if (strcmp(t->modality, modality) == 0 && from > 0 && to >= from)
        scratch[n++] = (to - from) / 1000;
    }
    rr_json_set(o, names[k], figure_json(scratch, n, jerr), jerr);
  }
  return o;
}

/* GET {root}admin/reports/turnaround[?days=30] */
static OrthancPluginErrorCode on_turnaround(OrthancPluginRestOutput *out, const char *url,
                                            const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  rr_report_timeline_list *l = NULL;
  json_object *o, *arr;
  int64_t days = 30, now = rr_clock_unix_ms(), *scratch = NULL;
  char buf[16], err[ERR_SIZE] = "";
  const char *v;
  size_t i, j;
  int jerr = 0, error;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (caller(&id, out) < 0)
    return OrthancPluginErrorCode_Success;
  if ((v = rr_args_query(req, "days", buf, sizeof(buf))) == NULL || (v[0] && rr_parse_i64(&days, v, 1, 3650) < 0)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "'days' must be between 1 and 3650");
    return OrthancPluginErrorCode_Success;
  }
  if ((error = rr_store_report_timeline(deps->store, &l, now - days * 86400000LL, now + 1, err, sizeof(err))) < 0) {
    send_failure(out, error, err);
    return OrthancPluginErrorCode_Success;
  }
  if ((scratch = malloc((l->count + 1) * sizeof(*scratch))) == NULL) {
    rr_report_timeline_list_free(l);
    send_failure(out, RR_ENOMEM, "out of memory");
    return OrthancPluginErrorCode_Success;
  }
  o = json_object_new_object();
  arr = json_object_new_array();
  for (i = 0; i < l->count; i++) {
    for (j = 0; j < i; j++) /* each modality once, in the order first met */
      if (strcmp(l->items[j].modality, l->items[i].modality) == 0)
        break;
    if (j == i)
      rr_json_append(arr, turnaround_row(l, l->items[i].modality, scratch, &jerr), &jerr);
  }
  rr_json_set(o, "data", arr, &jerr);
  rr_json_set(o, "days", json_object_new_int64(days), &jerr);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
  free(scratch);
  rr_report_timeline_list_free(l);
  return OrthancPluginErrorCode_Success;
}

int rr_reports_api_register(OrthancPluginContext *context, const rr_api_deps *d, const char *root)
{
  static const struct {
    const char *suffix;
    OrthancPluginRestCallback cb;
  } routes[] = {
    {"/reports", on_reports},
    {"/reports/macros", on_macros},
    {"/reports/macros/([^/]+)", on_macro},
    {"/reports/([0-9]+)", on_report},
    {"/reports/([0-9]+)/([a-z-]+)", on_action},
    {"/dicom/studies/([^/]+)/reports", on_study_reports},
    {"/admin/reports/turnaround", on_turnaround},
  };
  char regex[512];
  size_t i;
  int error;

  ctx = context;
  deps = d;
  rr_str_copy(api_root, sizeof(api_root), d->options.api_root);
  for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
    snprintf(regex, sizeof(regex), "%s%s", root, routes[i].suffix);
    if ((error = rr_api_route(context, regex, routes[i].cb)) < 0)
      return error;
  }
  return 0;
}
