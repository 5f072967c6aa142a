/*
 * Store conformance, AI concern (store/store_ai.h): analyses as a job queue,
 * their results and reviews, usage counts, and the AI state the worklist
 * shows (with the index concern). Run against every backend in
 * store_fixture.c.
 */
#include "common.h"
#include "store_fixture.h"

#include <pthread.h>
#include <time.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "util/embedded.h"
#include "util/errors.h"
#include "util/str.h"

static rr_ai_analysis analysis(const char *id, const char *uid, int64_t at)
{
  rr_ai_analysis a;
  memset(&a, 0, sizeof(a));
  rr_str_copy(a.id, sizeof(a.id), id);
  rr_str_copy(a.study_uid, sizeof(a.study_uid), uid);
  rr_str_copy(a.provider, sizeof(a.provider), "gemini");
  rr_str_copy(a.model_requested, sizeof(a.model_requested), "gemini-2.5-flash");
  rr_str_copy(a.status, sizeof(a.status), "queued");
  rr_str_copy(a.requested_by, sizeof(a.requested_by), "rad");
  a.requested_at = at;
  return a;
}

START_TEST(ai_analyses_lifecycle)
{
  rr_ai_analysis a = analysis("a1", "1.2.3", 100), b = analysis("a2", "1.2.3", 200), got;
  rr_ai_list *list = NULL;
  rr_ai_review r;
  rr_ai_review_list *hist = NULL;
  rr_ai_counts counts;
  int64_t requeued = -1;
  ck_assert_msg(rr_store_ai_create(fx.store, &a, fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  ck_assert_int_eq(rr_store_ai_create(fx.store, &a, fx.err, sizeof(fx.err)), RR_EEXISTS);
  ck_assert_int_eq(rr_store_ai_create(fx.store, &b, fx.err, sizeof(fx.err)), 0);
  /* the oldest queued first, each only once */
  ck_assert_int_eq(rr_store_ai_claim_next(fx.store, &got, 1000, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(got.id, "a1");
  ck_assert_str_eq(got.status, "running");
  ck_assert_int_eq(got.attempts, 1);
  ck_assert_int_eq(got.started_at, 1000);
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_claim_next(fx.store, &got, 1001, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(got.id, "a2");
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_claim_next(fx.store, &got, 1002, fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  /* results */
  ck_assert_int_eq(rr_store_ai_get(fx.store, &got, "a1", fx.err, sizeof(fx.err)), 0);
  rr_str_copy(got.status, sizeof(got.status), "completed");
  free(got.summary);
  free(got.findings_json);
  got.summary = strdup("No acute findings; 'quoted' \"text\".");
  got.findings_json = strdup("[{\"category\":\"normal_variant\"}]");
  rr_str_copy(got.ai_confidence, sizeof(got.ai_confidence), "high");
  got.has_ai_confidence_score = true;
  got.ai_confidence_score = 0.75;
  got.prompt_tokens = 2000;
  got.completion_tokens = 300;
  free(got.images_json);
  got.images_json = strdup("[{\"sopInstanceUid\":\"1.2\",\"frame\":0},{\"sopInstanceUid\":\"1.3\",\"frame\":0}]");
  got.cost = 0.01;
  got.finished_at = 1100;
  ck_assert_int_eq(rr_store_ai_update(fx.store, &got, fx.err, sizeof(fx.err)), 0);
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_get(fx.store, &got, "a1", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(got.status, "completed");
  ck_assert_str_eq(got.summary, "No acute findings; 'quoted' \"text\".");
  ck_assert_str_eq(got.ai_confidence, "high");
  ck_assert(got.has_ai_confidence_score && got.ai_confidence_score == 0.75);
  ck_assert_str_eq(got.review_status, "pending");
  ck_assert_str_eq(got.raw_text, "");
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_get(fx.store, &got, "nope", fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  /* a stopped process leaves a2 running: recovered to queued */
  ck_assert_int_eq(rr_store_ai_recover(fx.store, &requeued, 2000, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(requeued, 1);
  ck_assert_int_eq(rr_store_ai_get(fx.store, &got, "a2", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(got.status, "queued");
  rr_ai_analysis_dispose(&got);
  /* review history */
  memset(&r, 0, sizeof(r));
  rr_str_copy(r.analysis_id, sizeof(r.analysis_id), "a1");
  r.at = 3000;
  rr_str_copy(r.reviewer, sizeof(r.reviewer), "rad");
  rr_str_copy(r.review_status, sizeof(r.review_status), "modified");
  r.notes = "edited finding 1";
  r.feedback_json = "[{\"index\":0,\"decision\":\"edited\"}]";
  ck_assert_int_eq(rr_store_ai_review_add(fx.store, &r, "final notes", fx.err, sizeof(fx.err)), 0);
  rr_str_copy(r.review_status, sizeof(r.review_status), "confirmed");
  r.at = 3100;
  ck_assert_int_eq(rr_store_ai_review_add(fx.store, &r, "confirmed after all", fx.err, sizeof(fx.err)), 0);
  rr_str_copy(r.analysis_id, sizeof(r.analysis_id), "nope");
  ck_assert_int_eq(rr_store_ai_review_add(fx.store, &r, "", fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_ai_review_history(fx.store, &hist, "a1", fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(hist->count, 2);
  ck_assert_str_eq(hist->items[0].review_status, "modified");
  ck_assert_str_eq(hist->items[1].review_status, "confirmed");
  ck_assert_str_eq(hist->items[0].feedback_json, "[{\"index\":0,\"decision\":\"edited\"}]");
  rr_ai_review_list_free(hist);
  ck_assert_int_eq(rr_store_ai_get(fx.store, &got, "a1", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(got.review_status, "confirmed");
  ck_assert_str_eq(got.radiologist_notes, "confirmed after all");
  ck_assert_int_eq(got.reviewed_at, 3100);
  rr_ai_analysis_dispose(&got);
  /* listing and counts */
  ck_assert_int_eq(rr_store_ai_list_study(fx.store, &list, "1.2.3", fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 2);
  ck_assert_str_eq(list->items[0].id, "a2"); /* newest first */
  rr_ai_list_free(list);
  ck_assert_int_eq(rr_store_ai_counts(fx.store, &counts, 0, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(counts.queued, 1);
  ck_assert_int_eq(counts.completed, 1);
  ck_assert_int_eq(counts.prompt_tokens, 2000);
  ck_assert_int_eq(counts.analyses, 2);
  ck_assert_int_eq(counts.images_sent, 2);
  ck_assert_int_eq(rr_store_ai_counts(fx.store, &counts, 150, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(counts.prompt_tokens, 0); /* a1 was requested before */
  ck_assert_int_eq(counts.analyses, 1);
  ck_assert_int_eq(counts.images_sent, 0);
  ck_assert_int_eq(counts.completed, 1); /* states count every analysis */
}
END_TEST

START_TEST(ai_abandon_ends_waiting_analyses)
{
  rr_ai_analysis a = analysis("x1", "1.2.7", 100), b = analysis("x2", "1.2.7", 110), c = analysis("x3", "1.2.7", 120), got;
  int64_t count = -1;

  ck_assert_int_eq(rr_store_ai_create(fx.store, &a, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_ai_create(fx.store, &b, fx.err, sizeof(fx.err)), 0);
  rr_str_copy(c.status, sizeof(c.status), "completed");
  ck_assert_int_eq(rr_store_ai_create(fx.store, &c, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_ai_claim_next(fx.store, &got, 200, fx.err, sizeof(fx.err)), 0); /* x1 running */
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_abandon(fx.store, &count, 300, "no provider 'any more'", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(count, 2);
  ck_assert_int_eq(rr_store_ai_get(fx.store, &got, "x1", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(got.status, "failed");
  ck_assert_str_eq(got.error, "no provider 'any more'");
  ck_assert_int_eq(got.finished_at, 300);
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_get(fx.store, &got, "x3", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(got.status, "completed");
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_abandon(fx.store, &count, 301, "again", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(count, 0);
}
END_TEST

START_TEST(ai_state_in_the_worklist)
{
  rr_ai_analysis a = analysis("w1", "1.2.3.1", 100), b = analysis("w2", "1.2.3.2", 100), c = analysis("w3", "1.2.3.2", 200);
  rr_ai_review r;
  rr_worklist_query q = RR_FX_QUERY(.patient_id = {RR_MATCH_EXACT, "PID-2"});
  rr_study_list *l;

  rr_fx_load_worklist();
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.ai_statuses = {""}, .ai_status_count = 1)), "s-e,s-b,s-a,s-c,s-d");
  ck_assert_int_eq(rr_store_ai_create(fx.store, &a, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_ai_create(fx.store, &b, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.ai_statuses = {"queued"}, .ai_status_count = 1)), "s-b,s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.ai_statuses = {""}, .ai_status_count = 1)), "s-e,s-c,s-d");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.ai_statuses = {"", "queued"}, .ai_status_count = 2)), "s-e,s-b,s-a,s-c,s-d");
  /* completed, then reviewed */
  rr_str_copy(b.status, sizeof(b.status), "completed");
  ck_assert_int_eq(rr_store_ai_update(fx.store, &b, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.ai_statuses = {"completed"}, .ai_status_count = 1)), "s-b");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.review_statuses = {"pending"}, .review_status_count = 1)), "s-b");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.review_statuses = {""}, .review_status_count = 1)), "s-e,s-a,s-c,s-d");
  memset(&r, 0, sizeof(r));
  rr_str_copy(r.analysis_id, sizeof(r.analysis_id), "w2");
  r.at = 300;
  rr_str_copy(r.reviewer, sizeof(r.reviewer), "rad");
  rr_str_copy(r.review_status, sizeof(r.review_status), "confirmed");
  r.notes = "";
  ck_assert_int_eq(rr_store_ai_review_add(fx.store, &r, "", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.review_statuses = {"confirmed"}, .review_status_count = 1)), "s-b");
  /* a newer analysis of s-b: its state shows, the review of the last completed one stays */
  ck_assert_int_eq(rr_store_ai_create(fx.store, &c, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.ai_statuses = {"queued"}, .ai_status_count = 1)), "s-b,s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.review_statuses = {"confirmed"}, .review_status_count = 1)), "s-b");
  l = rr_fx_page(&q);
  ck_assert_uint_eq(l->count, 1);
  ck_assert_str_eq(l->items[0].ai_status, "queued");
  ck_assert_str_eq(l->items[0].review_status, "confirmed");
  rr_study_list_free(l);
}
END_TEST

/* The analyses come first, the study's instances later (an analysis of a
 * study requested before this store indexed it, or a study deleted and sent
 * again): the worklist shows and filters the study's AI state all the same. */
START_TEST(ai_state_before_the_study_is_indexed)
{
  rr_ai_analysis a = analysis("v1", "1.2.3.2", 100), b = analysis("v2", "1.2.3.1", 100);
  rr_worklist_query q = RR_FX_QUERY(.patient_id = {RR_MATCH_EXACT, "PID-2"});
  rr_ai_review r;
  rr_study_list *l;

  ck_assert_int_eq(rr_store_ai_create(fx.store, &a, fx.err, sizeof(fx.err)), 0);
  rr_str_copy(a.status, sizeof(a.status), "completed");
  ck_assert_int_eq(rr_store_ai_update(fx.store, &a, fx.err, sizeof(fx.err)), 0);
  memset(&r, 0, sizeof(r));
  rr_str_copy(r.analysis_id, sizeof(r.analysis_id), "v1");
  r.at = 300;
  rr_str_copy(r.reviewer, sizeof(r.reviewer), "rad");
  rr_str_copy(r.review_status, sizeof(r.review_status), "confirmed");
  r.notes = "";
  ck_assert_int_eq(rr_store_ai_review_add(fx.store, &r, "", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_ai_create(fx.store, &b, fx.err, sizeof(fx.err)), 0);
  rr_fx_load_worklist();
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.ai_statuses = {"completed"}, .ai_status_count = 1)), "s-b");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.ai_statuses = {"queued"}, .ai_status_count = 1)), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.ai_statuses = {""}, .ai_status_count = 1)), "s-e,s-c,s-d");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.review_statuses = {"confirmed"}, .review_status_count = 1)), "s-b");
  l = rr_fx_page(&q);
  ck_assert_uint_eq(l->count, 1);
  ck_assert_str_eq(l->items[0].ai_status, "completed");
  ck_assert_str_eq(l->items[0].review_status, "confirmed");
  rr_study_list_free(l);
}
END_TEST

START_TEST(ai_interrupted_three_times_fails)
{
  rr_ai_analysis a = analysis("a3", "1.2.9", 100), got;
  int64_t requeued;
  int i;
  ck_assert_int_eq(rr_store_ai_create(fx.store, &a, fx.err, sizeof(fx.err)), 0);
  for (i = 0; i < 3; i++) {
    ck_assert_int_eq(rr_store_ai_claim_next(fx.store, &got, 1000 + i, fx.err, sizeof(fx.err)), 0);
    rr_ai_analysis_dispose(&got);
    ck_assert_int_eq(rr_store_ai_recover(fx.store, &requeued, 2000 + i, fx.err, sizeof(fx.err)), 0);
  }
  ck_assert_int_eq(rr_store_ai_get(fx.store, &got, "a3", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(got.status, "failed");
  ck_assert(strstr(got.error, "interrupted") != NULL);
  rr_ai_analysis_dispose(&got);
}
END_TEST

/* A store written by schema version 4 (findings-1: the overall confidence a
 * number from 0 to 1) opens with the current schema: every analysis keeps
 * its number as the score and gets the design's band (below 0.4 low, below
 * 0.7 medium, else high), and one without a confidence gets none. */
static void exec_sql(sqlite3 *db, const char *sql)
{
  char *msg = NULL;
  ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s", msg ? msg : "");
}

START_TEST(ai_numeric_confidence_migrates_to_bands)
{
  static const char *const old[] = {"sqlite/001_initial.sql", "sqlite/002_access_control.sql",
                                    "sqlite/003_ai_analyses.sql", "sqlite/004_study_ai_state.sql"};
  static const struct { const char *id; const char *value; const char *band; } rows[] = {
    {"n1", "0.72", "high"}, {"n2", "0.7", "high"}, {"n3", "0.5", "medium"}, {"n4", "0.4", "medium"},
    {"n5", "0.39", "low"},  {"n6", "0", "low"},    {"n7", "1", "high"},     {"n8", "NULL", ""}};
  char dir[4200], path[4300], sql[512];
  sqlite3 *db = NULL;
  rr_store *store;
  rr_ai_analysis got;
  size_t i;

  if (strcmp(fx.backend->name, "sqlite") != 0)
    return;
  snprintf(dir, sizeof(dir), "%s/old", fx.dir);
  snprintf(path, sizeof(path), "%s/sub", dir);
  ck_assert(mkdir(dir, 0700) == 0 && mkdir(path, 0700) == 0);
  snprintf(path, sizeof(path), "%s/sub/dir", dir);
  ck_assert(mkdir(path, 0700) == 0);
  snprintf(path, sizeof(path), "%s/sub/dir/test.db", dir);
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  for (i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
    const rr_embedded_file *f = rr_embedded_find(rr_resources_files, rr_resources_count, old[i]);
    char *text;
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(text = strndup((const char *)f->data, f->size));
    exec_sql(db, text);
    free(text);
  }
  exec_sql(db, "PRAGMA user_version=4");
  for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    snprintf(sql, sizeof(sql),
             "INSERT INTO ai_analyses(id, study_uid, provider, model_requested, status, requested_at, summary,"
             " findings_json, ai_confidence, schema_version) VALUES('%s', '1.2.%zu', 'gemini', 'm', 'completed',"
             " %zu, 'old', '{\"findings\":[],\"recommendations\":[],\"ai_confidence\":%s}', %s, 'findings-1')",
             rows[i].id, i, i, rows[i].value, rows[i].value);
    exec_sql(db, sql);
  }
  sqlite3_close(db);

  store = rr_fx_open_named("sqlite", dir);
  for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    ck_assert_int_eq(rr_store_ai_get(store, &got, rows[i].id, fx.err, sizeof(fx.err)), 0);
    ck_assert_msg(strcmp(got.ai_confidence, rows[i].band) == 0, "%s: %s gave '%s'", rows[i].id, rows[i].value,
                  got.ai_confidence);
    ck_assert(got.has_ai_confidence_score == (rows[i].band[0] != '\0'));
    if (got.has_ai_confidence_score)
      ck_assert(got.ai_confidence_score == strtod(rows[i].value, NULL));
    ck_assert_str_eq(got.schema_version, "findings-1");
    rr_ai_analysis_dispose(&got);
  }
  /* a migrated analysis is written back with its band */
  ck_assert_int_eq(rr_store_ai_get(store, &got, "n3", fx.err, sizeof(fx.err)), 0);
  rr_str_copy(got.review_status, sizeof(got.review_status), "confirmed");
  ck_assert_int_eq(rr_store_ai_update(store, &got, fx.err, sizeof(fx.err)), 0);
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_get(store, &got, "n3", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(got.ai_confidence, "medium");
  ck_assert(got.ai_confidence_score == 0.5);
  rr_ai_analysis_dispose(&got);
  rr_store_free(store);
}
END_TEST

/* A backend without the AI concern: each function fails with a sentence. */
START_TEST(ai_missing)
{
  rr_store *stub = rr_fx_stub();
  rr_ai_analysis a = analysis("m1", "1.2", 1);
  rr_ai_list *list = NULL;
  rr_ai_review r;
  rr_ai_review_list *hist = NULL;
  rr_ai_counts counts;
  int64_t n;

  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(rr_store_ai_create(stub, &a, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement AI analyses");
  ck_assert_int_eq(rr_store_ai_get(stub, &a, "m1", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_ai_update(stub, &a, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_ai_list_study(stub, &list, "1.2", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_ptr_null(list);
  ck_assert_int_eq(rr_store_ai_claim_next(stub, &a, 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_ai_recover(stub, &n, 1, NULL, 0), RR_ESTORE);
  ck_assert_int_eq(rr_store_ai_sweep(stub, &n, 1, NULL, 0), RR_ESTORE);
  ck_assert_int_eq(rr_store_ai_abandon(stub, &n, 1, "why", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_ai_review_add(stub, &r, "", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_ai_review_history(stub, &hist, "m1", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_ai_counts(stub, &counts, 0, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement AI analyses");
  rr_store_free(stub);
}
END_TEST

/* Workers on several handles (nodes) claim from one queue at once: every
 * analysis is claimed exactly once. On a backend with several nodes, a node
 * that starts (recover) leaves the analyses another live node is running
 * alone, and requeues those of a node that is gone. */
#define CLAIM_HANDLES 3
#define CLAIM_THREADS 6
#define CLAIM_JOBS 120

typedef struct claimer {
  rr_store *store;
  int claimed[CLAIM_JOBS];
  int failures;
} claimer;

static void *claim_all(void *p)
{
  claimer *c = p;
  rr_ai_analysis a;
  char err[256];
  int n, error;

  while ((error = rr_store_ai_claim_next(c->store, &a, 500, err, sizeof(err))) != RR_ENOTFOUND) {
    if (error < 0) {
      __atomic_add_fetch(&c->failures, 1, __ATOMIC_SEQ_CST);
      continue;
    }
    if (sscanf(a.id, "job%d", &n) == 1 && n >= 0 && n < CLAIM_JOBS)
      __atomic_add_fetch(&c->claimed[n], 1, __ATOMIC_SEQ_CST);
    rr_ai_analysis_dispose(&a);
  }
  return NULL;
}

START_TEST(ai_claims_once_across_handles)
{
  static claimer claimers[CLAIM_HANDLES];
  pthread_t threads[CLAIM_THREADS];
  rr_ai_analysis a, got;
  char id[32];
  int64_t requeued = 0, sum = 0;
  int i, h, total;

  for (i = 0; i < CLAIM_JOBS; i++) {
    snprintf(id, sizeof(id), "job%d", i);
    a = analysis(id, "1.2.9", 100 + i);
    ck_assert_msg(rr_store_ai_create(fx.store, &a, fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  }
  memset(claimers, 0, sizeof(claimers));
  claimers[0].store = fx.store;
  for (h = 1; h < CLAIM_HANDLES; h++)
    claimers[h].store = rr_fx_open_named(fx.backend->name, fx.dir);
  for (i = 0; i < CLAIM_THREADS; i++)
    ck_assert_int_eq(pthread_create(&threads[i], NULL, claim_all, &claimers[i % CLAIM_HANDLES]), 0);
  for (i = 0; i < CLAIM_THREADS; i++)
    pthread_join(threads[i], NULL);
  for (i = 0; i < CLAIM_JOBS; i++) {
    for (total = 0, h = 0; h < CLAIM_HANDLES; h++)
      total += claimers[h].claimed[i];
    ck_assert_msg(total == 1, "job%d claimed %d times", i, total);
  }
  for (h = 0; h < CLAIM_HANDLES; h++)
    ck_assert_int_eq(claimers[h].failures, 0);

  if (fx.store->cluster != NULL) {
    rr_store *starter = rr_fx_open_named(fx.backend->name, fx.dir);

    /* every claimer is alive: a starting node's recover leaves their work alone */
    ck_assert_int_eq(rr_store_ai_recover(starter, &requeued, 600, fx.err, sizeof(fx.err)), 0);
    ck_assert_int_eq(requeued, 0);
    /* handle 1 goes: its running analyses come back to the queue */
    for (total = 0, i = 0; i < CLAIM_JOBS; i++)
      total += claimers[1].claimed[i];
    rr_store_free(claimers[1].store);
    claimers[1].store = NULL;
    /* the server frees a closed session's locks a moment later: ask again for up to 5 s */
    for (i = 0, sum = 0; i < 100 && sum < total; i++) {
      ck_assert_int_eq(rr_store_ai_recover(starter, &requeued, 600, fx.err, sizeof(fx.err)), 0);
      sum += requeued;
      if (sum < total)
        nanosleep(&(struct timespec){0, 50000000L}, NULL);
    }
    ck_assert_int_eq(sum, total);
    ck_assert_int_gt(total, 0);
    rr_store_free(starter);
  }
  ck_assert_int_eq(rr_store_ai_get(fx.store, &got, "job0", fx.err, sizeof(fx.err)), 0);
  rr_ai_analysis_dispose(&got);
  for (h = 1; h < CLAIM_HANDLES; h++)
    rr_store_free(claimers[h].store);
}
END_TEST

/* A living node sweeps while it runs: the analysis a node that is gone had
 * claimed goes back to the queue, while this node's own running analysis
 * and a live node's stay running. A backend without other nodes requeues
 * nothing (its running analyses are this living process'). */
static void assert_status(rr_store *s, const char *id, const char *status)
{
  rr_ai_analysis got;
  char err[256];

  ck_assert_msg(rr_store_ai_get(s, &got, id, err, sizeof(err)) == 0, "%s", err);
  ck_assert_msg(strcmp(got.status, status) == 0, "%s is %s, not %s", id, got.status, status);
  rr_ai_analysis_dispose(&got);
}

static void claim_one(rr_store *s, const char *expected)
{
  rr_ai_analysis got;
  char err[256];

  ck_assert_msg(rr_store_ai_claim_next(s, &got, 700, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(got.id, expected);
  rr_ai_analysis_dispose(&got);
}

START_TEST(ai_sweep_requeues_only_gone_nodes)
{
  rr_ai_analysis a = analysis("mine", "1.2.7", 100), b = analysis("theirs", "1.2.7", 200),
                 c = analysis("dead", "1.2.7", 300);
  rr_store *live = NULL, *dying = NULL;
  int64_t requeued = -1, sum = 0;
  int i;

  ck_assert_int_eq(rr_store_ai_create(fx.store, &a, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_ai_create(fx.store, &b, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_ai_create(fx.store, &c, fx.err, sizeof(fx.err)), 0);
  claim_one(fx.store, "mine");
  if (fx.store->cluster == NULL) {
    claim_one(fx.store, "theirs");
    ck_assert_msg(rr_store_ai_sweep(fx.store, &requeued, 800, fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
    ck_assert_int_eq(requeued, 0);
    assert_status(fx.store, "mine", "running");
    assert_status(fx.store, "theirs", "running");
    return;
  }
  live = rr_fx_open_named(fx.backend->name, fx.dir);
  dying = rr_fx_open_named(fx.backend->name, fx.dir);
  claim_one(live, "theirs");
  claim_one(dying, "dead");
  /* everyone alive: nothing moves, not even this node's own claim */
  ck_assert_msg(rr_store_ai_sweep(fx.store, &requeued, 800, fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  ck_assert_int_eq(requeued, 0);
  rr_store_free(dying); /* the node is gone with its claim */
  /* the server frees a closed session's locks a moment later: sweep again for up to 5 s */
  for (i = 0; i < 100 && sum < 1; i++) {
    ck_assert_msg(rr_store_ai_sweep(fx.store, &requeued, 800, fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
    sum += requeued;
    if (sum < 1)
      nanosleep(&(struct timespec){0, 50000000L}, NULL);
  }
  ck_assert_int_eq(sum, 1);
  assert_status(fx.store, "dead", "queued");
  assert_status(fx.store, "mine", "running");
  assert_status(live, "theirs", "running");
  /* the survivor claims it: attempts count on */
  claim_one(live, "dead");
  ck_assert_int_eq(rr_store_ai_sweep(live, &requeued, 900, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(requeued, 0);
  rr_store_free(live);
}
END_TEST

/* PostgreSQL: the server drops every node's lease connection (a restart,
 * a network cut). A node takes its lease again at its next claim (or
 * sweep), so another node's sweep does not take its running analysis for
 * a dead node's. */
START_TEST(ai_sweep_spares_a_node_whose_lease_came_back)
{
  const char *conninfo = getenv("RR_TEST_PG_CONNINFO");
  rr_ai_analysis a = analysis("k0", "1.2.78", 100), b = analysis("k1", "1.2.78", 101);
  rr_store *other;
  int64_t requeued = -1;
  PGconn *admin;
  PGresult *r;
  char schema[128];
  const char *params[1] = {schema};

  if (fx.store->cluster == NULL || strcmp(fx.store->name, "postgresql") != 0 || conninfo == NULL)
    return;
  ck_assert_int_eq(rr_store_ai_create(fx.store, &a, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_ai_create(fx.store, &b, fx.err, sizeof(fx.err)), 0);
  other = rr_fx_open_named(fx.backend->name, fx.dir);
  claim_one(other, "k0");
  admin = PQconnectdb(conninfo);
  ck_assert_int_eq(PQstatus(admin), CONNECTION_OK);
  rr_fx_pg_schema_name(schema, sizeof(schema), fx.dir);
  r = PQexecParams(admin,
                   "SELECT count(pg_terminate_backend(l.pid)) FROM (SELECT DISTINCT k.pid FROM pg_locks k"
                   " JOIN pg_stat_activity a ON a.pid = k.pid WHERE k.locktype='advisory'"
                   " AND k.pid <> pg_backend_pid() AND a.application_name = $1) l",
                   1, NULL, params, NULL, NULL, 0);
  ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
  ck_assert_int_ge(atoi(PQgetvalue(r, 0, 0)), 2);
  PQclear(r);
  PQfinish(admin);
  /* `other` goes on working: its next claim takes its lease again */
  claim_one(other, "k1");
  ck_assert_msg(rr_store_ai_sweep(fx.store, &requeued, 800, fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  ck_assert_int_eq(requeued, 0);
  assert_status(fx.store, "k0", "running");
  rr_store_free(other);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {
    ai_analyses_lifecycle, ai_interrupted_three_times_fails, ai_state_in_the_worklist, ai_state_before_the_study_is_indexed,
    ai_abandon_ends_waiting_analyses, ai_numeric_confidence_migrates_to_bands, ai_missing,
    ai_claims_once_across_handles, ai_sweep_requeues_only_gone_nodes,
    ai_sweep_spares_a_node_whose_lease_came_back};

  return rr_fx_run("ai", tests, sizeof(tests) / sizeof(tests[0]));
}
