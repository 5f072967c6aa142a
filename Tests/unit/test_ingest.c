/*
 * Ingestion against a stand-in for Orthanc's REST API (a table of URI ->
 * JSON answers) and a real store.
 */
#include <json-c/json.h>
#include <time.h>

#include "common.h"
#include "ingest/ingest.h"
#include "ingest/instance_item.h"
#include "util/errors.h"

#define MAX_ROUTES 64

typedef struct fake_orthanc {
  char uris[MAX_ROUTES][160];
  char *bodies[MAX_ROUTES];
  size_t count;
  const char *fail_prefix; /* URIs starting with this answer an error */
  int calls;
} fake_orthanc;

static fake_orthanc fake;
static char dir[4096];
static rr_store *store;
static rr_ingest *ing;
static char err[512];

static void route(const char *uri, const char *body)
{
  size_t i;
  for (i = 0; i < fake.count; i++) {
    if (strcmp(fake.uris[i], uri) == 0) {
      free(fake.bodies[i]);
      fake.bodies[i] = body ? strdup(body) : NULL;
      return;
    }
  }
  ck_assert_uint_lt(fake.count, MAX_ROUTES);
  snprintf(fake.uris[fake.count], sizeof(fake.uris[0]), "%s", uri);
  fake.bodies[fake.count++] = body ? strdup(body) : NULL;
}

static int fake_get(void *ctx, json_object **out, const char *uri, char *e, size_t esize)
{
  size_t i;
  (void)ctx;
  fake.calls++;
  *out = NULL;
  if (fake.fail_prefix && strncmp(uri, fake.fail_prefix, strlen(fake.fail_prefix)) == 0) {
    snprintf(e, esize, "simulated failure of %s", uri);
    return RR_EUPSTREAM;
  }
  for (i = 0; i < fake.count; i++) {
    if (strcmp(fake.uris[i], uri) == 0) {
      if (fake.bodies[i] == NULL)
        return RR_ENOTFOUND;
      *out = json_tokener_parse(fake.bodies[i]);
      return *out ? 0 : RR_EUPSTREAM;
    }
  }
  return RR_ENOTFOUND;
}

/* Orthanc's JSON for a study s<k> / series se<k> / instance i<k>_<n>. */
static void add_instance(int study, int series, int n)
{
  char uri[160], body[1024];
  snprintf(uri, sizeof(uri), "/instances/i%d-%d", series, n);
  snprintf(body, sizeof(body),
           "{\"ID\":\"i%d-%d\",\"ParentSeries\":\"se%d\",\"MainDicomTags\":{\"SOPInstanceUID\":\"1.2.%d.%d.%d \","
           "\"InstanceNumber\":\"%d\",\"ImagePositionPatient\":\"0\\\\0\\\\%d\",\"ImageOrientationPatient\":\"1\\\\0\\\\0\\\\0\\\\1\\\\0\"}}",
           series, n, series, study, series, n, n, -n);
  route(uri, body);
  snprintf(uri, sizeof(uri), "/instances/i%d-%d/metadata?expand", series, n);
  route(uri, "{\"TransferSyntax\":\"1.2.840.10008.1.2.1\",\"SopClassUid\":\"1.2.840.10008.5.1.4.1.1.2\"}");
}

static void add_series(int study, int series, int count)
{
  char uri[160], body[4096];
  int n, len;
  len = snprintf(body, sizeof(body),
                 "{\"ID\":\"se%d\",\"ParentStudy\":\"s%d\",\"MainDicomTags\":{\"SeriesInstanceUID\":\"1.2.%d.%d\","
                 "\"Modality\":\"CT\",\"SeriesNumber\":\"%d\",\"BodyPartExamined\":\"CHEST\"},\"Instances\":[",
                 series, study, study, series, series);
  for (n = 1; n <= count; n++) {
    len += snprintf(body + len, sizeof(body) - (size_t)len, "%s\"i%d-%d\"", n > 1 ? "," : "", series, n);
    add_instance(study, series, n);
  }
  snprintf(body + len, sizeof(body) - (size_t)len, "]}");
  snprintf(uri, sizeof(uri), "/series/se%d", series);
  route(uri, body);
  snprintf(uri, sizeof(uri), "/studies/s%d", study);
  snprintf(body, sizeof(body),
           "{\"ID\":\"s%d\",\"ParentPatient\":\"p%d\",\"MainDicomTags\":{\"StudyInstanceUID\":\"1.2.%d\",\"StudyDate\":\"20240101\","
           "\"StudyDescription\":\"Study %d\",\"AccessionNumber\":\"A%d\"},\"PatientMainDicomTags\":{\"PatientName\":\"DOE^JANE%d\","
           "\"PatientID\":\"P%d\",\"PatientSex\":\"F\",\"PatientBirthDate\":\"19800231\"}}",
           study, study, study, study, study, study, study);
  route(uri, body);
}

static void set_changes(int64_t since, const char *body)
{
  char uri[160];
  snprintf(uri, sizeof(uri), "/changes?since=%lld&limit=100", (long long)since);
  route(uri, body);
}

static void setup(void)
{
  rr_ingest_options o = {.batch_size = 100, .poll_interval_ms = 1000, .reconcile_at_startup = false, .max_pending_deletions = 4};
  memset(&fake, 0, sizeof(fake));
  rr_test_tmpdir(dir, sizeof(dir));
  store = rr_test_store_open(dir);
  ck_assert_int_eq(rr_ingest_new(&ing, store, (rr_rest_source){NULL, fake_get, NULL}, &o), 0);
  route("/changes?last", "{\"Changes\":[],\"Done\":true,\"Last\":0}");
}

static void teardown(void)
{
  size_t i;
  rr_ingest_free(ing);
  rr_store_free(store);
  for (i = 0; i < fake.count; i++)
    free(fake.bodies[i]);
  rr_test_rmdir(dir);
}

static int64_t instances_in_store(void)
{
  rr_store_stats st;
  ck_assert_int_eq(rr_store_get_stats(store, &st, err, sizeof(err)), 0);
  return st.instances;
}

static const char THREE_CHANGES[] =
  "{\"Changes\":[{\"ChangeType\":\"NewInstance\",\"ID\":\"i1-1\",\"Seq\":1},"
  "{\"ChangeType\":\"NewSeries\",\"ID\":\"se1\",\"Seq\":2},"
  "{\"ChangeType\":\"NewInstance\",\"ID\":\"i1-2\",\"Seq\":3},"
  "{\"ChangeType\":\"NewInstance\",\"ID\":\"i1-3\",\"Seq\":5}],\"Done\":true,\"Last\":5}";

START_TEST(follows_the_change_log)
{
  bool more;
  char cursor[32];
  rr_study_detail *d = NULL;
  rr_ingest_status st;
  add_series(1, 1, 3);
  set_changes(0, THREE_CHANGES);
  set_changes(5, "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  route("/changes?last", "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert(!more);
  ck_assert_int_eq(instances_in_store(), 3);
  ck_assert_int_eq(rr_store_kv_get(store, cursor, sizeof(cursor), "ingest.cursor", err, sizeof(err)), 0);
  ck_assert_str_eq(cursor, "5");
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.1", err, sizeof(err)), 0);
  ck_assert_str_eq(d->study.patient_name, "DOE^JANE1");
  ck_assert_str_eq(d->study.patient_birth_date, ""); /* impossible date dropped */
  ck_assert_str_eq(d->series[0].instances[0].sop_instance_uid, "1.2.1.1.1"); /* trimmed */
  ck_assert_str_eq(d->series[0].series.body_part, "CHEST");
  ck_assert_str_eq(d->series[0].instances[0].transfer_syntax, "1.2.840.10008.1.2.1");
  rr_study_detail_free(d);
  /* the next step starts at the cursor and finds nothing new */
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert_int_eq(instances_in_store(), 3);
  rr_ingest_get_status(ing, &st);
  ck_assert_int_eq(st.cursor, 5);
  ck_assert_int_eq(st.instances_ingested, 3);
  ck_assert_int_eq(st.backlog, 0);
}
END_TEST

START_TEST(orthanc_failure_loses_nothing)
{
  bool more;
  char cursor[32];
  rr_ingest_status st;
  add_series(1, 1, 3);
  set_changes(0, THREE_CHANGES);
  set_changes(5, "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  route("/changes?last", "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  fake.fail_prefix = "/instances/i1-2";
  ck_assert_int_eq(rr_ingest_step(ing, &more), RR_EUPSTREAM);
  ck_assert_int_eq(instances_in_store(), 0); /* the batch is all or nothing */
  ck_assert_int_eq(rr_store_kv_get(store, cursor, sizeof(cursor), "ingest.cursor", err, sizeof(err)), RR_ENOTFOUND);
  rr_ingest_get_status(ing, &st);
  ck_assert(strstr(st.last_error, "simulated failure") != NULL);
  ck_assert_int_eq(st.errors, 1);
  fake.fail_prefix = NULL;
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert_int_eq(instances_in_store(), 3);
  rr_ingest_get_status(ing, &st);
  ck_assert_str_eq(st.last_error, "");
}
END_TEST

START_TEST(vanished_and_broken_instances_are_skipped)
{
  bool more;
  add_series(1, 1, 3);
  route("/instances/i1-2", NULL); /* deleted since the change was logged */
  route("/instances/i1-3", "{\"ID\":\"i1-3\",\"ParentSeries\":\"se1\",\"MainDicomTags\":{}}"); /* no SOP UID */
  set_changes(0, THREE_CHANGES);
  set_changes(5, "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  route("/changes?last", "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert_int_eq(instances_in_store(), 1);
}
END_TEST

START_TEST(paging_through_a_long_log)
{
  bool more;
  rr_ingest_status st;
  add_series(1, 1, 3);
  set_changes(0, "{\"Changes\":[{\"ChangeType\":\"NewInstance\",\"ID\":\"i1-1\",\"Seq\":1}],\"Done\":false,\"Last\":1}");
  set_changes(1, "{\"Changes\":[{\"ChangeType\":\"NewInstance\",\"ID\":\"i1-2\",\"Seq\":2}],\"Done\":true,\"Last\":2}");
  set_changes(2, "{\"Changes\":[],\"Done\":true,\"Last\":2}");
  route("/changes?last", "{\"Changes\":[],\"Done\":true,\"Last\":2}");
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert(more);
  rr_ingest_get_status(ing, &st);
  ck_assert_int_eq(st.backlog, 1);
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert(!more);
  ck_assert_int_eq(instances_in_store(), 2);
}
END_TEST

START_TEST(deletions_are_applied_and_bounded)
{
  bool more;
  add_series(1, 1, 3);
  set_changes(0, THREE_CHANGES);
  set_changes(5, "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  route("/changes?last", "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  rr_ingest_deleted(ing, RR_LEVEL_INSTANCE, "i1-1");
  rr_ingest_deleted(ing, RR_LEVEL_INSTANCE, "unknown"); /* harmless */
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert_int_eq(instances_in_store(), 2);
  rr_ingest_deleted(ing, RR_LEVEL_STUDY, "s1");
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert_int_eq(instances_in_store(), 0);
}
END_TEST

START_TEST(overflowing_deletions_trigger_reconciliation)
{
  bool more;
  int i;
  rr_ingest_status st;
  add_series(1, 1, 3);
  set_changes(0, THREE_CHANGES);
  set_changes(5, "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  route("/changes?last", "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  route("/series?expand&since=0&limit=500", "[]");
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  for (i = 0; i < 6; i++) /* queue holds 4 */
    rr_ingest_deleted(ing, RR_LEVEL_INSTANCE, "i-nothing");
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  rr_ingest_get_status(ing, &st);
  ck_assert_int_eq(st.reconciliations, 1);
  ck_assert_int_eq(instances_in_store(), 0); /* Orthanc has no series any more */
}
END_TEST

static const char *body_of(const char *uri)
{
  size_t i;
  for (i = 0; i < fake.count; i++)
    if (strcmp(fake.uris[i], uri) == 0)
      return fake.bodies[i];
  return NULL;
}

/* Orthanc's /series?expand answer listing the given series. */
static void set_series_list(const int *series, int n)
{
  char list[16384], uri[64];
  int i, len = snprintf(list, sizeof(list), "[");
  for (i = 0; i < n; i++) {
    snprintf(uri, sizeof(uri), "/series/se%d", series[i]);
    ck_assert_ptr_nonnull(body_of(uri));
    len += snprintf(list + len, sizeof(list) - (size_t)len, "%s%s", i ? "," : "", body_of(uri));
  }
  snprintf(list + len, sizeof(list) - (size_t)len, "]");
  route("/series?expand&since=0&limit=500", list);
}

START_TEST(reconciliation_repairs_the_store)
{
  rr_ingest_status st;
  rr_study_detail *d = NULL;
  rr_id_list *ids = NULL;
  const int both[] = {1, 2}, after[] = {1, 3};

  add_series(1, 1, 3);
  add_series(2, 2, 2);
  set_series_list(both, 2);
  ck_assert_int_eq(rr_ingest_reconcile(ing, false), 0); /* empty store: everything is new */
  ck_assert_int_eq(instances_in_store(), 5);

  /* meanwhile in Orthanc, with no event reaching us: i1-3 and series 2
   * deleted, series 3 stored */
  add_series(1, 1, 2);
  route("/instances/i1-3", NULL);
  route("/series/se2", NULL);
  add_series(3, 3, 1);
  set_series_list(after, 2);
  ck_assert_int_eq(rr_ingest_reconcile(ing, false), 0);
  ck_assert_int_eq(instances_in_store(), 3);
  ck_assert_int_eq(rr_store_list_instances(store, &ids, "se1", err, sizeof(err)), 0);
  ck_assert_uint_eq(ids->count, 2);
  rr_id_list_free(ids);
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.2", err, sizeof(err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.3", err, sizeof(err)), 0);
  rr_study_detail_free(d);

  /* a full re-sync re-reads what did not change in count */
  route("/studies/s1", "{\"ID\":\"s1\",\"ParentPatient\":\"p1\",\"MainDicomTags\":{\"StudyInstanceUID\":\"1.2.1\","
                       "\"StudyDescription\":\"Corrected\"},\"PatientMainDicomTags\":{\"PatientName\":\"DOE^JANE1\"}}");
  ck_assert_int_eq(rr_ingest_reconcile(ing, false), 0);
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.1", err, sizeof(err)), 0);
  ck_assert_str_eq(d->study.study_description, "Study 1"); /* counts equal: not re-read */
  rr_study_detail_free(d);
  ck_assert_int_eq(rr_ingest_reconcile(ing, true), 0);
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.1", err, sizeof(err)), 0);
  ck_assert_str_eq(d->study.study_description, "Corrected");
  rr_study_detail_free(d);
  rr_ingest_get_status(ing, &st);
  ck_assert_int_eq(st.reconciliations, 4);
}
END_TEST

START_TEST(reconciliation_failure_is_reported_and_retried)
{
  bool more;
  rr_ingest_status st;
  rr_ingest_options o = {.batch_size = 100, .poll_interval_ms = 1000, .reconcile_at_startup = true, .max_pending_deletions = 16};
  rr_ingest *ing2 = NULL;
  const int one[] = {1};

  add_series(1, 1, 1);
  set_changes(0, "{\"Changes\":[],\"Done\":true,\"Last\":0}");
  ck_assert_int_eq(rr_ingest_new(&ing2, store, (rr_rest_source){NULL, fake_get, NULL}, &o), 0);
  fake.fail_prefix = "/series?expand";
  ck_assert_int_eq(rr_ingest_step(ing2, &more), RR_EUPSTREAM);
  rr_ingest_get_status(ing2, &st);
  ck_assert(st.reconciling); /* still pending */
  ck_assert(strstr(st.last_error, "listing Orthanc's series") != NULL);
  fake.fail_prefix = NULL;
  set_series_list(one, 1);
  ck_assert_int_eq(rr_ingest_step(ing2, &more), 0);
  rr_ingest_get_status(ing2, &st);
  ck_assert(!st.reconciling);
  ck_assert_int_eq(st.reconciliations, 1);
  ck_assert_int_eq(instances_in_store(), 1);
  rr_ingest_free(ing2);
}
END_TEST

START_TEST(a_replaced_orthanc_database_is_detected)
{
  bool more;
  char cursor[32];
  ck_assert_int_eq(rr_store_kv_set(store, "ingest.cursor", "500", err, sizeof(err)), 0);
  set_changes(500, "{\"Changes\":[],\"Done\":true,\"Last\":500}");
  route("/changes?last", "{\"Changes\":[],\"Done\":true,\"Last\":3}");
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert(more);
  ck_assert_int_eq(rr_store_kv_get(store, cursor, sizeof(cursor), "ingest.cursor", err, sizeof(err)), 0);
  ck_assert_str_eq(cursor, "0");
}
END_TEST

/* The backup queue's hook: given each batch before it is stored; when it
 * fails, nothing is stored and the cursor stays (the batch comes again). */
static int hook_calls, hook_items, hook_fail;
static int64_t hook_stored_before;
static int before_store_hook(void *ctx, const rr_ingest_item *items, size_t count, char *e, size_t esize)
{
  (void)ctx;
  hook_calls++;
  hook_stored_before = instances_in_store();
  if (hook_fail)
    return rr_fail(e, esize, RR_ESTORE, "queue unavailable");
  hook_items += (int)count;
  ck_assert_str_eq(items[0].instance.sop_instance_uid, "1.2.1.1.1");
  return 0;
}

START_TEST(before_store_hook_sees_each_batch_first)
{
  rr_ingest_options o = {.batch_size = 100, .poll_interval_ms = 1000, .max_pending_deletions = 4,
                         .before_store = before_store_hook};
  char cursor[32];
  bool more;

  rr_ingest_free(ing);
  ck_assert_int_eq(rr_ingest_new(&ing, store, (rr_rest_source){NULL, fake_get, NULL}, &o), 0);
  hook_calls = hook_items = 0;
  hook_fail = 1;
  add_series(1, 1, 3);
  set_changes(0, THREE_CHANGES);
  set_changes(5, "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  route("/changes?last", "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  ck_assert_int_lt(rr_ingest_step(ing, &more), 0);
  ck_assert_int_eq(hook_calls, 1);
  ck_assert_int_eq(instances_in_store(), 0);
  ck_assert_int_eq(rr_store_kv_get(store, cursor, sizeof(cursor), "ingest.cursor", err, sizeof(err)), RR_ENOTFOUND);
  hook_fail = 0;
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert_int_eq(hook_calls, 2);
  ck_assert_int_eq(hook_items, 3);
  ck_assert_int_eq(hook_stored_before, 0); /* called before the batch was stored */
  ck_assert_int_eq(instances_in_store(), 3);
}
END_TEST

/* Another node holds the ingestion lease (a cluster table whose lease this
 * handle never gets): this node applies its own deletions but does not
 * follow the change log; once it takes the lease over it reconciles and
 * follows. */
static bool lease_free;
static int fake_lease_try(void *impl, bool *held, const char *name, char *e, size_t esize)
{
  (void)impl, (void)e, (void)esize;
  ck_assert_str_eq(name, RR_INGEST_LEASE);
  *held = lease_free;
  return 0;
}
static void fake_lease_release(void *impl, const char *name)
{
  (void)impl, (void)name;
}
static int fake_signal(void *impl, const char *channel, const char *payload, char *e, size_t esize)
{
  (void)impl, (void)channel, (void)payload, (void)e, (void)esize;
  return 0;
}
static int fake_listen(void *impl, rr_store *s, const char *channel, char *e, size_t esize)
{
  (void)impl, (void)s, (void)channel, (void)e, (void)esize;
  return 0;
}
static const rr_store_cluster_ops other_node_leads = {fake_lease_try, fake_lease_release, fake_signal, fake_listen};

START_TEST(only_the_lease_holder_follows_the_change_log)
{
  rr_ingest_status st;
  const int one[] = {1};
  bool more;

  add_series(1, 1, 3);
  set_changes(0, THREE_CHANGES);
  set_changes(5, "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  route("/changes?last", "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0); /* one node: the lease is always held */
  ck_assert_int_eq(instances_in_store(), 3);
  rr_ingest_get_status(ing, &st);
  ck_assert(st.leader);

  store->cluster = &other_node_leads;
  lease_free = false;
  add_instance(1, 1, 4);
  set_changes(5, "{\"Changes\":[{\"ChangeType\":\"NewInstance\",\"ResourceType\":\"Instance\",\"ID\":\"i1-4\",\"Seq\":6}],"
                 "\"Done\":true,\"Last\":6}");
  rr_ingest_deleted(ing, RR_LEVEL_INSTANCE, "i1-1");
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert_int_eq(instances_in_store(), 2); /* its own deletion applied, the new instance left to the leader */
  rr_ingest_get_status(ing, &st);
  ck_assert(!st.leader);

  lease_free = true; /* the leader died */
  set_series_list(one, 1);
  ck_assert_int_eq(rr_ingest_step(ing, &more), 0);
  ck_assert_int_eq(instances_in_store(), 3);
  rr_ingest_get_status(ing, &st);
  ck_assert(st.leader);
  ck_assert_int_ge(st.reconciliations, 1); /* a take-over reconciles */
  store->cluster = NULL;
}
END_TEST

START_TEST(worker_thread_starts_and_stops)
{
  rr_ingest_status st;
  int i;
  add_series(1, 1, 3);
  set_changes(0, THREE_CHANGES);
  set_changes(5, "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  route("/changes?last", "{\"Changes\":[],\"Done\":true,\"Last\":5}");
  ck_assert_int_eq(rr_ingest_start(ing), 0);
  rr_ingest_notify(ing);
  for (i = 0; i < 200 && instances_in_store() < 3; i++)
    nanosleep(&(struct timespec){0, 10000000L}, NULL);
  ck_assert_int_eq(instances_in_store(), 3);
  rr_ingest_get_status(ing, &st);
  ck_assert(st.running);
  rr_ingest_stop(ing);
  rr_ingest_get_status(ing, &st);
  ck_assert(!st.running);
  rr_ingest_stop(ing); /* twice is fine */
}
END_TEST

int main(void)
{
  Suite *s = suite_create("ingest");
  TCase *tc = tcase_create("change log");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, follows_the_change_log);
  tcase_add_test(tc, orthanc_failure_loses_nothing);
  tcase_add_test(tc, vanished_and_broken_instances_are_skipped);
  tcase_add_test(tc, paging_through_a_long_log);
  tcase_add_test(tc, deletions_are_applied_and_bounded);
  tcase_add_test(tc, overflowing_deletions_trigger_reconciliation);
  tcase_add_test(tc, reconciliation_repairs_the_store);
  tcase_add_test(tc, reconciliation_failure_is_reported_and_retried);
  tcase_add_test(tc, a_replaced_orthanc_database_is_detected);
  tcase_add_test(tc, before_store_hook_sees_each_batch_first);
  tcase_add_test(tc, only_the_lease_holder_follows_the_change_log);
  tcase_add_test(tc, worker_thread_starts_and_stops);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
