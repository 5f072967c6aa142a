/*
 * store_mongo_reports.c - the MongoDB backend's reports concern: the
 * lifecycle of a report (create, drafts, signatures, addenda and
 * corrections, cancel, entered in error, acknowledgements) and its reads,
 * as the SQLite and PostgreSQL backends do (contract in store_reports.h,
 * rules in report_rules.h). The lists, has_final, the timeline and the
 * macros are in store_mongo_report_reads.c.
 *
 * Collections:
 *   reports        one document per report: its fields, `id` (int64 from
 *                  the `reports` sequence; unique), `seq` (+ 1 per write),
 *                  `versions` (array, oldest first, without the PDF bytes)
 *                  and `acks` (array of {username, at}).
 *   report_pdfs    the PDF of a signed version in chunks of at most 8 MiB
 *                  ({report_id, version, sha256, n, count, data}; a
 *                  document is at most 16 MiB, a PDF up to
 *                  RR_REPORT_PDF_MAX), unique on (report_id, version,
 *                  sha256, n) and written before the signature that names
 *                  its SHA-256, so a signed version always has its bytes.
 *   study_reports  one per StudyInstanceUID (unique): the open report
 *                  (`open_report`, 0 = none: a study has at most one,
 *                  claimed by a conditional update of this one document),
 *                  the reading timeline (opened_at, preliminary_at,
 *                  final_at) and the worklist's report fields of the
 *                  study's latest report, which are also copied onto the
 *                  study documents (store_mongo_index.c; see
 *                  rr_mongo_report_sync_study below).
 *
 * Writes (no multi-document transactions: CongoDB has none, and a replica
 * set is not required): a write reads the report, judges the change with
 * report_rules.c against the head it read, and applies it with one
 * update_one conditional on the `seq` it read, so of two writers of one
 * report the second reads again and is judged again (a draft save naming
 * a revision another save replaced loses with RR_ESTALE, as in the other
 * backends). Signed versions are frozen by this file alone (MongoDB has no
 * triggers): a write copies every version element it does not change
 * byte for byte from the document it read, and changes only a draft.
 * What follows a report's write (timeline, the study's worklist fields) is
 * written after it and derived from the report documents again on every
 * later write, so a node killed in between leaves them late, never wrong
 * for long.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report_rules.h"
#include "store_mongo_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define REPORTS "reports"
#define PDFS "report_pdfs"
#define STUDY_REPORTS "study_reports"
#define PDF_CHUNK (8u * 1024u * 1024u)
#define WRITE_ATTEMPTS 16
/* A claim on a study whose report document never came (its creator died
 * between the two writes) is taken over after this long (ms). */
#define CLAIM_STALE_MS 60000

/* ------------------------------------------------------------ documents */

/* Array index i as a BSON key. */
static const char *key_of(uint32_t i, char *buf, size_t size)
{
  const char *key;

  bson_uint32_to_string(i, &key, buf, size);
  return key;
}

static void append_opt_utf8(bson_t *doc, const char *field, const char *v)
{
  if (v != NULL)
    BSON_APPEND_UTF8(doc, field, v);
  else
    BSON_APPEND_NULL(doc, field);
}

/* A version as an element of `versions`. */
static void append_version(bson_t *arr, uint32_t i, const rr_report_version *v)
{
  char buf[16];
  bson_t d;

  BSON_APPEND_DOCUMENT_BEGIN(arr, key_of(i, buf, sizeof(buf)), &d);
  BSON_APPEND_INT64(&d, "version", v->version);
  BSON_APPEND_UTF8(&d, "kind", v->kind);
  BSON_APPEND_UTF8(&d, "status", v->status);
  BSON_APPEND_UTF8(&d, "fields_json", v->fields_json ? v->fields_json : "{}");
  BSON_APPEND_UTF8(&d, "inserts_json", v->inserts_json ? v->inserts_json : "{}");
  append_opt_utf8(&d, "text", v->text);
  BSON_APPEND_UTF8(&d, "author", v->author);
  BSON_APPEND_UTF8(&d, "updated_by", v->updated_by);
  BSON_APPEND_INT64(&d, "created_at", v->created_at);
  BSON_APPEND_INT64(&d, "updated_at", v->updated_at);
  BSON_APPEND_INT64(&d, "revision", v->revision);
  BSON_APPEND_UTF8(&d, "signed_by", v->signed_by);
  BSON_APPEND_INT64(&d, "signed_at", v->signed_at);
  BSON_APPEND_UTF8(&d, "pdf_sha256", v->pdf_sha256);
  bson_append_document_end(arr, &d);
}

/* A string field that may be null: NULL when absent or null, else a copy. */
static int opt_strdup(char **out, const bson_t *doc, const char *field)
{
  bson_iter_t it;

  *out = NULL;
  if (!bson_iter_init_find(&it, doc, field) || !BSON_ITER_HOLDS_UTF8(&it))
    return 0;
  return (*out = rr_mongo_strdup(doc, field)) == NULL ? RR_ENOMEM : 0;
}

static int read_version(rr_report_version *v, const bson_t *d, int64_t report_id)
{
  memset(v, 0, sizeof(*v));
  v->report_id = report_id;
  v->version = rr_mongo_int(d, "version");
  rr_mongo_copy(v->kind, sizeof(v->kind), d, "kind");
  rr_mongo_copy(v->status, sizeof(v->status), d, "status");
  rr_mongo_copy(v->author, sizeof(v->author), d, "author");
  rr_mongo_copy(v->updated_by, sizeof(v->updated_by), d, "updated_by");
  v->created_at = rr_mongo_int(d, "created_at");
  v->updated_at = rr_mongo_int(d, "updated_at");
  v->revision = rr_mongo_int(d, "revision");
  rr_mongo_copy(v->signed_by, sizeof(v->signed_by), d, "signed_by");
  v->signed_at = rr_mongo_int(d, "signed_at");
  rr_mongo_copy(v->pdf_sha256, sizeof(v->pdf_sha256), d, "pdf_sha256");
  if ((v->fields_json = rr_mongo_strdup(d, "fields_json")) == NULL ||
      (v->inserts_json = rr_mongo_strdup(d, "inserts_json")) == NULL || opt_strdup(&v->text, d, "text") < 0) {
    rr_report_version_dispose(v);
    return RR_ENOMEM;
  }
  return 0;
}

/* Calls fn for each document element of the array `field` of doc, with its
 * index; stops at the first error. */
typedef int (*element_fn)(void *ctx, uint32_t i, const bson_t *elem);
static int each_element(const bson_t *doc, const char *field, element_fn fn, void *ctx)
{
  bson_iter_t it, child;
  const uint8_t *data;
  uint32_t len, i = 0;
  bson_t elem;
  int error = 0;

  if (!bson_iter_init_find(&it, doc, field) || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &child))
    return 0;
  while (error == 0 && bson_iter_next(&child)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&child))
      continue;
    bson_iter_document(&child, &len, &data);
    if (!bson_init_static(&elem, data, len))
      continue;
    error = fn(ctx, i++, &elem);
  }
  return error;
}

static int push_version(void *ctx, uint32_t i, const bson_t *elem)
{
  rr_report *rep = ctx;
  size_t cap = rep->version_count;
  rr_report_version *v;

  (void)i;
  if ((v = rr_store_list_push(&rr_report_versions_kind, rep, &cap, 4)) == NULL)
    return RR_ENOMEM;
  return read_version(v, elem, rep->id);
}

static int push_ack(void *ctx, uint32_t i, const bson_t *elem)
{
  rr_report *rep = ctx;
  size_t cap = rep->ack_count;
  rr_report_ack *a;

  (void)i;
  if ((a = rr_store_list_push(&rr_report_acks_kind, rep, &cap, 4)) == NULL)
    return RR_ENOMEM;
  rr_mongo_copy(a->username, sizeof(a->username), elem, "username");
  a->at = rr_mongo_int(elem, "at");
  return 0;
}

/* A report document into *rep (zeroed first; the caller disposes it). */
static int read_report(rr_report *rep, const bson_t *doc)
{
  memset(rep, 0, sizeof(*rep));
  rep->id = rr_mongo_int(doc, "id");
  rr_mongo_copy(rep->study_uid, sizeof(rep->study_uid), doc, "study_uid");
  rr_mongo_copy(rep->template_id, sizeof(rep->template_id), doc, "template_id");
  rr_mongo_copy(rep->state, sizeof(rep->state), doc, "state");
  rr_mongo_copy(rep->state_by, sizeof(rep->state_by), doc, "state_by");
  rep->critical = rr_mongo_bool(doc, "critical");
  rr_mongo_copy(rep->created_by, sizeof(rep->created_by), doc, "created_by");
  rep->created_at = rr_mongo_int(doc, "created_at");
  rep->updated_at = rr_mongo_int(doc, "updated_at");
  rep->prevailing_version = rr_mongo_int(doc, "prevailing_version");
  if ((rep->template_json = rr_mongo_strdup(doc, "template_json")) == NULL ||
      opt_strdup(&rep->state_reason, doc, "state_reason") < 0 || opt_strdup(&rep->critical_json, doc, "critical_json") < 0)
    return RR_ENOMEM;
  if (each_element(doc, "versions", push_version, rep) < 0 || each_element(doc, "acks", push_ack, rep) < 0)
    return RR_ENOMEM;
  return 0;
}

/* The report document `id` (a copy the caller destroys); RR_ENOTFOUND with
 * a sentence. */
static int load_doc(rr_mongo_store *s, bson_t **out, int64_t id, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("id", BCON_INT64(id));
  int error = rr_mongo_find_one(s, out, REPORTS, filter, NULL, "reading a report", err, errsize);

  bson_destroy(filter);
  if (error == 0 && *out == NULL)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such report");
  return error;
}

/* ------------------------------------------------------------ the head */

typedef struct head_ctx {
  rr_report_head *h;
  uint32_t count;
} head_ctx;

static int latest_element(void *ctx, uint32_t i, const bson_t *elem)
{
  head_ctx *hc = ctx;

  hc->count = i + 1;
  hc->h->latest = rr_mongo_int(elem, "version");
  hc->h->revision = rr_mongo_int(elem, "revision");
  rr_mongo_copy(hc->h->status, sizeof(hc->h->status), elem, "status");
  rr_mongo_copy(hc->h->kind, sizeof(hc->h->kind), elem, "kind");
  return 0;
}

/* The head of a report document; *count receives its number of versions.
 * RR_ESTORE when it has none. */
static int head_of(rr_report_head *h, uint32_t *count, const bson_t *doc, char *err, size_t errsize)
{
  head_ctx hc = {h, 0};
  bson_iter_t it;

  memset(h, 0, sizeof(*h));
  h->id = rr_mongo_int(doc, "id");
  rr_mongo_copy(h->study_uid, sizeof(h->study_uid), doc, "study_uid");
  rr_mongo_copy(h->state, sizeof(h->state), doc, "state");
  h->critical = rr_mongo_bool(doc, "critical");
  h->prevailing = rr_mongo_int(doc, "prevailing_version");
  h->communicated = bson_iter_init_find(&it, doc, "critical_json") && BSON_ITER_HOLDS_UTF8(&it);
  each_element(doc, "versions", latest_element, &hc);
  *count = hc.count;
  if (hc.count == 0)
    return rr_fail(err, errsize, RR_ESTORE, "report %lld has no version", (long long)h->id);
  return 0;
}

typedef struct find_version_ctx {
  int64_t version;
  rr_report_version *out;
  int found; /* 1 found, < 0 error */
} find_version_ctx;

static int find_version(void *ctx, uint32_t i, const bson_t *elem)
{
  find_version_ctx *f = ctx;

  (void)i;
  if (f->found != 0 || rr_mongo_int(elem, "version") != f->version)
    return 0;
  f->found = read_version(f->out, elem, 0) < 0 ? RR_ENOMEM : 1;
  return f->found < 0 ? f->found : 0;
}

/* Version `version` of a report document into *out (dispose it);
 * RR_ENOTFOUND without a sentence when there is none. */
static int version_of(rr_report_version *out, const bson_t *doc, int64_t version)
{
  find_version_ctx f = {version, out, 0};

  memset(out, 0, sizeof(*out));
  each_element(doc, "versions", find_version, &f);
  if (f.found == 1)
    out->report_id = rr_mongo_int(doc, "id");
  return f.found == 1 ? 0 : f.found < 0 ? f.found : RR_ENOTFOUND;
}

/* ------------------------------------------------------------ writes */

/* The new `versions` of a write: the elements of the document read, the
 * one at index `replace` (if < count) replaced by *changed, and *added (if
 * not NULL) appended. Untouched elements are copied byte for byte. */
static void append_versions(bson_t *set, const bson_t *doc, uint32_t replace, const rr_report_version *changed,
                            const rr_report_version *added)
{
  bson_iter_t it, child;
  bson_t arr;
  char buf[16];
  uint32_t i = 0;

  BSON_APPEND_ARRAY_BEGIN(set, "versions", &arr);
  if (bson_iter_init_find(&it, doc, "versions") && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &child)) {
    while (bson_iter_next(&child)) {
      if (!BSON_ITER_HOLDS_DOCUMENT(&child))
        continue;
      if (i == replace && changed != NULL)
        append_version(&arr, i, changed);
      else
        bson_append_value(&arr, key_of(i, buf, sizeof(buf)), -1, bson_iter_value(&child));
      i++;
    }
  }
  if (added != NULL)
    append_version(&arr, i, added);
  bson_append_array_end(set, &arr);
}

/* What a write changes, given the document it read and its head: fills
 * `set` (the $set of the update) or refuses (report_rules.c's codes). */
typedef int (*plan_fn)(void *ctx, bson_t *set, const bson_t *doc, const rr_report_head *h, uint32_t count,
                       char *err, size_t errsize);

/* One change of report `id`: read, plan, update_one conditional on the
 * seq read; again when another write came between. *out_head (may be
 * NULL) receives the head the change was planned on. */
static int mutate(rr_mongo_store *s, rr_report_head *out_head, int64_t id, plan_fn plan, void *ctx, char *err,
                  size_t errsize)
{
  rr_mongo_write_counts n = {0, 0, 0};
  rr_report_head h;
  uint32_t count = 0;
  int attempt, error = 0;

  for (attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    bson_t *doc = NULL, *filter = NULL, update = BSON_INITIALIZER, set;
    int64_t seq;

    if ((error = load_doc(s, &doc, id, err, errsize)) == 0 && (error = head_of(&h, &count, doc, err, errsize)) == 0) {
      seq = rr_mongo_int(doc, "seq");
      BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
      error = plan(ctx, &set, doc, &h, count, err, errsize);
      bson_append_document_end(&update, &set);
      BCON_APPEND(&update, "$inc", "{", "seq", BCON_INT64(1), "}");
      filter = BCON_NEW("id", BCON_INT64(id), "seq", BCON_INT64(seq));
      if (error == 0)
        error = rr_mongo_write(s, &n, REPORTS, RR_MONGO_UPDATE_ONE, filter, &update, false, "writing a report", err,
                               errsize);
    }
    bson_destroy(filter);
    bson_destroy(&update);
    bson_destroy(doc);
    if (error < 0)
      return error;
    if (n.matched == 1) {
      if (out_head != NULL)
        *out_head = h;
      return 0;
    }
  }
  return rr_fail(err, errsize, RR_ESTORE, "mongodb: report %lld kept changing under this write; try again",
                 (long long)id);
}

/* ------------------------------------------------------------ the study */

/* The study_reports document of uid exists (an upsert that a racing one
 * may beat: then it exists too). */
static int ensure_study_doc(rr_mongo_store *s, const char *uid, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(uid));
  bson_t *upd = BCON_NEW("$setOnInsert", "{", "open_report", BCON_INT64(0), "claimed_at", BCON_INT64(0),
                         "opened_at", BCON_INT64(0), "preliminary_at", BCON_INT64(0), "final_at", BCON_INT64(0),
                         "stamp", BCON_INT64(0), "}");
  int error = rr_mongo_write(s, NULL, STUDY_REPORTS, RR_MONGO_UPDATE_ONE, filter, upd, true, "recording the study",
                             err, errsize);

  bson_destroy(filter);
  bson_destroy(upd);
  return error == RR_EEXISTS ? 0 : error;
}

/* Sets a timeline field (opened_at, preliminary_at, final_at) of the study
 * when it is still 0. */
int rr_mongo_report_timeline_mark(rr_mongo_store *s, const char *uid, const char *field, int64_t at, char *err,
                                  size_t errsize)
{
  bson_t *filter, *upd;
  int error;

  if ((error = ensure_study_doc(s, uid, err, errsize)) < 0)
    return error;
  filter = BCON_NEW("study_uid", BCON_UTF8(uid), field, BCON_INT64(0));
  upd = BCON_NEW("$set", "{", field, BCON_INT64(at), "}");
  error = rr_mongo_write(s, NULL, STUDY_REPORTS, RR_MONGO_UPDATE_ONE, filter, upd, false, "recording the timeline",
                         err, errsize);
  bson_destroy(filter);
  bson_destroy(upd);
  return error;
}

/* The worklist's report fields of a study from its latest report document
 * (the report with the highest id), as BSON fields of `set`; *stamp grows
 * with every write of every report of the study (id, then seq). */
static void study_fields(bson_t *set, int64_t *stamp, const bson_t *doc)
{
  char state[RR_REPORT_STATE_SIZE], author[RR_USERNAME_SIZE], buf[16];
  bool ended;
  bson_t acks;
  rr_report rep;
  size_t i;

  memset(&rep, 0, sizeof(rep));
  rr_mongo_copy(state, sizeof(state), doc, "state");
  rr_mongo_copy(author, sizeof(author), doc, "created_by");
  ended = rr_report_state_is(state, "cancelled", "entered-in-error", NULL);
  *stamp = rr_mongo_int(doc, "id") * ((int64_t)1 << 24) + (rr_mongo_int(doc, "seq") & 0xFFFFFF);
  BSON_APPEND_INT64(set, "report_id", rr_mongo_int(doc, "id"));
  BSON_APPEND_UTF8(set, "report_state", state);
  BSON_APPEND_UTF8(set, "report_author", ended ? "" : author);
  rr_mongo_user_key(author, sizeof(author), ended ? "" : author);
  BSON_APPEND_UTF8(set, "report_author_key", author);
  BSON_APPEND_BOOL(set, "report_flagged", rr_mongo_bool(doc, "critical") && !ended);
  BSON_APPEND_ARRAY_BEGIN(set, "report_acks", &acks);
  rep.id = 0;
  if (each_element(doc, "acks", push_ack, &rep) == 0)
    for (i = 0; i < rep.ack_count; i++)
    {
      rr_mongo_user_key(author, sizeof(author), rep.acks[i].username);
      BSON_APPEND_UTF8(&acks, key_of((uint32_t)i, buf, sizeof(buf)), author);
    }
  bson_append_array_end(set, &acks);
  free(rep.acks);
  BSON_APPEND_INT64(set, "report_stamp", *stamp);
}

/* The latest report document of a study (NULL when it has none). */
static int latest_report(rr_mongo_store *s, bson_t **out, const char *uid, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(uid));
  bson_t *opts = BCON_NEW("sort", "{", "id", BCON_INT32(-1), "}", "projection", "{", "versions", BCON_INT32(0),
                          "template_json", BCON_INT32(0), "}");
  int error = rr_mongo_find_one(s, out, REPORTS, filter, opts, "reading the study's reports", err, errsize);

  bson_destroy(opts);
  bson_destroy(filter);
  return error;
}

/* The study's worklist fields again from its latest report, on its
 * study_reports document and on every study document of the UID; a write
 * only replaces older fields (report_stamp), so of two racing syncs the
 * newer wins. */
int rr_mongo_report_sync_study(rr_mongo_store *s, const char *uid, char *err, size_t errsize)
{
  bson_t *doc = NULL, *filter = NULL, update = BSON_INITIALIZER, set;
  int64_t stamp = 0;
  int error;

  if ((error = latest_report(s, &doc, uid, err, errsize)) < 0 || doc == NULL ||
      (error = ensure_study_doc(s, uid, err, errsize)) < 0)
    goto out;
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  study_fields(&set, &stamp, doc);
  bson_append_document_end(&update, &set);
  filter = BCON_NEW("study_uid", BCON_UTF8(uid), "stamp", "{", "$lt", BCON_INT64(stamp), "}");
  if ((error = rr_mongo_write(s, NULL, STUDY_REPORTS, RR_MONGO_UPDATE_ONE, filter, &update, false,
                              "recording the study's report", err, errsize)) < 0)
    goto out;
  bson_destroy(filter);
  bson_destroy(&update);
  bson_init(&update);
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  study_fields(&set, &stamp, doc);
  bson_append_document_end(&update, &set);
  filter = BCON_NEW("study_uid", BCON_UTF8(uid), "$or", "[", "{", "report_stamp", "{", "$lt", BCON_INT64(stamp), "}",
                    "}", "{", "report_stamp", "{", "$exists", BCON_BOOL(false), "}", "}", "]");
  error = rr_mongo_write(s, NULL, "studies", RR_MONGO_UPDATE_MANY, filter, &update, false,
                         "copying the report state to the study", err, errsize);
out:
  bson_destroy(filter);
  bson_destroy(&update);
  bson_destroy(doc);
  return error;
}

/* After a report's write: its study's fields (the write itself is done;
 * a failure here is logged by the caller's error only). */
static int after_write(rr_mongo_store *s, const char *uid, int error, char *err, size_t errsize)
{
  if (error < 0)
    return error;
  return rr_mongo_report_sync_study(s, uid, err, errsize);
}

/* ------------------------------------------------------------ create */

static int mongo_report_open_for_study(void *impl, int64_t *out_id, const char *study_uid, char *err,
                                       size_t errsize);

int rr_mongo_report_study_exists(rr_mongo_store *s, bool *out, const char *uid, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(uid));
  bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
  int64_t n = 0;
  int error = rr_mongo_count(s, &n, "studies", filter, opts, "finding the study", err, errsize);

  bson_destroy(opts);
  bson_destroy(filter);
  *out = n > 0;
  return error;
}

/* The study's open report and when it was claimed (0, 0 when none). */
static int read_claim(rr_mongo_store *s, int64_t *open, int64_t *claimed_at, const char *uid, char *err,
                      size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(uid)), *doc = NULL;
  int error = rr_mongo_find_one(s, &doc, STUDY_REPORTS, filter, NULL, "reading the study's open report", err, errsize);

  *open = doc != NULL ? rr_mongo_int(doc, "open_report") : 0;
  *claimed_at = doc != NULL ? rr_mongo_int(doc, "claimed_at") : 0;
  bson_destroy(doc);
  bson_destroy(filter);
  return error;
}

/* Moves the study's open report from `from` to `to` (one conditional
 * update: of two creators only one moves it from 0); *moved tells. */
static int move_claim(rr_mongo_store *s, bool *moved, const char *uid, int64_t from, int64_t to, int64_t now,
                      char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(uid), "open_report", BCON_INT64(from));
  bson_t *upd = BCON_NEW("$set", "{", "open_report", BCON_INT64(to), "claimed_at", BCON_INT64(now), "}");
  rr_mongo_write_counts n;
  int error = rr_mongo_write(s, &n, STUDY_REPORTS, RR_MONGO_UPDATE_ONE, filter, upd, false,
                             "claiming the study's report", err, errsize);

  *moved = error == 0 && n.matched == 1;
  bson_destroy(filter);
  bson_destroy(upd);
  return error;
}

static int report_exists(rr_mongo_store *s, bool *out, int64_t id, char *err, size_t errsize)
{
  bson_t *doc = NULL;
  int error = load_doc(s, &doc, id, err, errsize);

  *out = error == 0;
  bson_destroy(doc);
  return error == RR_ENOTFOUND ? 0 : error;
}

/* Claims the study for report `id`: from 0, or from a claim whose report
 * never came (its creator died between claim and insert). RR_EEXISTS with
 * *open the open report otherwise. */
static int claim_study(rr_mongo_store *s, int64_t *open, const char *uid, int64_t id, int64_t now, char *err,
                       size_t errsize)
{
  int64_t claimed_at = 0;
  bool moved = false, exists = true;
  int error, attempt;

  *open = 0;
  if ((error = ensure_study_doc(s, uid, err, errsize)) < 0)
    return error;
  for (attempt = 0; attempt < 4; attempt++) {
    if ((error = move_claim(s, &moved, uid, 0, id, now, err, errsize)) < 0 || moved)
      return error;
    if ((error = read_claim(s, open, &claimed_at, uid, err, errsize)) < 0)
      return error;
    if (*open == 0)
      continue; /* released in between */
    if ((error = report_exists(s, &exists, *open, err, errsize)) < 0)
      return error;
    if (exists || now - claimed_at < CLAIM_STALE_MS)
      return RR_EEXISTS;
    if ((error = move_claim(s, &moved, uid, *open, id, now, err, errsize)) < 0 || moved)
      return error;
  }
  return RR_EEXISTS;
}

/* Releases the study's claim when report `id` holds it. */
static int release_claim(rr_mongo_store *s, const char *uid, int64_t id, char *err, size_t errsize)
{
  bool moved;

  return move_claim(s, &moved, uid, id, 0, 0, err, errsize);
}

static int insert_report(rr_mongo_store *s, int64_t id, const char *study_uid, const char *template_id,
                         const char *template_json, const char *author, int64_t now, char *err, size_t errsize)
{
  rr_report_version v;
  bson_t doc = BSON_INITIALIZER, arr;
  bson_error_t e;
  mongoc_client_t *c;
  mongoc_collection_t *col;
  int error = 0;

  memset(&v, 0, sizeof(v));
  v.version = 1;
  rr_str_copy(v.kind, sizeof(v.kind), "original");
  rr_str_copy(v.status, sizeof(v.status), "draft");
  rr_str_copy(v.author, sizeof(v.author), author);
  rr_str_copy(v.updated_by, sizeof(v.updated_by), author);
  v.created_at = v.updated_at = now;
  v.revision = 1;
  BSON_APPEND_INT64(&doc, "id", id);
  BSON_APPEND_UTF8(&doc, "study_uid", study_uid);
  BSON_APPEND_UTF8(&doc, "template_id", template_id);
  BSON_APPEND_UTF8(&doc, "template_json", template_json);
  BSON_APPEND_UTF8(&doc, "state", "draft");
  BSON_APPEND_UTF8(&doc, "state_by", "");
  BSON_APPEND_BOOL(&doc, "critical", false);
  BSON_APPEND_UTF8(&doc, "created_by", author);
  BSON_APPEND_INT64(&doc, "created_at", now);
  BSON_APPEND_INT64(&doc, "updated_at", now);
  BSON_APPEND_INT64(&doc, "prevailing_version", 0);
  BSON_APPEND_UTF8(&doc, "signed_by", "");
  BSON_APPEND_INT64(&doc, "signed_at", 0);
  BSON_APPEND_INT64(&doc, "seq", 1);
  BSON_APPEND_ARRAY_BEGIN(&doc, "versions", &arr);
  append_version(&arr, 0, &v);
  bson_append_array_end(&doc, &arr);
  BSON_APPEND_ARRAY_BEGIN(&doc, "acks", &arr);
  bson_append_array_end(&doc, &arr);
  c = rr_mongo_pop(s);
  col = rr_mongo_collection(s, c, REPORTS);
  if (!mongoc_collection_insert_one(col, &doc, NULL, NULL, &e))
    error = rr_mongo_fail(err, errsize, &e, "creating a report");
  mongoc_collection_destroy(col);
  rr_mongo_push(s, c);
  bson_destroy(&doc);
  return error;
}

static int mongo_report_create(void *impl, int64_t *out_id, const char *study_uid, const char *template_id,
                               const char *template_json, const char *author, int64_t now, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  int64_t id = 0, open = 0;
  bool found = false;
  int error;

  if ((error = rr_report_check_create(study_uid, template_id, template_json, author, err, errsize)) < 0 ||
      (error = rr_mongo_report_study_exists(s, &found, study_uid, err, errsize)) < 0)
    return error;
  if (!found)
    return rr_fail(err, errsize, RR_ENOTFOUND, "no such study");
  /* before taking an id: a refused create would use one up */
  if ((error = mongo_report_open_for_study(s, &open, study_uid, err, errsize)) < 0)
    return error;
  if (open != 0)
    return rr_fail(err, errsize, RR_EEXISTS, "the study already has an open report (%lld)", (long long)open);
  if ((error = rr_mongo_next_id(s, &id, "reports", err, errsize)) < 0)
    return error;
  if ((error = claim_study(s, &open, study_uid, id, now, err, errsize)) == RR_EEXISTS)
    return rr_fail(err, errsize, RR_EEXISTS, "the study already has an open report (%lld)", (long long)open);
  if (error < 0)
    return error;
  if ((error = insert_report(s, id, study_uid, template_id, template_json, author, now, err, errsize)) < 0) {
    char ignored[8];
    release_claim(s, study_uid, id, ignored, sizeof(ignored));
    return error;
  }
  *out_id = id;
  if ((error = rr_mongo_report_timeline_mark(s, study_uid, "opened_at", now, err, errsize)) < 0)
    return error;
  return after_write(s, study_uid, 0, err, errsize);
}

/* ------------------------------------------------------------ reads */

static int mongo_report_get(void *impl, rr_report **out, int64_t id, char *err, size_t errsize)
{
  bson_t *doc = NULL;
  rr_report *rep = NULL;
  int error;

  *out = NULL;
  if ((error = load_doc(impl, &doc, id, err, errsize)) < 0)
    return error;
  if ((rep = calloc(1, sizeof(*rep))) == NULL || read_report(rep, doc) < 0) {
    rr_report_free(rep);
    bson_destroy(doc);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  bson_destroy(doc);
  *out = rep;
  return 0;
}

static int read_list_report(void *elem, const bson_t *doc, void *ctx)
{
  (void)ctx;
  return read_report(elem, doc);
}

static int mongo_report_for_study(void *impl, rr_report_list **out, const char *study_uid, char *err,
                                  size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(study_uid ? study_uid : ""));
  bson_t *opts = BCON_NEW("sort", "{", "id", BCON_INT32(-1), "}", "limit", BCON_INT64(1000));
  rr_report_list *list = rr_store_list_new(&rr_report_list_kind);
  int error;

  *out = NULL;
  if (list == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(impl, list, &rr_report_list_kind, 2, REPORTS, filter, opts, read_list_report, NULL,
                               "reading the study's reports", err, errsize);
  if (error == 0)
    *out = list;
  else
    rr_report_list_free(list);
  bson_destroy(opts);
  bson_destroy(filter);
  return error;
}

static int mongo_report_open_for_study(void *impl, int64_t *out_id, const char *study_uid, char *err,
                                       size_t errsize)
{
  int64_t open = 0, claimed_at = 0;
  bool exists = false;
  int error = read_claim(impl, &open, &claimed_at, study_uid ? study_uid : "", err, errsize);

  *out_id = 0;
  if (error == 0 && open != 0 && (error = report_exists(impl, &exists, open, err, errsize)) == 0 && exists)
    *out_id = open;
  return error;
}

/* ------------------------------------------------------------ drafts */

typedef struct draft_ctx {
  const rr_report_expect *expect;
  const char *fields_json, *inserts_json, *by;
  int critical;
  int64_t now;
  rr_report_version draft; /* out: the draft as written */
} draft_ctx;

/* The new draft: a copy of version `from` numbered `version`, by `by`. */
static int copy_as_draft(rr_report_version *out, const bson_t *doc, int64_t from, int64_t version, const char *by,
                         int64_t now)
{
  int error = version_of(out, doc, from);

  if (error < 0)
    return error;
  out->version = version;
  rr_str_copy(out->status, sizeof(out->status), "draft");
  rr_str_copy(out->author, sizeof(out->author), by);
  rr_str_copy(out->updated_by, sizeof(out->updated_by), by);
  out->created_at = out->updated_at = now;
  out->revision = 1;
  out->signed_by[0] = out->pdf_sha256[0] = '\0';
  out->signed_at = 0;
  return 0;
}

/* Replaces *slot by a copy of value (NULL keeps it). */
static int replace_text(char **slot, const char *value)
{
  char *copy;

  if (value == NULL)
    return 0;
  if ((copy = strdup(value)) == NULL)
    return RR_ENOMEM;
  free(*slot);
  *slot = copy;
  return 0;
}

static int plan_draft(void *ctx, bson_t *set, const bson_t *doc, const rr_report_head *h, uint32_t count, char *err,
                      size_t errsize)
{
  draft_ctx *d = ctx;
  bool fresh = strcmp(h->status, "draft") != 0;
  int error;

  rr_report_version_dispose(&d->draft);
  if ((error = rr_report_check_editable(h, "edit", err, errsize)) < 0 ||
      (error = rr_report_check_expect(h, d->expect, err, errsize)) < 0)
    return error;
  if (fresh) /* preliminary: a new draft copying it */
    error = copy_as_draft(&d->draft, doc, h->latest, h->latest + 1, d->by, d->now);
  else if ((error = version_of(&d->draft, doc, h->latest)) == 0) {
    rr_str_copy(d->draft.updated_by, sizeof(d->draft.updated_by), d->by);
    d->draft.updated_at = d->now;
    d->draft.revision++;
  }
  if (error == 0 && ((error = replace_text(&d->draft.fields_json, d->fields_json)) < 0 ||
                     (error = replace_text(&d->draft.inserts_json, d->inserts_json)) < 0))
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if (error < 0)
    return rr_fail(err, errsize, error == RR_ENOMEM ? RR_ENOMEM : RR_ESTORE, "reading the report's draft failed");
  append_versions(set, doc, fresh ? count : count - 1, fresh ? NULL : &d->draft, fresh ? &d->draft : NULL);
  if (d->critical >= 0)
    BSON_APPEND_BOOL(set, "critical", d->critical > 0);
  BSON_APPEND_INT64(set, "updated_at", d->now);
  return 0;
}

static int mongo_report_save_draft(void *impl, rr_report_version *out, int64_t id, const rr_report_expect *expect,
                                   const char *fields_json, const char *inserts_json, int critical, const char *by,
                                   int64_t now, char *err, size_t errsize)
{
  draft_ctx d;
  rr_report_head h;
  int error;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  memset(&d, 0, sizeof(d));
  d.expect = expect;
  d.fields_json = fields_json;
  d.inserts_json = inserts_json;
  d.by = by;
  d.critical = critical;
  d.now = now;
  memset(&h, 0, sizeof(h));
  if ((error = rr_report_check_draft(fields_json, inserts_json, by, err, errsize)) < 0)
    return error;
  error = after_write(impl, h.study_uid, mutate(impl, &h, id, plan_draft, &d, err, errsize), err, errsize);
  d.draft.report_id = id;
  if (error == 0 && out != NULL)
    *out = d.draft;
  else
    rr_report_version_dispose(&d.draft);
  return error;
}

/* ------------------------------------------------------------ signatures */

static int mongo_report_next_version(void *impl, int64_t *out_version, rr_report_expect *out_expect, int64_t id,
                                     char *err, size_t errsize)
{
  bson_t *doc = NULL;
  rr_report_head h;
  uint32_t count;
  int error;

  if ((error = load_doc(impl, &doc, id, err, errsize)) == 0 && (error = head_of(&h, &count, doc, err, errsize)) == 0)
    error = rr_report_next_version(out_version, out_expect, &h, err, errsize);
  bson_destroy(doc);
  return error;
}

/* The PDF of version `version` in chunks (idempotent: a chunk already
 * there with the same key is left as it is). */
static int write_pdf(rr_mongo_store *s, int64_t id, int64_t version, const rr_report_signature *sig, char *err,
                     size_t errsize)
{
  uint32_t count = (uint32_t)((sig->pdf_size + PDF_CHUNK - 1) / PDF_CHUNK), n;
  int error = 0;

  if (count == 0)
    count = 1;
  for (n = 0; n < count && error == 0; n++) {
    size_t at = (size_t)n * PDF_CHUNK, len = sig->pdf_size - at < PDF_CHUNK ? sig->pdf_size - at : PDF_CHUNK;
    bson_t *filter = BCON_NEW("report_id", BCON_INT64(id), "version", BCON_INT64(version), "sha256",
                              BCON_UTF8(sig->pdf_sha256), "n", BCON_INT32((int32_t)n));
    bson_t upd = BSON_INITIALIZER, once;

    BSON_APPEND_DOCUMENT_BEGIN(&upd, "$setOnInsert", &once);
    BSON_APPEND_INT32(&once, "count", (int32_t)count);
    BSON_APPEND_BINARY(&once, "data", BSON_SUBTYPE_BINARY, sig->pdf_size > 0 ? sig->pdf + at : (const uint8_t *)"",
                       (uint32_t)len);
    bson_append_document_end(&upd, &once);
    error = rr_mongo_write(s, NULL, PDFS, RR_MONGO_UPDATE_ONE, filter, &upd, true, "writing a report PDF", err,
                           errsize);
    if (error == RR_EEXISTS) /* a racing writer of the same bytes */
      error = 0;
    bson_destroy(filter);
    bson_destroy(&upd);
  }
  return error;
}

/* After a signature that did not happen: its chunks, unless the version
 * stored names the same bytes (a racing signer of the same PDF won). */
static void drop_pdf(rr_mongo_store *s, int64_t id, int64_t version, const char *sha256)
{
  rr_report_version v;
  bson_t *doc = NULL, *filter;
  char ignored[8];
  bool keep = false;

  if (load_doc(s, &doc, id, ignored, sizeof(ignored)) == 0 && version_of(&v, doc, version) == 0) {
    keep = strcmp(v.pdf_sha256, sha256) == 0;
    rr_report_version_dispose(&v);
  }
  bson_destroy(doc);
  if (keep)
    return;
  filter = BCON_NEW("report_id", BCON_INT64(id), "version", BCON_INT64(version), "sha256", BCON_UTF8(sha256));
  rr_mongo_write(s, NULL, PDFS, RR_MONGO_DELETE_MANY, filter, NULL, false, "removing a report PDF", ignored,
                 sizeof(ignored));
  bson_destroy(filter);
}

/* Freezes *v as `status` with the signature. */
static void sign_version(rr_report_version *v, const char *status, const rr_report_signature *sig)
{
  rr_str_copy(v->status, sizeof(v->status), status);
  rr_str_copy(v->signed_by, sizeof(v->signed_by), sig->signed_by);
  v->signed_at = v->updated_at = sig->signed_at;
  rr_str_copy(v->pdf_sha256, sizeof(v->pdf_sha256), sig->pdf_sha256);
  v->revision++;
}

/* The report's fields after a signature of `version`. */
static void append_signed(bson_t *set, const char *state, bool final, int64_t version, const rr_report_signature *sig)
{
  BSON_APPEND_UTF8(set, "state", state);
  if (final)
    BSON_APPEND_INT64(set, "prevailing_version", version);
  BSON_APPEND_UTF8(set, "signed_by", sig->signed_by);
  BSON_APPEND_INT64(set, "signed_at", sig->signed_at);
  BSON_APPEND_INT64(set, "updated_at", sig->signed_at);
  if (sig->critical_json != NULL)
    BSON_APPEND_UTF8(set, "critical_json", sig->critical_json);
}

typedef struct sign_ctx {
  rr_mongo_store *s;
  const rr_report_expect *expect;
  const char *status;
  bool final;
  const rr_report_signature *sig;
  int64_t version;  /* out */
  int64_t written;  /* the version whose PDF chunks were written (0: none) */
} sign_ctx;

/* The PDF for version v before the signature names it (once per version). */
static int pdf_for(sign_ctx *a, int64_t id, int64_t v, char *err, size_t errsize)
{
  int error;

  if (a->written == v)
    return 0;
  if (a->written != 0)
    drop_pdf(a->s, id, a->written, a->sig->pdf_sha256);
  a->written = 0;
  if ((error = write_pdf(a->s, id, v, a->sig, err, errsize)) == 0)
    a->written = v;
  return error;
}

static int plan_sign(void *ctx, bson_t *set, const bson_t *doc, const rr_report_head *h, uint32_t count, char *err,
                     size_t errsize)
{
  sign_ctx *a = ctx;
  rr_report_version v;
  bool copy = false;
  int error;

  a->version = 0;
  if ((error = rr_report_check_editable(h, "sign", err, errsize)) < 0 ||
      (error = rr_report_check_expect(h, a->expect, err, errsize)) < 0 ||
      (error = rr_report_plan_sign(&a->version, &copy, h, a->final, a->sig, err, errsize)) < 0)
    return error;
  if ((error = pdf_for(a, h->id, a->version, err, errsize)) < 0)
    return error;
  error = copy ? copy_as_draft(&v, doc, h->latest, a->version, a->sig->signed_by, a->sig->signed_at)
               : version_of(&v, doc, h->latest);
  if (error < 0)
    return rr_fail(err, errsize, error == RR_ENOMEM ? RR_ENOMEM : RR_ESTORE, "reading the version to sign failed");
  sign_version(&v, a->status, a->sig);
  append_versions(set, doc, copy ? count : count - 1, copy ? NULL : &v, copy ? &v : NULL);
  append_signed(set, a->final ? "final" : "preliminary", a->final, a->version, a->sig);
  rr_report_version_dispose(&v);
  return 0;
}

/* After a signature: the timeline's first preliminary / final and the
 * study's fields; on failure, the chunks written for nothing. */
static int signed_after(sign_ctx *a, int64_t id, const rr_report_head *h, int error, char *err, size_t errsize)
{
  if (error < 0) {
    if (a->written != 0)
      drop_pdf(a->s, id, a->written, a->sig->pdf_sha256);
    return error;
  }
  if ((error = rr_mongo_report_timeline_mark(a->s, h->study_uid, a->final ? "final_at" : "preliminary_at",
                                             a->sig->signed_at, err, errsize)) < 0)
    return error;
  return after_write(a->s, h->study_uid, 0, err, errsize);
}

static int mongo_report_sign(void *impl, int64_t *out_version, int64_t id, const rr_report_expect *expect,
                             const char *status, const rr_report_signature *sig, char *err, size_t errsize)
{
  sign_ctx a = {impl, expect, status, false, sig, 0, 0};
  rr_report_head h;
  int error;

  if ((error = rr_report_check_sign(&a.final, status, sig, err, errsize)) < 0)
    return error;
  error = signed_after(&a, id, &h, mutate(impl, &h, id, plan_sign, &a, err, errsize), err, errsize);
  if (error == 0 && out_version != NULL)
    *out_version = a.version;
  return error;
}

typedef struct add_ctx {
  sign_ctx sign;
  int64_t expected_prevailing;
  const char *kind, *fields_json, *text;
  bool addendum;
} add_ctx;

static int plan_add(void *ctx, bson_t *set, const bson_t *doc, const rr_report_head *h, uint32_t count, char *err,
                    size_t errsize)
{
  add_ctx *a = ctx;
  const rr_report_signature *sig = a->sign.sig;
  rr_report_version v;
  int error;

  (void)count;
  if ((error = rr_report_plan_add(&a->sign.version, h, a->kind, a->expected_prevailing, err, errsize)) < 0)
    return error;
  if ((error = pdf_for(&a->sign, h->id, a->sign.version, err, errsize)) < 0)
    return error;
  if ((error = copy_as_draft(&v, doc, h->prevailing, a->sign.version, sig->signed_by, sig->signed_at)) < 0)
    return rr_fail(err, errsize, error == RR_ENOMEM ? RR_ENOMEM : RR_ESTORE, "reading the prevailing version failed");
  rr_str_copy(v.kind, sizeof(v.kind), a->kind);
  free(v.text);
  v.text = NULL;
  if ((!a->addendum && replace_text(&v.fields_json, a->fields_json) < 0) || replace_text(&v.text, a->text) < 0) {
    rr_report_version_dispose(&v);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  sign_version(&v, "final", sig);
  append_versions(set, doc, UINT32_MAX, NULL, &v);
  append_signed(set, a->addendum ? "appended" : "corrected", true, a->sign.version, sig);
  rr_report_version_dispose(&v);
  return 0;
}

static int mongo_report_add_version(void *impl, int64_t *out_version, int64_t id, int64_t expected_prevailing,
                                    const char *kind, const char *fields_json, const char *text,
                                    const rr_report_signature *sig, char *err, size_t errsize)
{
  add_ctx a;
  rr_report_head h;
  int error;

  memset(&a, 0, sizeof(a));
  a.sign.s = impl;
  a.sign.sig = sig;
  a.sign.final = true;
  a.expected_prevailing = expected_prevailing;
  a.kind = kind;
  a.fields_json = fields_json;
  a.text = text;
  if ((error = rr_report_check_add(&a.addendum, kind, fields_json, text, sig, err, errsize)) < 0)
    return error;
  error = signed_after(&a.sign, id, &h, mutate(impl, &h, id, plan_add, &a, err, errsize), err, errsize);
  if (error == 0 && out_version != NULL)
    *out_version = a.sign.version;
  return error;
}

/* ------------------------------------------------------------ closing */

typedef struct close_ctx {
  const char *state, *by, *reason;
  int64_t now;
} close_ctx;

static int plan_close(void *ctx, bson_t *set, const bson_t *doc, const rr_report_head *h, uint32_t count, char *err,
                      size_t errsize)
{
  close_ctx *a = ctx;
  bool cancel = strcmp(a->state, "cancelled") == 0;
  rr_report_version v;
  int error;

  if ((error = rr_report_check_close_state(h, cancel, err, errsize)) < 0)
    return error;
  if (cancel && strcmp(h->status, "draft") == 0) {
    if ((error = version_of(&v, doc, h->latest)) < 0)
      return rr_fail(err, errsize, error == RR_ENOMEM ? RR_ENOMEM : RR_ESTORE, "reading the draft failed");
    rr_str_copy(v.status, sizeof(v.status), "cancelled");
    rr_str_copy(v.updated_by, sizeof(v.updated_by), a->by);
    v.updated_at = a->now;
    v.revision++;
    append_versions(set, doc, count - 1, &v, NULL);
    rr_report_version_dispose(&v);
  }
  BSON_APPEND_UTF8(set, "state", a->state);
  BSON_APPEND_UTF8(set, "state_reason", a->reason);
  BSON_APPEND_UTF8(set, "state_by", a->by);
  BSON_APPEND_INT64(set, "updated_at", a->now);
  return 0;
}

static int close_report(rr_mongo_store *s, int64_t id, const char *state, const char *by, const char *reason,
                        int64_t now, char *err, size_t errsize)
{
  close_ctx a = {state, by, reason, now};
  rr_report_head h;
  int error;

  if ((error = rr_report_check_close(by, reason, err, errsize)) < 0 ||
      (error = mutate(s, &h, id, plan_close, &a, err, errsize)) < 0 ||
      (error = release_claim(s, h.study_uid, id, err, errsize)) < 0)
    return error;
  return after_write(s, h.study_uid, 0, err, errsize);
}

static int mongo_report_cancel(void *impl, int64_t id, const char *by, const char *reason, int64_t now, char *err,
                               size_t errsize)
{
  return close_report(impl, id, "cancelled", by, reason, now, err, errsize);
}

static int mongo_report_entered_in_error(void *impl, int64_t id, const char *by, const char *reason, int64_t now,
                                         char *err, size_t errsize)
{
  return close_report(impl, id, "entered-in-error", by, reason, now, err, errsize);
}

typedef struct ack_ctx {
  const char *username;
  char user_key[RR_USERNAME_SIZE]; /* username in ASCII lower case */
  int64_t now;
  bool added; /* out: false when the user had acknowledged already */
} ack_ctx;

typedef struct ack_find_ctx {
  const char *username;
  bool found;
} ack_find_ctx;

static int find_ack(void *ctx, uint32_t i, const bson_t *elem)
{
  ack_find_ctx *f = ctx;
  char user[RR_USERNAME_SIZE];

  (void)i;
  rr_mongo_copy(user, sizeof(user), elem, "username");
  f->found = f->found || strcasecmp(user, f->username) == 0;
  return 0;
}

static int plan_ack(void *ctx, bson_t *set, const bson_t *doc, const rr_report_head *h, uint32_t count, char *err,
                    size_t errsize)
{
  ack_ctx *a = ctx;
  ack_find_ctx f = {a->username, false};
  bson_iter_t it, child;
  bson_t arr, one;
  char buf[16];
  uint32_t i = 0;
  int error;

  (void)count;
  if ((error = rr_report_check_ack(h, err, errsize)) < 0)
    return error;
  each_element(doc, "acks", find_ack, &f);
  a->added = !f.found;
  BSON_APPEND_ARRAY_BEGIN(set, "acks", &arr);
  if (bson_iter_init_find(&it, doc, "acks") && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &child))
    while (bson_iter_next(&child))
      bson_append_value(&arr, key_of(i++, buf, sizeof(buf)), -1, bson_iter_value(&child));
  if (a->added) {
    BSON_APPEND_DOCUMENT_BEGIN(&arr, key_of(i, buf, sizeof(buf)), &one);
    BSON_APPEND_UTF8(&one, "username", a->username);
    BSON_APPEND_UTF8(&one, "user_key", a->user_key);
    BSON_APPEND_INT64(&one, "at", a->now);
    bson_append_document_end(&arr, &one);
  }
  bson_append_array_end(set, &arr);
  return 0;
}

static int mongo_report_acknowledge(void *impl, int64_t id, const char *username, int64_t now, char *err,
                                    size_t errsize)
{
  ack_ctx a;
  rr_report_head h;
  int error;

  if ((error = rr_report_check_user("user", username, err, errsize)) < 0)
    return error;
  memset(&a, 0, sizeof(a));
  memset(&h, 0, sizeof(h));
  a.username = username;
  a.now = now;
  rr_mongo_user_key(a.user_key, sizeof(a.user_key), username);
  return after_write(impl, h.study_uid, mutate(impl, &h, id, plan_ack, &a, err, errsize), err, errsize);
}

/* ------------------------------------------------------------ PDF */

typedef struct chunks_ctx {
  unsigned char *bytes;
  size_t size;
  int32_t count, next; /* chunks of the PDF (1 until the first is read), the next to read */
} chunks_ctx;

/* Appends chunk c->next; RR_ESTORE when it is not that chunk or the bytes
 * exceed the bound. */
static int read_chunk(chunks_ctx *c, const bson_t *doc)
{
  bson_iter_t it;
  bson_subtype_t sub;
  const uint8_t *data;
  uint32_t len;
  unsigned char *grown;

  if (rr_mongo_int(doc, "n") != c->next || !bson_iter_init_find(&it, doc, "data") || !BSON_ITER_HOLDS_BINARY(&it))
    return RR_ESTORE;
  c->count = (int32_t)rr_mongo_int(doc, "count");
  bson_iter_binary(&it, &sub, &len, &data);
  if (c->size + len > RR_REPORT_PDF_MAX)
    return RR_ESTORE;
  if (len > 0) {
    if ((grown = realloc(c->bytes, c->size + len)) == NULL)
      return RR_ENOMEM;
    c->bytes = grown;
    memcpy(c->bytes + c->size, data, len);
    c->size += len;
  }
  c->next++;
  return 0;
}

/* Chunk c->next of v's PDF appended to c: one query per chunk, so that no
 * reply holds more than one (a reply is at most 16 MiB). */
static int next_chunk(rr_mongo_store *s, chunks_ctx *c, const rr_report_version *v, bool *found, char *err,
                      size_t errsize)
{
  bson_t *filter = BCON_NEW("report_id", BCON_INT64(v->report_id), "version", BCON_INT64(v->version), "sha256",
                            BCON_UTF8(v->pdf_sha256), "n", BCON_INT32(c->next));
  bson_t *doc = NULL;
  int error = rr_mongo_find_one(s, &doc, PDFS, filter, NULL, "reading a report PDF", err, errsize);

  *found = doc != NULL;
  if (error == 0 && doc != NULL && (error = read_chunk(c, doc)) == RR_ENOMEM)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else if (error == RR_ESTORE && doc != NULL)
    error = rr_fail(err, errsize, RR_ESTORE, "mongodb: a chunk of the PDF of report %lld version %lld is damaged",
                    (long long)v->report_id, (long long)v->version);
  bson_destroy(doc);
  bson_destroy(filter);
  return error;
}

/* The chunks of v's PDF into v->pdf; RR_ESTORE when one is missing. */
static int load_pdf(rr_mongo_store *s, rr_report_version *v, char *err, size_t errsize)
{
  chunks_ctx c = {NULL, 0, 1, 0};
  bool found = true;
  int error = 0;

  while (error == 0 && found && c.next < c.count)
    error = next_chunk(s, &c, v, &found, err, errsize);
  if (error == 0 && !found)
    error = rr_fail(err, errsize, RR_ESTORE, "mongodb: the PDF of report %lld version %lld is incomplete",
                    (long long)v->report_id, (long long)v->version);
  if (error == 0 && (v->pdf = c.bytes ? c.bytes : malloc(1)) == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if (error == 0) {
    v->pdf_size = c.size;
    c.bytes = NULL;
  }
  free(c.bytes);
  return error;
}

static int mongo_report_pdf(void *impl, rr_report_version *out, int64_t id, int64_t version, char *err,
                            size_t errsize)
{
  bson_t *doc = NULL;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = load_doc(impl, &doc, id, err, errsize)) == 0) {
    if ((error = version_of(out, doc, version)) == RR_ENOMEM)
      error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    else if (error == 0 && out->pdf_sha256[0] != '\0')
      error = load_pdf(impl, out, err, errsize);
  }
  bson_destroy(doc);
  return rr_report_pdf_result(error, out, id, version, err, errsize);
}

/* ------------------------------------------------------------ set-up */

int rr_mongo_reports_indexes(rr_mongo_store *s, char *err, size_t errsize)
{
  int error;

  if ((error = rr_mongo_index(s, REPORTS, "reports_id", BCON_NEW("id", BCON_INT32(1)), true, NULL, err, errsize)) <
        0 ||
      (error = rr_mongo_index(s, REPORTS, "reports_study", BCON_NEW("study_uid", BCON_INT32(1), "id", BCON_INT32(-1)),
                              false, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, REPORTS, "reports_order",
                              BCON_NEW("critical", BCON_INT32(-1), "signed_at", BCON_INT32(-1), "updated_at",
                                       BCON_INT32(-1), "id", BCON_INT32(-1)),
                              false, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, PDFS, "report_pdfs_key",
                              BCON_NEW("report_id", BCON_INT32(1), "version", BCON_INT32(1), "sha256", BCON_INT32(1),
                                       "n", BCON_INT32(1)),
                              true, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, STUDY_REPORTS, "study_reports_uid", BCON_NEW("study_uid", BCON_INT32(1)), true, NULL,
                              err, errsize)) < 0)
    return error;
  return rr_mongo_report_reads_indexes(s, err, errsize);
}

const rr_store_reports_ops rr_mongo_reports_ops = {
  .create = mongo_report_create,
  .get = mongo_report_get,
  .for_study = mongo_report_for_study,
  .open_for_study = mongo_report_open_for_study,
  .save_draft = mongo_report_save_draft,
  .next_version = mongo_report_next_version,
  .sign = mongo_report_sign,
  .add_version = mongo_report_add_version,
  .cancel = mongo_report_cancel,
  .entered_in_error = mongo_report_entered_in_error,
  .acknowledge = mongo_report_acknowledge,
  .pdf = mongo_report_pdf,
  .list = rr_mongo_report_list,
  .has_final = rr_mongo_report_has_final,
  .opened = rr_mongo_report_opened,
  .timeline = rr_mongo_report_timeline,
  .macro_list = rr_mongo_macro_list,
  .macro_put = rr_mongo_macro_put,
  .macro_remove = rr_mongo_macro_remove,
};
