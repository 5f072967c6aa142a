/*
 * store_mongo_report_outputs.c - the MongoDB backend's report outputs
 * concern (collection `report_outputs`, one document per (report id,
 * version, kind), unique): the durable queue of the DICOM objects each
 * signed report version puts back into the archive, as
 * store_sqlite_report_outputs.c (contract in store_report_outputs.h).
 *
 * Without transactions every change of state is one conditional update of
 * one document (atomic): claim is a findAndModify of the first due queued
 * job (created_at, report, version, kind order), so two claimers never take
 * the same; done, fail and retry name the state (and fail the attempts)
 * they read, and start again when another writer came first. "A claimer
 * holds one job at a time" is checked before the claim and, on MongoDB, by
 * a partial unique index on the claimer of running jobs (a second claim by
 * the same claimer at the same moment fails with a duplicate key:
 * RR_ECONFLICT); the CongoDB test server does not enforce that index.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_mongo_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define OUTPUTS "report_outputs"
#define MAX_TRIES 1000

static const char INTERRUPTED[] = "the try was interrupted (the process stopped) and no attempts are left";

static int kind_order(const char *kind)
{
  return kind == NULL ? -1 : strcmp(kind, "pdf") == 0 ? 0 : strcmp(kind, "sr") == 0 ? 1 : strcmp(kind, "kos") == 0 ? 2 : -1;
}

static int read_job(void *elem, const bson_t *doc, void *ctx)
{
  rr_report_output *o = elem;

  (void)ctx;
  memset(o, 0, sizeof(*o));
  o->report_id = rr_mongo_int(doc, "report_id");
  o->version = rr_mongo_int(doc, "version");
  rr_mongo_copy(o->kind, sizeof(o->kind), doc, "kind");
  rr_mongo_copy(o->state, sizeof(o->state), doc, "state");
  o->attempts = rr_mongo_int(doc, "attempts");
  rr_mongo_copy(o->last_error, sizeof(o->last_error), doc, "last_error");
  rr_mongo_copy(o->claimed_by, sizeof(o->claimed_by), doc, "claimed_by");
  rr_mongo_copy(o->orthanc_id, sizeof(o->orthanc_id), doc, "orthanc_id");
  rr_mongo_copy(o->sop_instance_uid, sizeof(o->sop_instance_uid), doc, "sop_instance_uid");
  o->next_attempt_at = rr_mongo_int(doc, "next_attempt_at");
  o->created_at = rr_mongo_int(doc, "created_at");
  o->updated_at = rr_mongo_int(doc, "updated_at");
  o->done_at = rr_mongo_int(doc, "done_at");
  return 0;
}

static const rr_store_list_kind output_list_kind = {
  sizeof(rr_report_output_list), offsetof(rr_report_output_list, items), offsetof(rr_report_output_list, count),
  sizeof(rr_report_output), NULL,
};

/* One update_one / update_many; *n the documents matched or upserted. */
static int put_doc(rr_mongo_store *s, int64_t *n, bool many, const bson_t *filter, const bson_t *upd, bool upsert,
                   const char *what, char *err, size_t errsize)
{
  rr_mongo_write_counts w;
  int error = rr_mongo_write(s, &w, OUTPUTS, many ? RR_MONGO_UPDATE_MANY : RR_MONGO_UPDATE_ONE, filter, upd, upsert,
                             what, err, errsize);

  *n = upsert ? w.upserted : w.matched;
  return error;
}

static int mongo_enqueue(void *impl, bool *created, int64_t report_id, int64_t version, const char *kind, int64_t now,
                         char *err, size_t errsize)
{
  bson_t *filter, *upd;
  int64_t n = 0;
  int error;

  if (created != NULL)
    *created = false;
  if (kind_order(kind) < 0 || report_id < 1 || version < 1)
    return rr_fail(err, errsize, RR_EINVAL, "a report output needs a report id, a version and a kind (pdf, sr, kos)");
  filter = BCON_NEW("report_id", BCON_INT64(report_id), "version", BCON_INT64(version), "kind", BCON_UTF8(kind));
  upd = BCON_NEW("$setOnInsert", "{", "report_id", BCON_INT64(report_id), "version", BCON_INT64(version), "kind",
                 BCON_UTF8(kind), "kind_order", BCON_INT32(kind_order(kind)), "state", BCON_UTF8("queued"),
                 "attempts", BCON_INT64(0), "last_error", BCON_UTF8(""), "claimed_by", BCON_UTF8(""), "orthanc_id",
                 BCON_UTF8(""), "sop_instance_uid", BCON_UTF8(""), "next_attempt_at", BCON_INT64(now), "created_at",
                 BCON_INT64(now), "updated_at", BCON_INT64(now), "done_at", BCON_INT64(0), "}");
  error = put_doc(impl, &n, false, filter, upd, true, "enqueueing a report output", err, errsize);
  if (error == RR_EEXISTS) /* enqueued at the same moment by another node */
    error = 0, n = 0;
  if (error == 0 && created != NULL)
    *created = n > 0;
  bson_destroy(filter);
  bson_destroy(upd);
  return error;
}

/* The jobs matching filter (sorted by version, kind) into a new list. */
static int find(rr_mongo_store *s, rr_report_output_list **out, const bson_t *filter, int64_t limit, char *err,
                size_t errsize)
{
  bson_t *opts = BCON_NEW("sort", "{", "version", BCON_INT32(1), "kind_order", BCON_INT32(1), "}", "limit",
                          BCON_INT64(limit));
  rr_report_output_list *list = rr_store_list_new(&output_list_kind);
  int error;

  *out = NULL;
  if (list == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(s, list, &output_list_kind, 4, OUTPUTS, filter, opts, read_job, NULL,
                               "reading report outputs", err, errsize);
  if (error == 0)
    *out = list;
  else
    rr_report_output_list_free(list);
  bson_destroy(opts);
  return error;
}

static int mongo_claim(void *impl, rr_report_output *out, const char *claimer, int64_t now, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t *held, *query, *sort, *upd;
  bson_t reply = BSON_INITIALIZER, value;
  rr_report_output_list *holding = NULL;
  mongoc_client_t *c;
  mongoc_collection_t *coll;
  bson_iter_t it;
  bson_error_t e;
  int error;

  memset(out, 0, sizeof(*out));
  if (claimer == NULL || claimer[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a claim needs the claimer's name");
  held = BCON_NEW("state", BCON_UTF8("running"), "claimed_by", BCON_UTF8(claimer));
  error = find(s, &holding, held, 1, err, errsize);
  bson_destroy(held);
  if (error == 0 && holding->count > 0)
    error = RR_ECONFLICT;
  rr_report_output_list_free(holding);
  if (error == RR_ECONFLICT)
    return rr_fail(err, errsize, RR_ECONFLICT, "this claimer holds a running report output already");
  if (error < 0)
    return error;
  query = BCON_NEW("state", BCON_UTF8("queued"), "next_attempt_at", "{", "$lte", BCON_INT64(now), "}");
  sort = BCON_NEW("created_at", BCON_INT32(1), "report_id", BCON_INT32(1), "version", BCON_INT32(1), "kind_order",
                  BCON_INT32(1));
  upd = BCON_NEW("$set", "{", "state", BCON_UTF8("running"), "claimed_by", BCON_UTF8(claimer), "updated_at",
                 BCON_INT64(now), "}", "$inc", "{", "attempts", BCON_INT64(1), "}");
  c = rr_mongo_pop(s);
  coll = rr_mongo_collection(s, c, OUTPUTS);
  error = RR_ENOTFOUND;
  if (!mongoc_collection_find_and_modify(coll, query, sort, upd, NULL, false, false, true, &reply, &e)) {
    error = rr_mongo_fail(err, errsize, &e, "claiming a report output");
    if (error == RR_EEXISTS) /* the partial unique index: this claimer took one at the same moment */
      error = rr_fail(err, errsize, RR_ECONFLICT, "this claimer holds a running report output already");
  } else if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
    const uint8_t *data;
    uint32_t len;

    bson_iter_document(&it, &len, &data);
    if (bson_init_static(&value, data, len))
      error = read_job(out, &value, NULL);
  }
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(&reply);
  bson_destroy(query);
  bson_destroy(sort);
  bson_destroy(upd);
  return error;
}

/* The job (report, version, kind) into *job; RR_ENOTFOUND with a sentence,
 * RR_ECONFLICT when it is not in state `want`. */
static int job_in(rr_mongo_store *s, rr_report_output *job, int64_t report_id, int64_t version, const char *kind,
                  const char *want, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("report_id", BCON_INT64(report_id), "version", BCON_INT64(version), "kind",
                            BCON_UTF8(kind ? kind : ""));
  rr_report_output_list *list = NULL;
  int error = find(s, &list, filter, 1, err, errsize);

  if (error == 0 && list->count == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no %s output of report %lld version %lld", kind ? kind : "",
                    (long long)report_id, (long long)version);
  else if (error == 0) {
    *job = list->items[0];
    if (strcmp(job->state, want) != 0)
      error = rr_fail(err, errsize, RR_ECONFLICT, "the %s output of report %lld version %lld is %s, not %s", job->kind,
                      (long long)report_id, (long long)version, job->state, want);
  }
  rr_report_output_list_free(list);
  bson_destroy(filter);
  return error;
}

/* Write job's state fields if the stored job is still in state `was` with
 * `attempts`; *n 0 when another writer came first. */
static int write_state(rr_mongo_store *s, int64_t *n, const rr_report_output *o, const char *was, int64_t attempts,
                       char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("report_id", BCON_INT64(o->report_id), "version", BCON_INT64(o->version), "kind",
                            BCON_UTF8(o->kind), "state", BCON_UTF8(was), "attempts", BCON_INT64(attempts));
  bson_t *upd = BCON_NEW("$set", "{", "state", BCON_UTF8(o->state), "last_error", BCON_UTF8(o->last_error),
                         "orthanc_id", BCON_UTF8(o->orthanc_id), "sop_instance_uid", BCON_UTF8(o->sop_instance_uid),
                         "next_attempt_at", BCON_INT64(o->next_attempt_at), "updated_at", BCON_INT64(o->updated_at),
                         "done_at", BCON_INT64(o->done_at), "attempts", BCON_INT64(o->attempts), "}");
  int error = put_doc(s, n, false, filter, upd, false, "updating a report output", err, errsize);

  bson_destroy(filter);
  bson_destroy(upd);
  return error;
}

/* 2^attempts seconds, at most the maximum back-off. */
static int64_t backoff_ms(int64_t attempts)
{
  if (attempts >= 10 || ((int64_t)1000 << attempts) > RR_REPORT_OUTPUT_MAX_BACKOFF_MS)
    return RR_REPORT_OUTPUT_MAX_BACKOFF_MS;
  return (int64_t)1000 << attempts;
}

typedef enum change_kind { CHANGE_DONE, CHANGE_FAIL, CHANGE_RETRY } change_kind;

typedef struct change_args {
  change_kind kind;
  const char *orthanc_id, *sop_uid, *error_text;
  int64_t max_attempts, now;
} change_args;

/* done, fail and retry: read the job, change it, write it back naming what
 * was read; again when another writer came first. */
static int change(rr_mongo_store *s, rr_report_output *out, int64_t report_id, int64_t version, const char *kind,
                  const change_args *a, char *err, size_t errsize)
{
  const char *want = a->kind == CHANGE_RETRY ? "failed" : "running";
  rr_report_output o;
  int64_t n = 0, was;
  bool last;
  int error = 0, i;

  for (i = 0; error == 0 && n == 0 && i < MAX_TRIES; i++) {
    if ((error = job_in(s, &o, report_id, version, kind, want, err, errsize)) < 0)
      break;
    was = o.attempts;
    o.updated_at = a->now;
    if (a->kind == CHANGE_DONE) {
      rr_str_copy(o.state, sizeof(o.state), "done");
      o.last_error[0] = '\0';
      rr_str_copy(o.orthanc_id, sizeof(o.orthanc_id), a->orthanc_id ? a->orthanc_id : "");
      rr_str_copy(o.sop_instance_uid, sizeof(o.sop_instance_uid), a->sop_uid ? a->sop_uid : "");
      o.done_at = a->now;
    } else if (a->kind == CHANGE_FAIL) {
      last = o.attempts >= a->max_attempts;
      rr_str_copy(o.state, sizeof(o.state), last ? "failed" : "queued");
      rr_str_copy(o.last_error, sizeof(o.last_error), a->error_text && a->error_text[0] ? a->error_text : "failed");
      o.next_attempt_at = last ? a->now : a->now + backoff_ms(o.attempts);
    } else {
      rr_str_copy(o.state, sizeof(o.state), "queued");
      o.attempts = 0;
      o.next_attempt_at = a->now;
    }
    error = write_state(s, &n, &o, want, was, err, errsize);
  }
  if (error == 0 && n == 0)
    error = rr_fail(err, errsize, RR_ESTORE, "mongodb: the report output kept changing; try again");
  if (error == 0 && out != NULL)
    *out = o;
  return error;
}

static int mongo_done(void *impl, int64_t report_id, int64_t version, const char *kind, const char *orthanc_id,
                      const char *sop_instance_uid, int64_t now, char *err, size_t errsize)
{
  change_args a = {CHANGE_DONE, orthanc_id, sop_instance_uid, NULL, 0, now};

  return change(impl, NULL, report_id, version, kind, &a, err, errsize);
}

static int mongo_fail(void *impl, rr_report_output *out, int64_t report_id, int64_t version, const char *kind,
                      const char *error_text, int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  change_args a = {CHANGE_FAIL, NULL, NULL, error_text, max_attempts, now};

  return change(impl, out, report_id, version, kind, &a, err, errsize);
}

static int mongo_retry(void *impl, int64_t report_id, int64_t version, const char *kind, int64_t now, char *err,
                       size_t errsize)
{
  change_args a = {CHANGE_RETRY, NULL, NULL, NULL, 0, now};

  return change(impl, NULL, report_id, version, kind, &a, err, errsize);
}

/* The running jobs requeue acts on, with their attempts compared to max
 * ("$gte" or "$lt"). */
static bson_t *requeue_filter(const char *claimer, int64_t stale_before, const char *cmp, int64_t max_attempts)
{
  bson_t *f = bson_new(), or, one;

  BSON_APPEND_UTF8(f, "state", "running");
  bson_append_document_begin(f, "attempts", -1, &one);
  BSON_APPEND_INT64(&one, cmp, max_attempts);
  bson_append_document_end(f, &one);
  BSON_APPEND_ARRAY_BEGIN(f, "$or", &or);
  BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &one);
  if (claimer != NULL)
    BSON_APPEND_UTF8(&one, "claimed_by", claimer);
  else
    BSON_APPEND_BOOL(&one, "_never_", true); /* no document has this field */
  bson_append_document_end(&or, &one);
  BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &one);
  if (stale_before == INT64_MAX) /* every running job: no comparison (a server reading int64 as a double may fail it) */
    BSON_APPEND_UTF8(&one, "state", "running");
  else
    BCON_APPEND(&one, "updated_at", "{", "$lt", BCON_INT64(stale_before), "}");
  bson_append_document_end(&or, &one);
  bson_append_array_end(f, &or);
  return f;
}

static int mongo_requeue(void *impl, int64_t *requeued, int64_t *failed, const char *claimer, int64_t stale_before,
                         int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  bson_t *worn = requeue_filter(claimer, stale_before, "$gte", max_attempts);
  bson_t *fresh = requeue_filter(claimer, stale_before, "$lt", max_attempts);
  bson_t *fail = BCON_NEW("$set", "{", "state", BCON_UTF8("failed"), "last_error", BCON_UTF8(INTERRUPTED),
                          "updated_at", BCON_INT64(now), "}");
  bson_t *requeue = BCON_NEW("$set", "{", "state", BCON_UTF8("queued"), "next_attempt_at", BCON_INT64(now),
                             "updated_at", BCON_INT64(now), "}");
  int64_t nf = 0, nq = 0;
  int error;

  if ((error = put_doc(impl, &nf, true, worn, fail, false, "requeueing report outputs", err, errsize)) == 0)
    error = put_doc(impl, &nq, true, fresh, requeue, false, "requeueing report outputs", err, errsize);
  if (requeued != NULL)
    *requeued = error == 0 ? nq : 0;
  if (failed != NULL)
    *failed = error == 0 ? nf : 0;
  bson_destroy(worn);
  bson_destroy(fresh);
  bson_destroy(fail);
  bson_destroy(requeue);
  return error;
}

static int mongo_list(void *impl, rr_report_output_list **out, int64_t report_id, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("report_id", BCON_INT64(report_id));
  int error = find(impl, out, filter, 10000, err, errsize);

  bson_destroy(filter);
  return error;
}

static int mongo_counts(void *impl, rr_report_output_counts *out, char *err, size_t errsize)
{
  static const char *const states[] = {"queued", "running", "done", "failed"};
  int64_t *slots[] = {&out->queued, &out->running, &out->done, &out->failed};
  rr_mongo_store *s = impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, OUTPUTS);
  bson_t *filter, *opts;
  mongoc_cursor_t *cur;
  const bson_t *doc;
  bson_error_t e;
  size_t i;
  int error = 0;

  memset(out, 0, sizeof(*out));
  for (i = 0; error == 0 && i < 4; i++) {
    filter = BCON_NEW("state", BCON_UTF8(states[i]));
    if ((*slots[i] = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &e)) < 0)
      error = rr_mongo_fail(err, errsize, &e, "counting report outputs");
    bson_destroy(filter);
  }
  filter = BCON_NEW("state", "{", "$in", "[", BCON_UTF8("queued"), BCON_UTF8("running"), "]", "}");
  opts = BCON_NEW("sort", "{", "created_at", BCON_INT32(1), "}", "limit", BCON_INT64(1));
  cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
  if (error == 0 && mongoc_cursor_next(cur, &doc))
    out->oldest_waiting_at = rr_mongo_int(doc, "created_at");
  if (error == 0 && mongoc_cursor_error(cur, &e))
    error = rr_mongo_fail(err, errsize, &e, "counting report outputs");
  mongoc_cursor_destroy(cur);
  bson_destroy(filter);
  bson_destroy(opts);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  if (error < 0)
    memset(out, 0, sizeof(*out));
  return error;
}

int rr_mongo_report_outputs_indexes(rr_mongo_store *s, char *err, size_t errsize)
{
  bson_t *running = BCON_NEW("state", BCON_UTF8("running"));
  int error;

  if ((error = rr_mongo_index(s, OUTPUTS, "report_outputs_key",
                              BCON_NEW("report_id", BCON_INT32(1), "version", BCON_INT32(1), "kind", BCON_INT32(1)),
                              true, NULL, err, errsize)) == 0 &&
      (error = rr_mongo_index(s, OUTPUTS, "report_outputs_queue",
                              BCON_NEW("state", BCON_INT32(1), "created_at", BCON_INT32(1), "report_id", BCON_INT32(1),
                                       "version", BCON_INT32(1), "kind_order", BCON_INT32(1)),
                              false, NULL, err, errsize)) == 0)
    error = rr_mongo_index(s, OUTPUTS, "report_outputs_claimer", BCON_NEW("claimed_by", BCON_INT32(1)), true,
                           running, err, errsize);
  bson_destroy(running);
  return error;
}

const rr_store_report_outputs_ops rr_mongo_report_outputs_ops = {
  mongo_enqueue, mongo_claim, mongo_done, mongo_fail, mongo_requeue, mongo_list, mongo_retry, mongo_counts,
};
