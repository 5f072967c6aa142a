/*
 * store_mongo_ai.c - the MongoDB backend's AI concern: analyses (collection
 * `aianalyses`, as in the original design: the job queue and its results),
 * their review history (`aireviews`), usage counts, and each study's AI
 * state for the worklist (`study_ai`), as the SQLite backend
 * (store_sqlite_ai.c) does.
 *
 * An analysis document is keyed by its `id` (unique index; _id an ObjectId)
 * and ordered by requested_at then `ord` (a sequence from `counters`).
 * create is an upsert with $setOnInsert on the id, so a used id is RR_EEXISTS
 * even where the server does not enforce unique indexes. A claim is one
 * findAndModify (the oldest queued analysis becomes running, attempts + 1):
 * atomic on one document, so two workers, on any nodes, never take the same.
 *
 * Each study's AI state: ai_status is the status of the study's newest
 * analysis, review_status the review status of its newest completed one
 * ("" when none). It is kept in `study_ai` ({study_uid, ai_status,
 * review_status}, unique on study_uid: the state even of a study not yet
 * indexed) and copied onto every `studies` document of the UID, the fields
 * the worklist (store_mongo_worklist.c) filters and shows. MongoDB has no
 * triggers: every write here that can change them recomputes both
 * afterwards from `aianalyses` (a recomputation racing another ends with
 * what the last one read; the next write of the study settles it).
 * One node: recover requeues every running analysis (the backend has no
 * cluster concern, so there are no other live nodes to spare).
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "store_mongo_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define AI "aianalyses"
#define REVIEWS "aireviews"
#define STUDY_AI "study_ai"

static const char INTERRUPTED[] = "the analysis was interrupted 3 times (Orthanc stopped while it ran); not retried";

static int read_ai(void *elem, const bson_t *doc, void *ctx)
{
  rr_ai_analysis *a = elem;
  bson_iter_t it;

  (void)ctx;
  memset(a, 0, sizeof(*a));
  rr_mongo_copy(a->id, sizeof(a->id), doc, "id");
  rr_mongo_copy(a->study_uid, sizeof(a->study_uid), doc, "study_uid");
  rr_mongo_copy(a->orthanc_study_id, sizeof(a->orthanc_study_id), doc, "orthanc_study_id");
  rr_mongo_copy(a->provider, sizeof(a->provider), doc, "provider");
  rr_mongo_copy(a->model_requested, sizeof(a->model_requested), doc, "model_requested");
  rr_mongo_copy(a->model_version, sizeof(a->model_version), doc, "model_version");
  rr_mongo_copy(a->status, sizeof(a->status), doc, "status");
  rr_mongo_copy(a->requested_by, sizeof(a->requested_by), doc, "requested_by");
  a->requested_at = rr_mongo_int(doc, "requested_at");
  a->started_at = rr_mongo_int(doc, "started_at");
  a->finished_at = rr_mongo_int(doc, "finished_at");
  a->attempts = rr_mongo_int(doc, "attempts");
  a->summary = rr_mongo_strdup(doc, "summary");
  a->findings_json = rr_mongo_strdup(doc, "findings_json");
  a->has_ai_confidence_score = bson_iter_init_find(&it, doc, "ai_confidence_score") && BSON_ITER_HOLDS_NUMBER(&it);
  a->ai_confidence_score = rr_mongo_double(doc, "ai_confidence_score");
  a->images_json = rr_mongo_strdup(doc, "images_json");
  rr_mongo_copy(a->prompt_version, sizeof(a->prompt_version), doc, "prompt_version");
  rr_mongo_copy(a->schema_version, sizeof(a->schema_version), doc, "schema_version");
  a->prompt_tokens = rr_mongo_int(doc, "prompt_tokens");
  a->completion_tokens = rr_mongo_int(doc, "completion_tokens");
  a->latency_ms = rr_mongo_int(doc, "latency_ms");
  a->cost = rr_mongo_double(doc, "cost");
  a->error = rr_mongo_strdup(doc, "error");
  a->raw_text = rr_mongo_strdup(doc, "raw_text");
  rr_mongo_copy(a->review_status, sizeof(a->review_status), doc, "review_status");
  rr_mongo_copy(a->reviewed_by, sizeof(a->reviewed_by), doc, "reviewed_by");
  a->reviewed_at = rr_mongo_int(doc, "reviewed_at");
  a->radiologist_notes = rr_mongo_strdup(doc, "radiologist_notes");
  rr_mongo_copy(a->ai_confidence, sizeof(a->ai_confidence), doc, "ai_confidence_band");
  if (!a->summary || !a->findings_json || !a->images_json || !a->error || !a->raw_text || !a->radiologist_notes) {
    rr_ai_analysis_dispose(a);
    return RR_ENOMEM;
  }
  return 0;
}

/* The fields update writes: all but id, study, requester, request time. */
static void append_mutable(bson_t *b, const rr_ai_analysis *a)
{
  BSON_APPEND_UTF8(b, "orthanc_study_id", a->orthanc_study_id);
  BSON_APPEND_UTF8(b, "provider", a->provider);
  BSON_APPEND_UTF8(b, "model_requested", a->model_requested);
  BSON_APPEND_UTF8(b, "model_version", a->model_version);
  BSON_APPEND_UTF8(b, "status", a->status);
  BSON_APPEND_INT64(b, "started_at", a->started_at);
  BSON_APPEND_INT64(b, "finished_at", a->finished_at);
  BSON_APPEND_INT64(b, "attempts", a->attempts);
  BSON_APPEND_UTF8(b, "summary", a->summary ? a->summary : "");
  BSON_APPEND_UTF8(b, "findings_json", a->findings_json ? a->findings_json : "");
  if (a->has_ai_confidence_score)
    BSON_APPEND_DOUBLE(b, "ai_confidence_score", a->ai_confidence_score);
  else
    BSON_APPEND_NULL(b, "ai_confidence_score");
  BSON_APPEND_UTF8(b, "images_json", a->images_json ? a->images_json : "[]");
  BSON_APPEND_UTF8(b, "prompt_version", a->prompt_version);
  BSON_APPEND_UTF8(b, "schema_version", a->schema_version);
  BSON_APPEND_INT64(b, "prompt_tokens", a->prompt_tokens);
  BSON_APPEND_INT64(b, "completion_tokens", a->completion_tokens);
  BSON_APPEND_INT64(b, "latency_ms", a->latency_ms);
  BSON_APPEND_DOUBLE(b, "cost", a->cost);
  BSON_APPEND_UTF8(b, "error", a->error ? a->error : "");
  BSON_APPEND_UTF8(b, "raw_text", a->raw_text ? a->raw_text : "");
  BSON_APPEND_UTF8(b, "review_status", a->review_status[0] ? a->review_status : "pending");
  BSON_APPEND_UTF8(b, "reviewed_by", a->reviewed_by);
  BSON_APPEND_INT64(b, "reviewed_at", a->reviewed_at);
  BSON_APPEND_UTF8(b, "radiologist_notes", a->radiologist_notes ? a->radiologist_notes : "");
  BSON_APPEND_UTF8(b, "ai_confidence_band", a->ai_confidence);
}

/* One update of `name` (update_one or, `many`, update_many; opts holds
 * only {upsert: true} or is NULL); *matched and *upserted receive the counts
 * (either may be NULL). */
static int update(rr_mongo_store *s, const char *name, bool many, const bson_t *filter, const bson_t *upd,
                  const bson_t *opts, int64_t *matched, int64_t *upserted, const char *what, char *err, size_t errsize)
{
  rr_mongo_write_counts w;
  int error = rr_mongo_write(s, &w, name, many ? RR_MONGO_UPDATE_MANY : RR_MONGO_UPDATE_ONE, filter, upd,
                             opts != NULL && rr_mongo_bool(opts, "upsert"), what, err, errsize);

  if (matched != NULL)
    *matched = w.matched;
  if (upserted != NULL)
    *upserted = w.upserted;
  return error;
}

/* The status (or, for_review, the review status of the newest completed
 * one) of the study's newest analysis; "" when none. */
static int newest(rr_mongo_store *s, char *out, size_t size, const char *study_uid, bool for_review, char *err,
                  size_t errsize)
{
  bson_t *filter = for_review ? BCON_NEW("study_uid", BCON_UTF8(study_uid), "status", BCON_UTF8("completed"))
                              : BCON_NEW("study_uid", BCON_UTF8(study_uid));
  bson_t *opts = BCON_NEW("sort", "{", "requested_at", BCON_INT32(-1), "ord", BCON_INT32(-1), "}", "limit",
                          BCON_INT64(1));
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, AI);
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
  const bson_t *doc;
  bson_error_t e;
  int error = 0;

  out[0] = '\0';
  if (mongoc_cursor_next(cur, &doc))
    rr_mongo_copy(out, size, doc, for_review ? "review_status" : "status");
  else if (mongoc_cursor_error(cur, &e))
    error = rr_mongo_fail(err, errsize, &e, "study AI state");
  mongoc_cursor_destroy(cur);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(filter);
  bson_destroy(opts);
  return error;
}

/* Recompute the study's study_ai document from its analyses. */
static int refresh_study(rr_mongo_store *s, const char *study_uid, char *err, size_t errsize)
{
  char ai_status[32], review_status[32];
  bson_t *filter, *upd, *opts;
  int error;

  if ((error = newest(s, ai_status, sizeof(ai_status), study_uid, false, err, errsize)) < 0 ||
      (error = newest(s, review_status, sizeof(review_status), study_uid, true, err, errsize)) < 0)
    return error;
  filter = BCON_NEW("study_uid", BCON_UTF8(study_uid));
  upd = BCON_NEW("$set", "{", "ai_status", BCON_UTF8(ai_status), "review_status", BCON_UTF8(review_status), "}");
  opts = BCON_NEW("upsert", BCON_BOOL(true));
  error = update(s, STUDY_AI, false, filter, upd, opts, NULL, NULL, "study AI state", err, errsize);
  if (error == RR_EEXISTS) /* created by another writer at the same moment: set it */
    error = update(s, STUDY_AI, false, filter, upd, NULL, NULL, NULL, "study AI state", err, errsize);
  /* the worklist's copy on every study document of the UID (store_mongo_index.c) */
  if (error == 0)
    error = update(s, "studies", true, filter, upd, NULL, NULL, NULL, "study AI state", err, errsize);
  bson_destroy(filter);
  bson_destroy(upd);
  bson_destroy(opts);
  return error;
}

static int mongo_ai_create(void *impl, const rr_ai_analysis *a, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t filter = BSON_INITIALIZER, upd = BSON_INITIALIZER, set;
  bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
  int64_t ord = 0, upserted = 0;
  int error;

  if (a->id[0] == '\0' || a->study_uid[0] == '\0' || a->status[0] == '\0') {
    bson_destroy(opts);
    return rr_fail(err, errsize, RR_EINVAL, "an analysis needs an id, a study and a status");
  }
  if ((error = rr_mongo_next_id(s, &ord, AI, err, errsize)) < 0)
    goto out;
  BSON_APPEND_UTF8(&filter, "id", a->id);
  BSON_APPEND_DOCUMENT_BEGIN(&upd, "$setOnInsert", &set);
  BSON_APPEND_UTF8(&set, "id", a->id);
  BSON_APPEND_UTF8(&set, "study_uid", a->study_uid);
  BSON_APPEND_UTF8(&set, "requested_by", a->requested_by);
  BSON_APPEND_INT64(&set, "requested_at", a->requested_at);
  BSON_APPEND_INT64(&set, "ord", ord);
  append_mutable(&set, a);
  bson_append_document_end(&upd, &set);
  error = update(s, AI, false, &filter, &upd, opts, NULL, &upserted, "create analysis", err, errsize);
  if (error == RR_EEXISTS || (error == 0 && upserted == 0))
    error = rr_fail(err, errsize, RR_EEXISTS, "an analysis with this id exists already");
  else if (error == 0)
    error = refresh_study(s, a->study_uid, err, errsize);
out:
  bson_destroy(&filter);
  bson_destroy(&upd);
  bson_destroy(opts);
  return error;
}

/* The analysis `id` into *out (zeroed first); RR_ENOTFOUND when none. */
static int get_one(rr_mongo_store *s, rr_ai_analysis *out, const char *id, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("id", BCON_UTF8(id));
  bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
  rr_ai_list *list = rr_store_list_new(&rr_ai_list_kind);
  int error;

  memset(out, 0, sizeof(*out));
  if (list == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(s, list, &rr_ai_list_kind, 1, AI, filter, opts, read_ai, NULL, "read analysis", err,
                               errsize);
  if (error == 0 && list->count == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
  else if (error == 0) {
    *out = list->items[0]; /* the texts move to *out */
    list->count = 0;
  }
  rr_ai_list_free(list);
  bson_destroy(filter);
  bson_destroy(opts);
  return error;
}

static int mongo_ai_get(void *impl, rr_ai_analysis *out, const char *id, char *err, size_t errsize)
{
  return get_one(impl, out, id, err, errsize);
}

static int mongo_ai_update(void *impl, const rr_ai_analysis *a, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t *filter = BCON_NEW("id", BCON_UTF8(a->id));
  bson_t upd = BSON_INITIALIZER, set;
  char study_uid[RR_UID_SIZE] = "";
  int64_t matched = 0;
  rr_ai_analysis now;
  int error;

  BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &set);
  append_mutable(&set, a);
  bson_append_document_end(&upd, &set);
  error = update(s, AI, false, filter, &upd, NULL, &matched, NULL, "update analysis", err, errsize);
  if (error == 0 && matched == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
  /* the stored study (the caller's may be empty: update does not write it) */
  if (error == 0 && (error = get_one(s, &now, a->id, err, errsize)) == 0) {
    rr_str_copy(study_uid, sizeof(study_uid), now.study_uid);
    rr_ai_analysis_dispose(&now);
    error = refresh_study(s, study_uid, err, errsize);
  }
  bson_destroy(filter);
  bson_destroy(&upd);
  return error;
}

static int mongo_ai_list_study(void *impl, rr_ai_list **out, const char *study_uid, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(study_uid));
  bson_t *opts = BCON_NEW("sort", "{", "requested_at", BCON_INT32(-1), "ord", BCON_INT32(-1), "}", "limit",
                          BCON_INT64(1000));
  rr_ai_list *list = rr_store_list_new(&rr_ai_list_kind);
  int error;

  *out = NULL;
  if (list == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(impl, list, &rr_ai_list_kind, 8, AI, filter, opts, read_ai, NULL, "analyses", err,
                               errsize);
  if (error == 0)
    *out = list;
  else
    rr_ai_list_free(list);
  bson_destroy(filter);
  bson_destroy(opts);
  return error;
}

static int mongo_ai_claim_next(void *impl, rr_ai_analysis *out, int64_t now, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, AI);
  bson_t *query = BCON_NEW("status", BCON_UTF8("queued"));
  bson_t *sort = BCON_NEW("requested_at", BCON_INT32(1), "ord", BCON_INT32(1));
  bson_t *upd = BCON_NEW("$set", "{", "status", BCON_UTF8("running"), "started_at", BCON_INT64(now), "}", "$inc", "{",
                         "attempts", BCON_INT64(1), "}");
  bson_t reply, value;
  bson_iter_t it;
  bson_error_t e;
  int error = RR_ENOTFOUND;

  memset(out, 0, sizeof(*out));
  if (!mongoc_collection_find_and_modify(coll, query, sort, upd, NULL, false, false, true, &reply, &e))
    error = rr_mongo_fail(err, errsize, &e, "claim");
  else if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
    const uint8_t *data;
    uint32_t len;

    bson_iter_document(&it, &len, &data);
    if (bson_init_static(&value, data, len))
      error = read_ai(out, &value, NULL) < 0 ? rr_fail(err, errsize, RR_ENOMEM, "out of memory") : 0;
  }
  bson_destroy(&reply);
  bson_destroy(query);
  bson_destroy(sort);
  bson_destroy(upd);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  if (error == 0 && (error = refresh_study(s, out->study_uid, err, errsize)) < 0)
    rr_ai_analysis_dispose(out);
  return error;
}

/* The studies (distinct) of the analyses matching filter, to refresh. */
typedef struct uid_set {
  char (*uids)[RR_UID_SIZE];
  size_t count, cap;
} uid_set;

static int studies_of(rr_mongo_store *s, uid_set *set, const bson_t *filter, char *err, size_t errsize)
{
  bson_t *opts = BCON_NEW("projection", "{", "study_uid", BCON_INT32(1), "}");
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, AI);
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
  const bson_t *doc;
  char uid[RR_UID_SIZE];
  bson_error_t e;
  size_t i;
  int error = 0;

  while (error == 0 && mongoc_cursor_next(cur, &doc)) {
    rr_mongo_copy(uid, sizeof(uid), doc, "study_uid");
    for (i = 0; i < set->count && strcmp(set->uids[i], uid) != 0; i++)
      ;
    if (i < set->count)
      continue;
    if (rr_store_grow((void **)&set->uids, &set->cap, set->count, sizeof(set->uids[0]), 16) < 0)
      error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    else
      rr_str_copy(set->uids[set->count++], RR_UID_SIZE, uid);
  }
  if (error == 0 && mongoc_cursor_error(cur, &e))
    error = rr_mongo_fail(err, errsize, &e, "analyses");
  mongoc_cursor_destroy(cur);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(opts);
  return error;
}

/* Refresh each study of the set, then release it. */
static int refresh_set(rr_mongo_store *s, uid_set *set, int error, char *err, size_t errsize)
{
  size_t i;

  for (i = 0; error == 0 && i < set->count; i++)
    error = refresh_study(s, set->uids[i], err, errsize);
  free(set->uids);
  return error;
}

static int mongo_ai_recover(void *impl, int64_t *requeued, int64_t now, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t *running = BCON_NEW("status", BCON_UTF8("running"));
  bson_t *worn = BCON_NEW("status", BCON_UTF8("running"), "attempts", "{", "$gte", BCON_INT64(3), "}");
  bson_t *fail = BCON_NEW("$set", "{", "status", BCON_UTF8("failed"), "finished_at", BCON_INT64(now), "error",
                          BCON_UTF8(INTERRUPTED), "}");
  bson_t *requeue = BCON_NEW("$set", "{", "status", BCON_UTF8("queued"), "started_at", BCON_INT64(0), "}");
  uid_set set = {NULL, 0, 0};
  int error;

  *requeued = 0;
  if ((error = studies_of(s, &set, running, err, errsize)) == 0 &&
      (error = update(s, AI, true, worn, fail, NULL, NULL, NULL, "recover analyses", err, errsize)) == 0)
    error = update(s, AI, true, running, requeue, NULL, requeued, NULL, "recover analyses", err, errsize);
  error = refresh_set(s, &set, error, err, errsize);
  bson_destroy(running);
  bson_destroy(worn);
  bson_destroy(fail);
  bson_destroy(requeue);
  return error;
}

static int mongo_ai_abandon(void *impl, int64_t *count, int64_t now, const char *reason, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t *waiting = BCON_NEW("status", "{", "$in", "[", BCON_UTF8("queued"), BCON_UTF8("running"), "]", "}");
  bson_t *fail = BCON_NEW("$set", "{", "status", BCON_UTF8("failed"), "finished_at", BCON_INT64(now), "error",
                          BCON_UTF8(reason ? reason : ""), "}");
  uid_set set = {NULL, 0, 0};
  int error;

  *count = 0;
  if ((error = studies_of(s, &set, waiting, err, errsize)) == 0)
    error = update(s, AI, true, waiting, fail, NULL, count, NULL, "abandon", err, errsize);
  error = refresh_set(s, &set, error, err, errsize);
  bson_destroy(waiting);
  bson_destroy(fail);
  return error;
}

/* review_add: the analysis' review fields, then one history document. Not
 * one transaction (the CongoDB test server has none): the history is
 * written after the analysis, so a failure between leaves the analysis
 * reviewed with its history short by one, never a history entry for a
 * review that did not happen. */
static int mongo_ai_review_add(void *impl, const rr_ai_review *r, const char *notes, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t *filter = BCON_NEW("id", BCON_UTF8(r->analysis_id));
  bson_t *upd = BCON_NEW("$set", "{", "review_status", BCON_UTF8(r->review_status), "reviewed_by",
                         BCON_UTF8(r->reviewer), "reviewed_at", BCON_INT64(r->at), "radiologist_notes",
                         BCON_UTF8(notes ? notes : ""), "}");
  bson_t *doc = NULL;
  mongoc_client_t *c;
  mongoc_collection_t *coll;
  bson_error_t e;
  rr_ai_analysis a;
  int64_t matched = 0, seq = 0;
  int error;

  error = update(s, AI, false, filter, upd, NULL, &matched, NULL, "review", err, errsize);
  if (error == 0 && matched == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
  if (error == 0 && (error = rr_mongo_next_id(s, &seq, REVIEWS, err, errsize)) == 0) {
    doc = BCON_NEW("seq", BCON_INT64(seq), "analysis_id", BCON_UTF8(r->analysis_id), "at", BCON_INT64(r->at),
                   "reviewer", BCON_UTF8(r->reviewer), "review_status", BCON_UTF8(r->review_status), "notes",
                   BCON_UTF8(r->notes ? r->notes : ""), "feedback_json",
                   BCON_UTF8(r->feedback_json ? r->feedback_json : "[]"));
    c = rr_mongo_pop(s);
    coll = rr_mongo_collection(s, c, REVIEWS);
    if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &e))
      error = rr_mongo_fail(err, errsize, &e, "review history");
    mongoc_collection_destroy(coll);
    rr_mongo_push(s, c);
  }
  if (error == 0 && (error = get_one(s, &a, r->analysis_id, err, errsize)) == 0) {
    error = refresh_study(s, a.study_uid, err, errsize);
    rr_ai_analysis_dispose(&a);
  }
  bson_destroy(doc);
  bson_destroy(filter);
  bson_destroy(upd);
  return error;
}

static int read_review(void *elem, const bson_t *doc, void *ctx)
{
  rr_ai_review *r = elem;

  (void)ctx;
  r->seq = rr_mongo_int(doc, "seq");
  rr_mongo_copy(r->analysis_id, sizeof(r->analysis_id), doc, "analysis_id");
  r->at = rr_mongo_int(doc, "at");
  rr_mongo_copy(r->reviewer, sizeof(r->reviewer), doc, "reviewer");
  rr_mongo_copy(r->review_status, sizeof(r->review_status), doc, "review_status");
  r->notes = rr_mongo_strdup(doc, "notes");
  r->feedback_json = rr_mongo_strdup(doc, "feedback_json");
  return r->notes == NULL || r->feedback_json == NULL ? RR_ENOMEM : 0;
}

static int mongo_ai_review_history(void *impl, rr_ai_review_list **out, const char *id, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("analysis_id", BCON_UTF8(id));
  bson_t *opts = BCON_NEW("sort", "{", "seq", BCON_INT32(1), "}");
  rr_ai_review_list *list = rr_store_list_new(&rr_ai_review_list_kind);
  int error;

  *out = NULL;
  if (list == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(impl, list, &rr_ai_review_list_kind, 8, REVIEWS, filter, opts, read_review, NULL,
                               "review history", err, errsize);
  if (error == 0)
    *out = list;
  else
    rr_ai_review_list_free(list);
  bson_destroy(filter);
  bson_destroy(opts);
  return error;
}

/* The number of elements of a JSON array text (0 when it is not one). */
static int64_t array_length(const char *text)
{
  json_object *o = text ? json_tokener_parse(text) : NULL;
  int64_t n = o != NULL && json_object_is_type(o, json_type_array) ? (int64_t)json_object_array_length(o) : 0;

  json_object_put(o);
  return n;
}

/* counts: the statuses with count_documents, the usage since `since` summed
 * over those analyses' documents (their numbers and image lists only). */
static int mongo_ai_counts(void *impl, rr_ai_counts *out, int64_t since, char *err, size_t errsize)
{
  static const char *const states[] = {"queued", "running", "completed", "failed"};
  int64_t *slots[] = {&out->queued, &out->running, &out->completed, &out->failed};
  rr_mongo_store *s = impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, AI);
  bson_t *filter, *opts;
  mongoc_cursor_t *cur;
  const bson_t *doc;
  bson_error_t e;
  int64_t n, total = 0;
  size_t i;
  int error = 0;

  memset(out, 0, sizeof(*out));
  for (i = 0; error == 0 && i < 5; i++) {
    filter = i < 4 ? BCON_NEW("status", BCON_UTF8(states[i])) : bson_new();
    if ((n = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &e)) < 0)
      error = rr_mongo_fail(err, errsize, &e, "AI counts");
    else if (i < 4)
      total += (*slots[i] = n);
    else
      out->other = n - total;
    bson_destroy(filter);
  }
  filter = BCON_NEW("requested_at", "{", "$gte", BCON_INT64(since), "}");
  opts = BCON_NEW("projection", "{", "prompt_tokens", BCON_INT32(1), "completion_tokens", BCON_INT32(1), "cost",
                  BCON_INT32(1), "images_json", BCON_INT32(1), "}");
  cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
  while (error == 0 && mongoc_cursor_next(cur, &doc)) {
    char *images = rr_mongo_strdup(doc, "images_json");

    out->analyses++;
    out->prompt_tokens += rr_mongo_int(doc, "prompt_tokens");
    out->completion_tokens += rr_mongo_int(doc, "completion_tokens");
    out->cost += rr_mongo_double(doc, "cost");
    out->images_sent += array_length(images);
    free(images);
  }
  if (error == 0 && mongoc_cursor_error(cur, &e))
    error = rr_mongo_fail(err, errsize, &e, "AI counts");
  mongoc_cursor_destroy(cur);
  bson_destroy(filter);
  bson_destroy(opts);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  return error;
}

int rr_mongo_ai_indexes(rr_mongo_store *s, char *err, size_t errsize)
{
  int error;

  if ((error = rr_mongo_index(s, AI, "aianalyses_id", BCON_NEW("id", BCON_INT32(1)), true, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, AI, "aianalyses_study",
                              BCON_NEW("study_uid", BCON_INT32(1), "requested_at", BCON_INT32(-1), "ord",
                                       BCON_INT32(-1)),
                              false, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, AI, "aianalyses_queue",
                              BCON_NEW("status", BCON_INT32(1), "requested_at", BCON_INT32(1), "ord", BCON_INT32(1)),
                              false, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, AI, "aianalyses_requested", BCON_NEW("requested_at", BCON_INT32(1)), false, NULL,
                              err, errsize)) < 0 ||
      (error = rr_mongo_index(s, REVIEWS, "aireviews_analysis",
                              BCON_NEW("analysis_id", BCON_INT32(1), "seq", BCON_INT32(1)), false, NULL, err,
                              errsize)) < 0 ||
      (error = rr_mongo_index(s, STUDY_AI, "study_ai_study", BCON_NEW("study_uid", BCON_INT32(1)), true, NULL, err,
                              errsize)) < 0 ||
      (error = rr_mongo_index(s, STUDY_AI, "study_ai_status", BCON_NEW("ai_status", BCON_INT32(1)), false, NULL, err,
                              errsize)) < 0)
    return error;
  return rr_mongo_index(s, STUDY_AI, "study_ai_review", BCON_NEW("review_status", BCON_INT32(1)), false, NULL, err,
                        errsize);
}

const rr_store_ai_ops rr_mongo_ai_ops = {
  .create = mongo_ai_create,
  .get = mongo_ai_get,
  .update = mongo_ai_update,
  .list_study = mongo_ai_list_study,
  .claim_next = mongo_ai_claim_next,
  .recover = mongo_ai_recover,
  .abandon = mongo_ai_abandon,
  .review_add = mongo_ai_review_add,
  .review_history = mongo_ai_review_history,
  .counts = mongo_ai_counts,
};
