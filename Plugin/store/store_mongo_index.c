/*
 * store_mongo_index.c - the MongoDB backend's index concern: ingestion
 * batches (upserts, counts, modalities, search words), deletions, the
 * key-value pairs, reconciliation listings, counts and the schema version;
 * as the SQLite backend (store_sqlite_index.c) does. The worklist reads
 * are in store_mongo_worklist.c.
 *
 * Collections (the original design's `studies`, with its series and
 * instances beside it rather than embedded):
 *   studies   one document per Orthanc study: its DICOM fields, the folded
 *             name and description (name_norm, desc_norm), the search words
 *             (name_terms, desc_terms, text_terms: arrays of folded words),
 *             its modalities (the string and the array `mods`), series and
 *             instance counts, received_at/updated_at; and, maintained by
 *             the AI and reports concerns (store_mongo_ai.c,
 *             store_mongo_reports.c) on every study document of the
 *             StudyInstanceUID: ai_status, review_status, report_state,
 *             report_id, report_author, report_flagged (critical, neither
 *             cancelled nor entered in error) and report_acks (the users who
 *             acknowledged it). A study document created after its
 *             analyses gets ai_status and review_status from `study_ai`
 *             (copy_ai_state below), and after its reports (a study
 *             deleted and sent again) their state from the reports
 *             concern (rr_mongo_report_sync_study).
 *   series    one per series (study_orthanc_id, instance_count, ...)
 *   instances one per instance (series_orthanc_id, ...)
 *   kv        { key, value } (the ingestion cursor)
 * Why not embedded arrays: an instance is upserted by its own key (an
 * idempotent update_one with upsert, the same on every retry and on every
 * node), a study document stays small whatever the number of instances (a
 * 3000-slice CT would otherwise approach the 16 MB document limit), and the
 * worklist reads `studies` only, whose counts and modalities are
 * recomputed from `series` after each batch.
 * Without transactions (CongoDB has none; a batch may be large) a batch is
 * applied item by item and the cursor saved last: a batch that fails half
 * way is applied again from the same cursor, which the idempotent upserts
 * allow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_mongo_internal.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"

#define MAX_WORDS_PER_FIELD 64
#define MAX_WORD_BYTES 64

/* ------------------------------------------------------------ set-up */

int rr_mongo_index_setup(rr_mongo_store *s, char *err, size_t errsize)
{
  int error;

  if ((error = rr_mongo_index(s, "studies", "studies_oid", BCON_NEW("orthanc_id", BCON_INT32(1)), true, NULL, err,
                              errsize)) < 0 ||
      (error = rr_mongo_index(s, "studies", "studies_uid", BCON_NEW("study_uid", BCON_INT32(1), "updated_at",
                                                                    BCON_INT32(-1)), false, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, "studies", "studies_patient", BCON_NEW("patient_orthanc_id", BCON_INT32(1)), false,
                              NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, "studies", "studies_date", BCON_NEW("study_date", BCON_INT32(-1), "study_time",
                                                                     BCON_INT32(-1), "_id", BCON_INT32(-1)),
                              false, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, "studies", "studies_name", BCON_NEW("name_norm", BCON_INT32(1), "_id", BCON_INT32(1)),
                              false, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, "studies", "studies_received", BCON_NEW("received_at", BCON_INT32(-1), "_id",
                                                                         BCON_INT32(-1)), false, NULL, err,
                              errsize)) < 0)
    return error;
  if ((error = rr_mongo_index(s, "studies", "studies_name_terms", BCON_NEW("name_terms", BCON_INT32(1)), false, NULL,
                              err, errsize)) < 0 ||
      (error = rr_mongo_index(s, "studies", "studies_desc_terms", BCON_NEW("desc_terms", BCON_INT32(1)), false, NULL,
                              err, errsize)) < 0 ||
      (error = rr_mongo_index(s, "studies", "studies_text_terms", BCON_NEW("text_terms", BCON_INT32(1)), false, NULL,
                              err, errsize)) < 0 ||
      (error = rr_mongo_index(s, "studies", "studies_mods", BCON_NEW("mods", BCON_INT32(1)), false, NULL, err,
                              errsize)) < 0 ||
      (error = rr_mongo_index(s, "studies", "studies_patient_id", BCON_NEW("patient_id", BCON_INT32(1)), false, NULL,
                              err, errsize)) < 0 ||
      (error = rr_mongo_index(s, "studies", "studies_accession", BCON_NEW("accession_number", BCON_INT32(1)), false,
                              NULL, err, errsize)) < 0)
    return error;
  if ((error = rr_mongo_index(s, "series", "series_oid", BCON_NEW("orthanc_id", BCON_INT32(1)), true, NULL, err,
                              errsize)) < 0 ||
      (error = rr_mongo_index(s, "series", "series_study", BCON_NEW("study_orthanc_id", BCON_INT32(1)), false, NULL,
                              err, errsize)) < 0 ||
      (error = rr_mongo_index(s, "instances", "instances_oid", BCON_NEW("orthanc_id", BCON_INT32(1)), true, NULL, err,
                              errsize)) < 0 ||
      (error = rr_mongo_index(s, "instances", "instances_series", BCON_NEW("series_orthanc_id", BCON_INT32(1)), false,
                              NULL, err, errsize)) < 0)
    return error;
  return rr_mongo_index(s, "kv", "kv_key", BCON_NEW("key", BCON_INT32(1)), true, NULL, err, errsize);
}

/* ------------------------------------------------------------ helpers */

/* update_one(filter, update, upsert) on coll; *inserted (may be NULL)
 * tells whether it created the document. */
static int upsert(mongoc_client_t *c, rr_mongo_store *s, bool *inserted, const char *coll, const bson_t *filter,
                  const bson_t *update, const char *what, char *err, size_t errsize)
{
  mongoc_collection_t *col = rr_mongo_collection(s, c, coll);
  bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
  bson_t reply;
  bson_error_t e;
  int error = 0;

  if (!mongoc_collection_update_one(col, filter, update, opts, &reply, &e))
    error = rr_mongo_fail(err, errsize, &e, what);
  else if (inserted != NULL)
    *inserted = rr_mongo_int(&reply, "upsertedCount") > 0;
  bson_destroy(&reply);
  bson_destroy(opts);
  mongoc_collection_destroy(col);
  return error;
}

static int count(mongoc_client_t *c, rr_mongo_store *s, int64_t *out, const char *coll, const bson_t *filter,
                 char *err, size_t errsize)
{
  mongoc_collection_t *col = rr_mongo_collection(s, c, coll);
  bson_error_t e;
  int64_t n = mongoc_collection_count_documents(col, filter, NULL, NULL, NULL, &e);
  char what[64];

  mongoc_collection_destroy(col);
  if (n < 0) {
    snprintf(what, sizeof(what), "counting %s", coll);
    return rr_mongo_fail(err, errsize, &e, what);
  }
  *out = n;
  return 0;
}

/* delete_many(filter) on coll; *deleted (may be NULL) the number. */
static int remove_many(mongoc_client_t *c, rr_mongo_store *s, int64_t *deleted, const char *coll,
                       const bson_t *filter, char *err, size_t errsize)
{
  mongoc_collection_t *col = rr_mongo_collection(s, c, coll);
  bson_t reply;
  bson_error_t e;
  int error = 0;

  if (!mongoc_collection_delete_many(col, filter, NULL, &reply, &e))
    error = rr_mongo_fail(err, errsize, &e, "deleting");
  else if (deleted != NULL)
    *deleted = rr_mongo_int(&reply, "deletedCount");
  bson_destroy(&reply);
  mongoc_collection_destroy(col);
  return error;
}

/* The string `field` of the one document of coll matching filter ("" and
 * RR_ENOTFOUND when none). */
static int find_field(mongoc_client_t *c, rr_mongo_store *s, char *out, size_t size, const char *coll,
                      const bson_t *filter, const char *field, char *err, size_t errsize)
{
  mongoc_collection_t *col = rr_mongo_collection(s, c, coll);
  bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
  const bson_t *doc;
  bson_error_t e;
  int error = RR_ENOTFOUND;

  out[0] = '\0';
  if (mongoc_cursor_next(cur, &doc)) {
    rr_mongo_copy(out, size, doc, field);
    error = 0;
  } else if (mongoc_cursor_error(cur, &e)) {
    error = rr_mongo_fail(err, errsize, &e, "reading");
  }
  mongoc_cursor_destroy(cur);
  bson_destroy(opts);
  mongoc_collection_destroy(col);
  return error;
}

/* ------------------------------------------------------------ terms */

/* Append the folded words of text (at most MAX_WORDS_PER_FIELD, each cut at
 * MAX_WORD_BYTES, without duplicates in this field) to the array arr. */
static int add_terms(bson_t *arr, uint32_t *n, const char *text, rr_buf *scratch)
{
  const char *word;
  size_t pos = 0, wordlen, taken = 0;
  char term[MAX_WORD_BYTES + 1], key[24];
  int error;

  rr_buf_clear(scratch);
  if ((error = rr_text_fold(scratch, text, strlen(text), false)) < 0)
    return error;
  while (taken < MAX_WORDS_PER_FIELD && scratch->ptr != NULL &&
         rr_text_next_word(scratch->ptr, &pos, &word, &wordlen)) {
    rr_str_copyn(term, sizeof(term), word, wordlen);
    snprintf(key, sizeof(key), "%u", (*n)++);
    BSON_APPEND_UTF8(arr, key, term);
    taken++;
  }
  return 0;
}

static int append_terms(bson_t *set, const char *field, const char *const *texts, size_t count, rr_buf *scratch)
{
  bson_t arr;
  uint32_t n = 0;
  size_t i;
  int error = 0;

  BSON_APPEND_ARRAY_BEGIN(set, field, &arr);
  for (i = 0; i < count && error == 0; i++)
    error = add_terms(&arr, &n, texts[i], scratch);
  bson_append_array_end(set, &arr);
  return error;
}

static int fold(char *out, size_t size, const char *text, rr_buf *scratch)
{
  int error;

  rr_buf_clear(scratch);
  if ((error = rr_text_fold(scratch, text, strlen(text), false)) < 0)
    return error;
  rr_str_copy(out, size, scratch->ptr ? scratch->ptr : "");
  return 0;
}

/* ------------------------------------------------------------ apply_batch */

/* The $set of a study's own fields, its folded fields and search words. */
static int study_update(bson_t *update, const rr_study_rec *st, int64_t now, rr_buf *scratch)
{
  const char *name[] = {st->patient_name};
  const char *desc[] = {st->study_description};
  const char *text[] = {st->patient_name,      st->patient_id,          st->accession_number,
                        st->study_description, st->referring_physician, st->institution_name};
  char name_norm[RR_PN_SIZE * 2], desc_norm[RR_LO_SIZE * 2];
  bson_t set, once, max;
  int error;

  if ((error = fold(name_norm, sizeof(name_norm), st->patient_name, scratch)) < 0 ||
      (error = fold(desc_norm, sizeof(desc_norm), st->study_description, scratch)) < 0)
    return error;
  BSON_APPEND_DOCUMENT_BEGIN(update, "$set", &set);
  BSON_APPEND_UTF8(&set, "patient_orthanc_id", st->patient_orthanc_id);
  BSON_APPEND_UTF8(&set, "study_uid", st->study_uid);
  BSON_APPEND_UTF8(&set, "patient_name", st->patient_name);
  BSON_APPEND_UTF8(&set, "name_norm", name_norm);
  BSON_APPEND_UTF8(&set, "patient_id", st->patient_id);
  BSON_APPEND_UTF8(&set, "patient_birth_date", st->patient_birth_date);
  BSON_APPEND_UTF8(&set, "patient_sex", st->patient_sex);
  BSON_APPEND_UTF8(&set, "study_date", st->study_date);
  BSON_APPEND_UTF8(&set, "study_time", st->study_time);
  BSON_APPEND_UTF8(&set, "study_description", st->study_description);
  BSON_APPEND_UTF8(&set, "desc_norm", desc_norm);
  BSON_APPEND_UTF8(&set, "accession_number", st->accession_number);
  BSON_APPEND_UTF8(&set, "referring_physician", st->referring_physician);
  BSON_APPEND_UTF8(&set, "institution_name", st->institution_name);
  if ((error = append_terms(&set, "name_terms", name, 1, scratch)) == 0 &&
      (error = append_terms(&set, "desc_terms", desc, 1, scratch)) == 0)
    error = append_terms(&set, "text_terms", text, sizeof(text) / sizeof(text[0]), scratch);
  bson_append_document_end(update, &set);
  BSON_APPEND_DOCUMENT_BEGIN(update, "$setOnInsert", &once);
  BSON_APPEND_INT64(&once, "received_at", now);
  bson_append_document_end(update, &once);
  BSON_APPEND_DOCUMENT_BEGIN(update, "$max", &max);
  BSON_APPEND_INT64(&max, "updated_at", now);
  bson_append_document_end(update, &max);
  return error;
}

/* A study document created after its analyses: copy the study's AI state
 * from `study_ai` (store_mongo_ai.c keeps it there, and on the study
 * documents that exist when it changes), so that the worklist's AI filter
 * does not depend on which came first. Ingestion upserts the study before
 * reading study_ai and the AI concern writes study_ai before the studies,
 * so a change racing this one is seen by one or the other. */
static int copy_ai_state(mongoc_client_t *c, rr_mongo_store *s, const rr_study_rec *st, char *err, size_t errsize)
{
  mongoc_collection_t *col = rr_mongo_collection(s, c, "study_ai");
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(st->study_uid));
  bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
  char ai_status[32] = "", review_status[32] = "";
  const bson_t *doc;
  bson_t *target = NULL, *update = NULL;
  bson_error_t e;
  int error = 0;

  if (mongoc_cursor_next(cur, &doc)) {
    rr_mongo_copy(ai_status, sizeof(ai_status), doc, "ai_status");
    rr_mongo_copy(review_status, sizeof(review_status), doc, "review_status");
    target = BCON_NEW("orthanc_id", BCON_UTF8(st->orthanc_id));
    update = BCON_NEW("$set", "{", "ai_status", BCON_UTF8(ai_status), "review_status", BCON_UTF8(review_status), "}");
    error = upsert(c, s, NULL, "studies", target, update, "copy the study's AI state", err, errsize);
  } else if (mongoc_cursor_error(cur, &e)) {
    error = rr_mongo_fail(err, errsize, &e, "reading the study's AI state");
  }
  mongoc_cursor_destroy(cur);
  bson_destroy(target);
  bson_destroy(update);
  bson_destroy(opts);
  bson_destroy(filter);
  mongoc_collection_destroy(col);
  return error;
}

static int upsert_study(mongoc_client_t *c, rr_mongo_store *s, const rr_study_rec *st, int64_t now,
                        rr_buf *scratch, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("orthanc_id", BCON_UTF8(st->orthanc_id));
  bson_t update = BSON_INITIALIZER;
  bool inserted = false;
  int error;

  if ((error = study_update(&update, st, now, scratch)) < 0)
    error = rr_fail(err, errsize, error, "cannot build search terms");
  else if ((error = upsert(c, s, &inserted, "studies", filter, &update, "upsert study", err, errsize)) == 0 && inserted &&
           (error = copy_ai_state(c, s, st, err, errsize)) == 0)
    error = rr_mongo_report_sync_study(s, st->study_uid, err, errsize); /* its reports' state, if any */
  bson_destroy(filter);
  bson_destroy(&update);
  return error;
}

static int upsert_series(mongoc_client_t *c, rr_mongo_store *s, const rr_series_rec *se, int64_t now, char *err,
                         size_t errsize)
{
  bson_t *filter = BCON_NEW("orthanc_id", BCON_UTF8(se->orthanc_id));
  bson_t update = BSON_INITIALIZER, set, once, unset;
  int error;

  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  BSON_APPEND_UTF8(&set, "study_orthanc_id", se->study_orthanc_id);
  BSON_APPEND_UTF8(&set, "series_uid", se->series_uid);
  if (se->has_series_number)
    BSON_APPEND_INT64(&set, "series_number", se->series_number);
  BSON_APPEND_INT32(&set, "no_number", se->has_series_number ? 0 : 1);
  BSON_APPEND_UTF8(&set, "modality", se->modality);
  BSON_APPEND_UTF8(&set, "series_description", se->series_description);
  BSON_APPEND_UTF8(&set, "body_part", se->body_part);
  BSON_APPEND_INT64(&set, "updated_at", now);
  bson_append_document_end(&update, &set);
  if (!se->has_series_number) {
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$unset", &unset);
    BSON_APPEND_UTF8(&unset, "series_number", "");
    bson_append_document_end(&update, &unset);
  }
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &once);
  BSON_APPEND_INT64(&once, "received_at", now);
  BSON_APPEND_INT64(&once, "instance_count", 0);
  bson_append_document_end(&update, &once);
  error = upsert(c, s, NULL, "series", filter, &update, "upsert series", err, errsize);
  bson_destroy(filter);
  bson_destroy(&update);
  return error;
}

static int upsert_instance(mongoc_client_t *c, rr_mongo_store *s, const rr_instance_rec *in, int64_t now,
                           char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("orthanc_id", BCON_UTF8(in->orthanc_id));
  bson_t update = BSON_INITIALIZER, set, once, unset;
  int error;

  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  BSON_APPEND_UTF8(&set, "series_orthanc_id", in->series_orthanc_id);
  BSON_APPEND_UTF8(&set, "sop_instance_uid", in->sop_instance_uid);
  BSON_APPEND_UTF8(&set, "sop_class_uid", in->sop_class_uid);
  BSON_APPEND_UTF8(&set, "transfer_syntax", in->transfer_syntax);
  if (in->has_instance_number)
    BSON_APPEND_INT64(&set, "instance_number", in->instance_number);
  BSON_APPEND_INT64(&set, "number_of_frames", in->number_of_frames > 0 ? in->number_of_frames : 1);
  BSON_APPEND_UTF8(&set, "image_position", in->image_position);
  BSON_APPEND_UTF8(&set, "image_orientation", in->image_orientation);
  BSON_APPEND_INT64(&set, "updated_at", now);
  bson_append_document_end(&update, &set);
  if (!in->has_instance_number) {
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$unset", &unset);
    BSON_APPEND_UTF8(&unset, "instance_number", "");
    bson_append_document_end(&update, &unset);
  }
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &once);
  BSON_APPEND_INT64(&once, "received_at", now);
  bson_append_document_end(&update, &once);
  error = upsert(c, s, NULL, "instances", filter, &update, "upsert instance", err, errsize);
  bson_destroy(filter);
  bson_destroy(&update);
  return error;
}

static int recount_series(mongoc_client_t *c, rr_mongo_store *s, const char *series_oid, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("series_orthanc_id", BCON_UTF8(series_oid));
  bson_t *key = BCON_NEW("orthanc_id", BCON_UTF8(series_oid));
  bson_t *update = NULL;
  mongoc_collection_t *col;
  bson_error_t e;
  int64_t n = 0;
  int error;

  if ((error = count(c, s, &n, "instances", filter, err, errsize)) == 0) {
    update = BCON_NEW("$set", "{", "instance_count", BCON_INT64(n), "}");
    col = rr_mongo_collection(s, c, "series");
    if (!mongoc_collection_update_one(col, key, update, NULL, NULL, &e))
      error = rr_mongo_fail(err, errsize, &e, "recounting a series");
    mongoc_collection_destroy(col);
  }
  bson_destroy(filter);
  bson_destroy(key);
  if (update != NULL)
    bson_destroy(update);
  return error;
}

/* Insert modality m into the sorted, distinct list mods (n entries). */
static void add_modality(char (*mods)[RR_CS_SIZE], size_t *n, size_t max, const char *m)
{
  size_t i, j;
  int cmp = 1;

  if (m[0] == '\0')
    return;
  for (i = 0; i < *n && (cmp = strcmp(mods[i], m)) < 0; i++)
    ;
  if ((i < *n && cmp == 0) || *n >= max)
    return;
  for (j = *n; j > i; j--)
    memcpy(mods[j], mods[j - 1], RR_CS_SIZE);
  rr_str_copy(mods[i], RR_CS_SIZE, m);
  (*n)++;
}

#define MAX_STUDY_MODALITIES 32

/* Counts and modalities of a study from its series. `now` raises
 * updated_at (0: left as it is). *series_count (may be NULL) receives the
 * number of series. */
static int recount_study(mongoc_client_t *c, rr_mongo_store *s, const char *study_oid, int64_t now,
                         int64_t *series_count, char *err, size_t errsize)
{
  char mods[MAX_STUDY_MODALITIES][RR_CS_SIZE], modality[RR_CS_SIZE], joined[RR_MODS_SIZE], key[24];
  bson_t *filter = BCON_NEW("study_orthanc_id", BCON_UTF8(study_oid));
  bson_t *opts = BCON_NEW("projection", "{", "modality", BCON_INT32(1), "instance_count", BCON_INT32(1), "}");
  bson_t *sel = BCON_NEW("orthanc_id", BCON_UTF8(study_oid));
  bson_t update = BSON_INITIALIZER, set, arr, max;
  mongoc_collection_t *col = rr_mongo_collection(s, c, "series");
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
  const bson_t *doc;
  bson_error_t e;
  int64_t nseries = 0, ninstances = 0;
  size_t nmods = 0, i, len = 0;
  int error = 0;

  while (mongoc_cursor_next(cur, &doc)) {
    nseries++;
    ninstances += rr_mongo_int(doc, "instance_count");
    rr_mongo_copy(modality, sizeof(modality), doc, "modality");
    add_modality(mods, &nmods, MAX_STUDY_MODALITIES, modality);
  }
  if (mongoc_cursor_error(cur, &e))
    error = rr_mongo_fail(err, errsize, &e, "recounting a study");
  mongoc_cursor_destroy(cur);
  mongoc_collection_destroy(col);
  joined[0] = '\0';
  for (i = 0; i < nmods; i++)
    len += (size_t)snprintf(joined + len, len < sizeof(joined) ? sizeof(joined) - len : 0, "%s%s", i ? "\\" : "",
                            mods[i]);
  if (len >= sizeof(joined))
    joined[sizeof(joined) - 1] = '\0';
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  BSON_APPEND_INT64(&set, "series_count", nseries);
  BSON_APPEND_INT64(&set, "instance_count", ninstances);
  BSON_APPEND_UTF8(&set, "modalities", joined);
  BSON_APPEND_ARRAY_BEGIN(&set, "mods", &arr);
  for (i = 0; i < nmods; i++) {
    snprintf(key, sizeof(key), "%zu", i);
    BSON_APPEND_UTF8(&arr, key, mods[i]);
  }
  bson_append_array_end(&set, &arr);
  bson_append_document_end(&update, &set);
  if (now > 0) {
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$max", &max);
    BSON_APPEND_INT64(&max, "updated_at", now);
    bson_append_document_end(&update, &max);
  }
  col = rr_mongo_collection(s, c, "studies");
  if (error == 0 && !mongoc_collection_update_one(col, sel, &update, NULL, NULL, &e))
    error = rr_mongo_fail(err, errsize, &e, "recounting a study");
  mongoc_collection_destroy(col);
  if (series_count != NULL)
    *series_count = nseries;
  bson_destroy(filter);
  bson_destroy(opts);
  bson_destroy(sel);
  bson_destroy(&update);
  return error;
}

static int kv_put(mongoc_client_t *c, rr_mongo_store *s, const char *key, const char *value, char *err,
                  size_t errsize)
{
  bson_t *filter = BCON_NEW("key", BCON_UTF8(key));
  bson_t *update = BCON_NEW("$set", "{", "value", BCON_UTF8(value ? value : ""), "}");
  int error = upsert(c, s, NULL, "kv", filter, update, "write kv", err, errsize);

  bson_destroy(filter);
  bson_destroy(update);
  return error;
}

/* Has an earlier item of the batch the same key (study or series)? */
static bool seen_before(const rr_ingest_batch *b, size_t i, bool study)
{
  size_t j;

  for (j = 0; j < i; j++)
    if (strcmp(study ? b->items[j].study.orthanc_id : b->items[j].series.orthanc_id,
               study ? b->items[i].study.orthanc_id : b->items[i].series.orthanc_id) == 0)
      return true;
  return false;
}

/* Upserts every item (a study and series once per batch), then recounts
 * the touched series and studies and saves the cursor. */
static int mongo_apply_batch(void *impl, const rr_ingest_batch *b, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  const rr_ingest_item *it;
  rr_buf scratch;
  size_t i;
  int error = 0;

  rr_buf_init(&scratch, 4096);
  for (i = 0; i < b->count && error == 0; i++) {
    it = &b->items[i];
    if (!seen_before(b, i, true))
      error = upsert_study(c, s, &it->study, b->now, &scratch, err, errsize);
    if (error == 0 && !seen_before(b, i, false))
      error = upsert_series(c, s, &it->series, b->now, err, errsize);
    if (error == 0)
      error = upsert_instance(c, s, &it->instance, b->now, err, errsize);
  }
  for (i = 0; i < b->count && error == 0; i++)
    if (!seen_before(b, i, false))
      error = recount_series(c, s, b->items[i].series.orthanc_id, err, errsize);
  for (i = 0; i < b->count && error == 0; i++)
    if (!seen_before(b, i, true))
      error = recount_study(c, s, b->items[i].study.orthanc_id, b->now, NULL, err, errsize);
  if (error == 0 && b->cursor_key != NULL)
    error = kv_put(c, s, b->cursor_key, b->cursor_value, err, errsize);
  rr_buf_dispose(&scratch);
  rr_mongo_push(s, c);
  return error;
}

/* ---------------------------------------------------------------- deletion */

/* Remove the studies matching filter with their series and instances;
 * RR_ENOTFOUND when there is none. */
static int drop_studies(mongoc_client_t *c, rr_mongo_store *s, const bson_t *filter, char *err, size_t errsize)
{
  mongoc_collection_t *studies = rr_mongo_collection(s, c, "studies"), *series = rr_mongo_collection(s, c, "series");
  bson_t *opts = BCON_NEW("projection", "{", "orthanc_id", BCON_INT32(1), "}");
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(studies, filter, opts, NULL), *scur;
  const bson_t *doc, *sdoc;
  char oid[RR_OID_SIZE], soid[RR_OID_SIZE];
  bson_t *f;
  bson_error_t e;
  int found = 0, error = 0;

  while (error == 0 && mongoc_cursor_next(cur, &doc)) {
    found++;
    rr_mongo_copy(oid, sizeof(oid), doc, "orthanc_id");
    f = BCON_NEW("study_orthanc_id", BCON_UTF8(oid));
    scur = mongoc_collection_find_with_opts(series, f, opts, NULL);
    while (error == 0 && mongoc_cursor_next(scur, &sdoc)) {
      bson_t *fi;
      rr_mongo_copy(soid, sizeof(soid), sdoc, "orthanc_id");
      fi = BCON_NEW("series_orthanc_id", BCON_UTF8(soid));
      error = remove_many(c, s, NULL, "instances", fi, err, errsize);
      bson_destroy(fi);
    }
    if (error == 0 && mongoc_cursor_error(scur, &e))
      error = rr_mongo_fail(err, errsize, &e, "delete");
    mongoc_cursor_destroy(scur);
    if (error == 0)
      error = remove_many(c, s, NULL, "series", f, err, errsize);
    bson_destroy(f);
  }
  if (error == 0 && mongoc_cursor_error(cur, &e))
    error = rr_mongo_fail(err, errsize, &e, "delete");
  mongoc_cursor_destroy(cur);
  bson_destroy(opts);
  mongoc_collection_destroy(studies);
  mongoc_collection_destroy(series);
  if (error == 0)
    error = remove_many(c, s, NULL, "studies", filter, err, errsize);
  return error == 0 && found == 0 ? RR_ENOTFOUND : error;
}

/* Recount a study after a child went away, and drop it when it is empty. */
static int settle_study(mongoc_client_t *c, rr_mongo_store *s, const char *study_oid, char *err, size_t errsize)
{
  int64_t n = 0;
  bson_t *f;
  int error;

  if ((error = recount_study(c, s, study_oid, 0, &n, err, errsize)) < 0 || n > 0)
    return error;
  f = BCON_NEW("orthanc_id", BCON_UTF8(study_oid));
  error = remove_many(c, s, NULL, "studies", f, err, errsize);
  bson_destroy(f);
  return error;
}

static int drop_series(mongoc_client_t *c, rr_mongo_store *s, const char *oid, char *err, size_t errsize)
{
  bson_t *f = BCON_NEW("orthanc_id", BCON_UTF8(oid));
  bson_t *fi = BCON_NEW("series_orthanc_id", BCON_UTF8(oid));
  char study[RR_OID_SIZE];
  int error;

  if ((error = find_field(c, s, study, sizeof(study), "series", f, "study_orthanc_id", err, errsize)) == 0 &&
      (error = remove_many(c, s, NULL, "instances", fi, err, errsize)) == 0 &&
      (error = remove_many(c, s, NULL, "series", f, err, errsize)) == 0)
    error = settle_study(c, s, study, err, errsize);
  bson_destroy(f);
  bson_destroy(fi);
  return error;
}

static int drop_instance(mongoc_client_t *c, rr_mongo_store *s, const char *oid, char *err, size_t errsize)
{
  bson_t *f = BCON_NEW("orthanc_id", BCON_UTF8(oid)), *fs = NULL;
  char series[RR_OID_SIZE], study[RR_OID_SIZE];
  int64_t left = 0;
  int error;

  if ((error = find_field(c, s, series, sizeof(series), "instances", f, "series_orthanc_id", err, errsize)) < 0 ||
      (error = remove_many(c, s, NULL, "instances", f, err, errsize)) < 0)
    goto out;
  fs = BCON_NEW("orthanc_id", BCON_UTF8(series));
  if ((error = recount_series(c, s, series, err, errsize)) < 0 ||
      (error = find_field(c, s, study, sizeof(study), "series", fs, "study_orthanc_id", err, errsize)) < 0) {
    error = error == RR_ENOTFOUND ? 0 : error; /* an orphan instance */
    goto out;
  }
  {
    bson_t *fi = BCON_NEW("series_orthanc_id", BCON_UTF8(series));
    error = count(c, s, &left, "instances", fi, err, errsize);
    bson_destroy(fi);
  }
  if (error == 0 && left == 0)
    error = remove_many(c, s, NULL, "series", fs, err, errsize);
  if (error == 0)
    error = settle_study(c, s, study, err, errsize);
out:
  bson_destroy(f);
  if (fs != NULL)
    bson_destroy(fs);
  return error;
}

static int mongo_delete(void *impl, rr_level level, const char *orthanc_id, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  mongoc_client_t *c;
  bson_t *f = NULL;
  int error;

  if (level < RR_LEVEL_PATIENT || level > RR_LEVEL_INSTANCE)
    return rr_fail(err, errsize, RR_EINVAL, "unknown level");
  c = rr_mongo_pop(s);
  switch (level) {
  case RR_LEVEL_PATIENT:
    f = BCON_NEW("patient_orthanc_id", BCON_UTF8(orthanc_id));
    error = drop_studies(c, s, f, err, errsize);
    break;
  case RR_LEVEL_STUDY:
    f = BCON_NEW("orthanc_id", BCON_UTF8(orthanc_id));
    error = drop_studies(c, s, f, err, errsize);
    break;
  case RR_LEVEL_SERIES:
    error = drop_series(c, s, orthanc_id, err, errsize);
    break;
  default:
    error = drop_instance(c, s, orthanc_id, err, errsize);
    break;
  }
  if (f != NULL)
    bson_destroy(f);
  rr_mongo_push(s, c);
  if (error == RR_ENOTFOUND)
    return rr_fail(err, errsize, RR_ENOTFOUND, "not found");
  return error;
}

/* ------------------------------------------------------------ key-value */

static int mongo_kv_get(void *impl, char *out, size_t outsize, const char *key, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  bson_t *f = BCON_NEW("key", BCON_UTF8(key));
  char value[4096];
  int error;

  if (outsize > 0)
    out[0] = '\0';
  if ((error = find_field(c, s, value, sizeof(value), "kv", f, "value", err, errsize)) == 0)
    rr_str_copy(out, outsize, value);
  bson_destroy(f);
  rr_mongo_push(s, c);
  return error;
}

static int mongo_kv_set(void *impl, const char *key, const char *value, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  int error = kv_put(c, s, key, value, err, errsize);

  rr_mongo_push(s, c);
  return error;
}

/* ------------------------------------------------------ reconciliation */

static int read_series_count(void *elem, const bson_t *doc, void *ctx)
{
  rr_series_count *sc = elem;

  (void)ctx;
  rr_mongo_copy(sc->orthanc_id, RR_OID_SIZE, doc, "orthanc_id");
  sc->instance_count = rr_mongo_int(doc, "instance_count");
  return 0;
}

static int mongo_list_series(void *impl, rr_series_count_list **out, const char *after, size_t limit, char *err,
                             size_t errsize)
{
  rr_series_count_list *list = rr_store_list_new(&rr_series_count_list_kind);
  bson_t *filter = BCON_NEW("orthanc_id", "{", "$gt", BCON_UTF8(after ? after : ""), "}");
  bson_t *opts = BCON_NEW("sort", "{", "orthanc_id", BCON_INT32(1), "}", "limit", BCON_INT64((int64_t)limit),
                          "projection", "{", "orthanc_id", BCON_INT32(1), "instance_count", BCON_INT32(1), "}");
  int error;

  *out = NULL;
  if (list == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else if (limit == 0)
    error = 0;
  else
    error = rr_mongo_find_list(impl, list, &rr_series_count_list_kind, 64, "series", filter, opts, read_series_count,
                               NULL, "list series", err, errsize);
  bson_destroy(filter);
  bson_destroy(opts);
  if (error < 0) {
    rr_series_count_list_free(list);
    return error;
  }
  *out = list;
  return 0;
}

static int read_id(void *elem, const bson_t *doc, void *ctx)
{
  (void)ctx;
  rr_mongo_copy(elem, RR_OID_SIZE, doc, "orthanc_id");
  return 0;
}

static int mongo_list_instances(void *impl, rr_id_list **out, const char *series_oid, char *err, size_t errsize)
{
  rr_id_list *list = rr_store_list_new(&rr_id_list_kind);
  bson_t *filter = BCON_NEW("series_orthanc_id", BCON_UTF8(series_oid));
  bson_t *opts = BCON_NEW("sort", "{", "orthanc_id", BCON_INT32(1), "}", "projection", "{", "orthanc_id",
                          BCON_INT32(1), "}");
  size_t cap = 0;
  int error;

  *out = NULL;
  /* an empty answer still has its array, as the SQLite backend's */
  if (list == NULL || rr_store_list_reserve(&rr_id_list_kind, list, &cap, 64) < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(impl, list, &rr_id_list_kind, 64, "instances", filter, opts, read_id, NULL,
                               "list instances", err, errsize);
  bson_destroy(filter);
  bson_destroy(opts);
  if (error < 0) {
    rr_id_list_free(list);
    return error;
  }
  *out = list;
  return 0;
}

/* ------------------------------------------------------------ stats */

/* The write fault stays "": MongoDB says nothing of a read-only or full
 * database without a write (a failed write is reported to its caller). */
static int mongo_stats(void *impl, rr_store_stats *out, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  bson_t empty = BSON_INITIALIZER;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = count(c, s, &out->studies, "studies", &empty, err, errsize)) == 0 &&
      (error = count(c, s, &out->series, "series", &empty, err, errsize)) == 0)
    error = count(c, s, &out->instances, "instances", &empty, err, errsize);
  rr_mongo_push(s, c);
  return error;
}

static int mongo_schema_version(void *impl, int *out, char *err, size_t errsize)
{
  return rr_mongo_schema_version(impl, out, err, errsize);
}

const rr_store_index_ops rr_mongo_index_ops = {
  .schema_version = mongo_schema_version,
  .apply_batch = mongo_apply_batch,
  .delete_resource = mongo_delete,
  .query_worklist = rr_mongo_query_worklist,
  .get_study = rr_mongo_get_study,
  .kv_get = mongo_kv_get,
  .kv_set = mongo_kv_set,
  .list_series = mongo_list_series,
  .list_instances = mongo_list_instances,
  .stats = mongo_stats,
};
