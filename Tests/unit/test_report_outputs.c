/*
 * test_report_outputs.c - the archive worker of report/report_outputs.h with
 * a real SQLite store, the fixture's report as the loader's answer and a
 * stand-in for Orthanc's POST /tools/create-dicom: what is queued per
 * version, bodies posted and results recorded, retries with their errors,
 * "failed" after the configured attempts and the re-drive, the predecessor
 * of an addendum's SR, the site's UID root kept in the store, the outputs
 * JSON, and the thread doing it all by itself.
 */
#include "common.h"

#include <pthread.h>
#include <time.h>

#include "report/report_dicom.h"
#include "report/report_outputs.h"
#include "report_doc_fixture.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/json.h"

#define STUDY "1.2.826.0.1.3680043.8.498.1"
#define PDF "%PDF-1.4\n% worker test\n%%EOF\n"

static const rr_fx_doc_image IMAGES[] = {{"1.2.826.0.1.3680043.8.498.2", "1.2.826.0.1.3680043.8.498.3"}};

/* ---- stand-ins ---- */

typedef struct fake {
  pthread_mutex_t lock;
  int posts;           /* bodies received */
  int fail_next;       /* answer errors to that many posts */
  int loader_missing;  /* the loader answers RR_ENOTFOUND */
  size_t images;       /* key images of the loaded doc */
  json_object *last[3]; /* the last body per kind (pdf, sr, kos) */
} fake;

static fake F;

static int load(void *ctx, rr_report_doc **out_doc, unsigned char **out_pdf, size_t *out_pdf_size, int64_t report_id,
                int64_t version, char *err, size_t errsize)
{
  fake *f = ctx;
  rr_report_doc *d;

  if (f->loader_missing)
    return rr_fail(err, errsize, RR_ENOTFOUND, "no report %lld", (long long)report_id);
  d = rr_fx_report_doc(STUDY, "PID-7", IMAGES, f->images);
  d->report_id = report_id;
  d->version = version;
  if (version > 1)
    rr_report_doc_set(&d->kind, "addendum", 8);
  rr_report_doc_set(&d->study_orthanc_id, "study-oid", 9);
  *out_doc = d;
  *out_pdf = (unsigned char *)rr_fx_dup(PDF);
  *out_pdf_size = strlen(PDF);
  return 0;
}

static int post(void *ctx, json_object **out, const char *uri, const void *body, size_t len, char *err,
                size_t errsize)
{
  fake *f = ctx;
  json_object *b = json_tokener_parse(body), *a;
  const char *cls;
  char id[64];
  int kind = -1;

  ck_assert_str_eq(uri, "/tools/create-dicom");
  ck_assert_uint_eq(strlen(body), len);
  ck_assert_ptr_nonnull(b);
  pthread_mutex_lock(&f->lock);
  f->posts++;
  if (f->fail_next > 0) {
    f->fail_next--;
    pthread_mutex_unlock(&f->lock);
    json_object_put(b);
    return rr_fail(err, errsize, RR_EUPSTREAM, "Orthanc answered error 500 to POST %s", uri);
  }
  cls = rr_json_str(rr_json_obj(b, "Tags"), "SOPClassUID");
  kind = strcmp(cls, RR_SOP_CLASS_ENCAPSULATED_PDF) == 0 ? 0 : strcmp(cls, RR_SOP_CLASS_ENHANCED_SR) == 0 ? 1 : 2;
  json_object_put(f->last[kind]);
  f->last[kind] = b;
  snprintf(id, sizeof(id), "oid-%d", kind);
  pthread_mutex_unlock(&f->lock);
  a = json_object_new_object();
  json_object_object_add(a, "ID", json_object_new_string(id));
  json_object_object_add(a, "ParentStudy", json_object_new_string("study-oid"));
  *out = a;
  return 0;
}

static char dir[4096];
static rr_store *store;

static void setup(void)
{
  memset(&F, 0, sizeof(F));
  pthread_mutex_init(&F.lock, NULL);
  F.images = 1;
  rr_test_tmpdir(dir, sizeof(dir));
  store = rr_test_store_open(dir);
}

static void teardown(void)
{
  int i;
  for (i = 0; i < 3; i++)
    json_object_put(F.last[i]);
  rr_store_free(store);
  rr_test_rmdir(dir);
}

static rr_report_outputs *worker(bool archive, unsigned attempts, const char *root)
{
  rr_report_outputs_options o;
  rr_report_outputs *w = NULL;

  memset(&o, 0, sizeof(o));
  o.archive = archive;
  o.max_attempts = attempts;
  o.claimer = "test-node";
  o.uid_root = root;
  o.poster.ctx = &F;
  o.poster.post_json = post;
  o.idle_ms = 20;
  ck_assert_int_eq(rr_report_outputs_new(&w, store, load, &F, &o), 0);
  return w;
}

static void run_all(rr_report_outputs *w, int expect)
{
  bool ran = true;
  int n = 0;
  while (ran) {
    ck_assert_int_eq(rr_report_outputs_run_one(w, &ran), 0);
    n += ran;
  }
  ck_assert_int_eq(n, expect);
}

static rr_report_output_list *outputs(int64_t report)
{
  rr_report_output_list *l = NULL;
  char err[256];
  ck_assert_int_eq(rr_store_report_output_list(store, &l, report, err, sizeof(err)), 0);
  return l;
}

START_TEST(a_final_version_is_archived_as_three_objects)
{
  rr_report_outputs *w = worker(true, 0, "site-1");
  rr_report_output_list *l;
  json_object *arr = NULL, *o;
  char sop[RR_REPORT_DICOM_UID_SIZE], err[256];
  size_t i;

  ck_assert_int_eq(rr_report_outputs_enqueue(w, 12, 1, true), 0);
  ck_assert_int_eq(rr_report_outputs_enqueue(w, 12, 1, true), 0); /* again: nothing new */
  run_all(w, 3);
  ck_assert_int_eq(F.posts, 3);
  l = outputs(12);
  ck_assert_uint_eq(l->count, 3);
  for (i = 0; i < 3; i++) {
    ck_assert_str_eq(l->items[i].state, "done");
    ck_assert_int_eq(rr_report_dicom_uids(sop, NULL, "site-1", STUDY, 12, 1, (rr_report_dicom_kind)i), 0);
    ck_assert_str_eq(l->items[i].sop_instance_uid, sop);
    ck_assert_str_eq(rr_json_str(rr_json_obj(F.last[i], "Tags"), "SOPInstanceUID"), sop);
    ck_assert_int_gt(l->items[i].done_at, 0);
  }
  ck_assert_str_eq(l->items[1].orthanc_id, "oid-1");
  rr_report_output_list_free(l);
  ck_assert_int_eq(rr_report_outputs_json(&arr, store, 12, err, sizeof(err)), 0);
  ck_assert_int_eq(json_object_array_length(arr), 3);
  o = json_object_array_get_idx(arr, 2);
  ck_assert_int_eq(json_object_get_int64(rr_json_obj(o, "version")), 1);
  ck_assert_str_eq(rr_json_str(o, "kind"), "kos");
  ck_assert_str_eq(rr_json_str(o, "state"), "done");
  ck_assert_int_eq(json_object_get_int64(rr_json_obj(o, "attempts")), 1);
  ck_assert(json_object_is_type(rr_json_obj(o, "lastError"), json_type_null));
  ck_assert_str_eq(rr_json_str(o, "orthancId"), "oid-2");
  ck_assert_str_ne(rr_json_str(o, "sopInstanceUid"), "");
  ck_assert_ptr_nonnull(strstr(rr_json_str(o, "doneAt"), "Z"));
  ck_assert_str_ne(rr_json_str(o, "updatedAt"), "");
  json_object_put(arr);
  rr_report_outputs_free(w);
}
END_TEST

START_TEST(no_key_images_no_kos_and_archive_off_queues_nothing)
{
  rr_report_outputs *w = worker(true, 0, "site-1");
  rr_report_output_list *l;

  F.images = 0;
  ck_assert_int_eq(rr_report_outputs_enqueue(w, 3, 1, false), 0);
  run_all(w, 2);
  l = outputs(3);
  ck_assert_uint_eq(l->count, 2);
  rr_report_output_list_free(l);
  rr_report_outputs_free(w);

  w = worker(false, 0, "site-1");
  ck_assert_int_eq(rr_report_outputs_enqueue(w, 4, 1, true), 0);
  l = outputs(4);
  ck_assert_uint_eq(l->count, 0);
  rr_report_output_list_free(l);
  ck_assert_int_eq(rr_report_outputs_enqueue(w, 0, 1, true), RR_EINVAL);
  rr_report_outputs_free(w);
}
END_TEST

START_TEST(failures_are_retried_then_failed_then_redriven)
{
  rr_report_outputs *w = worker(true, 2, "site-1");
  rr_report_output_list *l;
  rr_report_output_counts c;
  char err[256];
  bool ran;

  F.images = 0;
  F.fail_next = 100;
  ck_assert_int_eq(rr_report_outputs_enqueue(w, 5, 1, false), 0);
  run_all(w, 2); /* pdf and sr tried once, both waiting for their back-off */
  l = outputs(5);
  ck_assert_str_eq(l->items[0].state, "queued");
  ck_assert_int_eq(l->items[0].attempts, 1);
  ck_assert_ptr_nonnull(strstr(l->items[0].last_error, "error 500"));
  ck_assert_int_ge(l->items[0].next_attempt_at - l->items[0].updated_at, 2000);
  rr_report_output_list_free(l);
  ck_assert_int_eq(rr_report_outputs_run_one(w, &ran), 0);
  ck_assert(!ran); /* not due yet */
  /* make them due: the second try is the last (OutputAttempts 2) */
  ck_assert_int_eq(rr_store_report_output_claim(store, &(rr_report_output){0}, "x", rr_clock_unix_ms() + 3000, err,
                                                sizeof(err)), 0);
  ck_assert_int_eq(rr_store_report_output_fail(store, NULL, 5, 1, "pdf", "gone", 2, rr_clock_unix_ms(), err,
                                               sizeof(err)), 0);
  ck_assert_int_eq(rr_store_report_output_counts(store, &c, err, sizeof(err)), 0);
  ck_assert_int_eq(c.failed, 1);
  F.fail_next = 0;
  ck_assert_int_eq(rr_report_outputs_retry(w, 5, 1, "pdf", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_report_outputs_retry(w, 5, 1, "pdf", err, sizeof(err)), RR_ECONFLICT);
  ck_assert_int_eq(rr_report_outputs_retry(w, 5, 1, "png", err, sizeof(err)), RR_EINVAL);
  run_all(w, 1);
  l = outputs(5);
  ck_assert_str_eq(l->items[0].state, "done");
  rr_report_output_list_free(l);
  rr_report_outputs_free(w);
}
END_TEST

/* A try whose result could not be recorded stays running under this
 * worker's name: the next run takes it back instead of waiting forever. */
START_TEST(a_job_left_running_by_this_worker_is_taken_back)
{
  rr_report_outputs *w = worker(true, 0, "site-1");
  rr_report_output o;
  rr_report_output_list *l;
  char err[256];

  F.images = 0;
  ck_assert_int_eq(rr_report_outputs_enqueue(w, 8, 1, false), 0);
  ck_assert_int_eq(rr_store_report_output_claim(store, &o, "test-node", rr_clock_unix_ms(), err, sizeof(err)), 0);
  run_all(w, 2);
  l = outputs(8);
  ck_assert_str_eq(l->items[0].state, "done");
  ck_assert_int_eq(l->items[0].attempts, 2);
  ck_assert_str_eq(l->items[1].state, "done");
  rr_report_output_list_free(l);
  rr_report_outputs_free(w);
}
END_TEST

START_TEST(loader_failure_is_recorded)
{
  rr_report_outputs *w = worker(true, 1, "site-1");
  rr_report_output_list *l;

  F.loader_missing = 1;
  ck_assert_int_eq(rr_report_outputs_enqueue(w, 6, 1, false), 0);
  run_all(w, 2);
  l = outputs(6);
  ck_assert_str_eq(l->items[0].state, "failed");
  ck_assert_str_eq(l->items[0].last_error, "no report 6");
  rr_report_output_list_free(l);
  ck_assert_int_eq(F.posts, 0);
  rr_report_outputs_free(w);
}
END_TEST

START_TEST(an_addendum_sr_names_its_predecessor)
{
  rr_report_outputs *w = worker(true, 0, NULL);
  json_object *pred, *ser;
  char sop1[RR_REPORT_DICOM_UID_SIZE], series[RR_REPORT_DICOM_UID_SIZE];
  const char *root;

  ck_assert_int_eq(rr_report_outputs_enqueue(w, 12, 1, false), 0);
  run_all(w, 2);
  root = rr_report_outputs_uid_root(w);
  ck_assert_uint_eq(strlen(root), 32); /* made once, kept in the store */
  ck_assert_int_eq(rr_report_dicom_uids(sop1, series, root, STUDY, 12, 1, RR_REPORT_DICOM_SR), 0);
  ck_assert_int_eq(rr_report_outputs_enqueue(w, 12, 2, false), 0);
  run_all(w, 2);
  pred = json_object_array_get_idx(rr_json_obj(rr_json_obj(F.last[1], "Tags"), "PredecessorDocumentsSequence"), 0);
  ck_assert_ptr_nonnull(pred);
  ser = json_object_array_get_idx(rr_json_obj(pred, "ReferencedSeriesSequence"), 0);
  ck_assert_str_eq(rr_json_str(ser, "SeriesInstanceUID"), series);
  ck_assert_str_eq(rr_json_str(json_object_array_get_idx(rr_json_obj(ser, "ReferencedSOPSequence"), 0),
                               "ReferencedSOPInstanceUID"), sop1);
  {
    char kept[65];
    rr_report_outputs *again = worker(true, 0, NULL);
    bool ran;
    strcpy(kept, root);
    rr_report_outputs_free(w);
    ck_assert_int_eq(rr_report_outputs_run_one(again, &ran), 0);
    ck_assert_str_eq(rr_report_outputs_uid_root(again), kept);
    rr_report_outputs_free(again);
  }
}
END_TEST

START_TEST(the_thread_archives_by_itself_and_requeues_at_start)
{
  rr_report_outputs *w = worker(true, 0, "site-1");
  rr_report_output_counts c;
  rr_report_output o;
  char err[256];
  int i;

  /* a job left running by a killed process of this node */
  ck_assert_int_eq(rr_store_report_output_enqueue(store, NULL, 20, 1, "pdf", 1, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_report_output_claim(store, &o, "test-node", 2, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_report_outputs_start(w), 0);
  ck_assert_int_eq(rr_report_outputs_enqueue(w, 21, 1, true), 0);
  for (i = 0; i < 250; i++) {
    ck_assert_int_eq(rr_store_report_output_counts(store, &c, err, sizeof(err)), 0);
    if (c.done == 4)
      break;
    nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
  }
  ck_assert_int_eq(c.done, 4);
  ck_assert_int_eq(c.queued + c.running + c.failed, 0);
  rr_report_outputs_stop(w);
  rr_report_outputs_stop(w);
  rr_report_outputs_free(w);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("report_outputs");
  TCase *tc = tcase_create("report_outputs");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, a_final_version_is_archived_as_three_objects);
  tcase_add_test(tc, no_key_images_no_kos_and_archive_off_queues_nothing);
  tcase_add_test(tc, failures_are_retried_then_failed_then_redriven);
  tcase_add_test(tc, loader_failure_is_recorded);
  tcase_add_test(tc, a_job_left_running_by_this_worker_is_taken_back);
  tcase_add_test(tc, an_addendum_sr_names_its_predecessor);
  tcase_add_test(tc, the_thread_archives_by_itself_and_requeues_at_start);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
