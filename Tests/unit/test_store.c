/*
 * Store conformance suite: written against store/store.h only, so every
 * backend must pass it. The backend is chosen by RR_TEST_STORE.
 */
#include <pthread.h>

#include "api/query.h"
#include "common.h"
#include "util/errors.h"
#include "util/str.h"

static char dir[4096];
static rr_store *store;
static char err[512];

static void setup(void)
{
  rr_test_tmpdir(dir, sizeof(dir));
  store = rr_test_store_open(dir);
}

static void teardown(void)
{
  rr_store_free(store);
  store = NULL;
  rr_test_rmdir(dir);
}

typedef struct spec {
  const char *study, *patient, *uid, *name, *pid, *date, *desc, *acc, *series, *modality;
  int series_number; /* -1: none */
  const char *instance;
  int number;
  const char *position;
} spec;

static rr_ingest_item make(const spec *s)
{
  rr_ingest_item it;
  char buf[RR_UID_SIZE];

  memset(&it, 0, sizeof(it));
  rr_str_copy(it.study.orthanc_id, RR_OID_SIZE, s->study);
  rr_str_copy(it.study.patient_orthanc_id, RR_OID_SIZE, s->patient ? s->patient : "p-1");
  rr_str_copy(it.study.study_uid, RR_UID_SIZE, s->uid);
  rr_str_copy(it.study.patient_name, RR_PN_SIZE, s->name ? s->name : "");
  rr_str_copy(it.study.patient_id, RR_LO_SIZE, s->pid ? s->pid : "");
  rr_str_copy(it.study.study_date, RR_DA_SIZE, s->date ? s->date : "");
  rr_str_copy(it.study.study_time, RR_TM_SIZE, "101010");
  rr_str_copy(it.study.study_description, RR_LO_SIZE, s->desc ? s->desc : "");
  rr_str_copy(it.study.accession_number, RR_LO_SIZE, s->acc ? s->acc : "");
  rr_str_copy(it.study.referring_physician, RR_PN_SIZE, "House^Gregory");
  rr_str_copy(it.study.institution_name, RR_LO_SIZE, "Princeton Plainsboro");
  rr_str_copy(it.series.orthanc_id, RR_OID_SIZE, s->series);
  rr_str_copy(it.series.study_orthanc_id, RR_OID_SIZE, s->study);
  snprintf(buf, sizeof(buf), "%s.1", s->uid);
  rr_str_copy(it.series.series_uid, RR_UID_SIZE, buf);
  rr_str_copy(it.series.modality, RR_CS_SIZE, s->modality ? s->modality : "CT");
  it.series.has_series_number = s->series_number >= 0;
  it.series.series_number = s->series_number;
  rr_str_copy(it.instance.orthanc_id, RR_OID_SIZE, s->instance);
  rr_str_copy(it.instance.series_orthanc_id, RR_OID_SIZE, s->series);
  snprintf(buf, sizeof(buf), "%s.%d", s->uid, s->number + 100);
  rr_str_copy(it.instance.sop_instance_uid, RR_UID_SIZE, buf);
  rr_str_copy(it.instance.sop_class_uid, RR_UID_SIZE, "1.2.840.10008.5.1.4.1.1.2");
  it.instance.has_instance_number = true;
  it.instance.instance_number = s->number;
  it.instance.number_of_frames = 1;
  rr_str_copy(it.instance.image_position, RR_DS3_SIZE, s->position ? s->position : "");
  return it;
}

static void apply(const rr_ingest_item *items, size_t n, int64_t now)
{
  rr_ingest_batch b = {items, n, NULL, NULL, now};
  ck_assert_msg(rr_store_apply_batch(store, &b, err, sizeof(err)) == 0, "apply: %s", err);
}

/* Five studies, seven instances. */
static void load_fixture(void)
{
  static const spec specs[] = {
    {"s-a", "p-a", "1.2.3.1", "Müller^Renée", "PID-1", "20230115", "CT Thorax Abdomen", "ACC1", "se-a1", "CT", 2, "i-a1", 1, "0\\0\\1"},
    {"s-a", "p-a", "1.2.3.1", "Müller^Renée", "PID-1", "20230115", "CT Thorax Abdomen", "ACC1", "se-a1", "CT", 2, "i-a2", 2, "0\\0\\2"},
    {"s-a", "p-a", "1.2.3.1", "Müller^Renée", "PID-1", "20230115", "CT Thorax Abdomen", "ACC1", "se-a0", "SR", -1, "i-a3", 1, NULL},
    {"s-b", "p-b", "1.2.3.2", "SMITH^JOHN", "PID-2", "20240301", "MR Brain", "ACC2", "se-b1", "MR", 1, "i-b1", 1, NULL},
    {"s-c", "p-c", "1.2.3.3", "Smithers^Waylon", "X'; DROP TABLE studies;--", "20221231", "Chest PA", "ACC3", "se-c1", "CR", 1, "i-c1", 1, NULL},
    {"s-d", "p-d", "1.2.3.4", "Yamada^Tarou=山田^太郎", "PID-4", "", "Knee", "", "se-d1", "MR", 3, "i-d1", 1, NULL},
    {"s-e", "p-e", "1.2.3.5", "Παπαδόπουλος^Γιώργος", "PID-5", "20240302", "PET CT", "A[5]", "se-e1", "PT", 1, "i-e1", 1, NULL},
  };
  rr_ingest_item items[7];
  size_t i;
  for (i = 0; i < 7; i++)
    items[i] = make(&specs[i]);
  apply(items, 5, 1000);
  apply(items + 5, 2, 2000);
}

static rr_study_list *query(const char *const *keys, const char *const *values, size_t n)
{
  rr_worklist_query q;
  rr_study_list *list = NULL;
  size_t i;
  ck_assert_msg(rr_query_parse(&q, keys, values, n, 50, 500, err, sizeof(err)) == 0, "parse: %s", err);
  ck_assert_msg(rr_store_query_worklist(store, &list, &q, err, sizeof(err)) == 0, "query: %s", err);
  for (i = 0; i < list->count; i++)
    ck_assert_str_ne(list->items[i].orthanc_id, "");
  return list;
}

/* Orthanc IDs of the rows, joined by ',' */
static const char *ids_of(const char *key, const char *value)
{
  static char out[512];
  const char *keys[1] = {key}, *values[1] = {value};
  rr_study_list *l = query(keys, values, key ? 1 : 0);
  size_t i;
  out[0] = '\0';
  for (i = 0; i < l->count; i++) {
    if (i)
      strncat(out, ",", sizeof(out) - strlen(out) - 1);
    strncat(out, l->items[i].orthanc_id, sizeof(out) - strlen(out) - 1);
  }
  ck_assert_int_eq(l->total, (int64_t)l->count);
  rr_study_list_free(l);
  return out;
}

START_TEST(empty_store)
{
  int version = 0;
  rr_study_detail *d = NULL;
  rr_store_stats st;
  char v[16];
  ck_assert_int_eq(rr_store_schema_version(store, &version, err, sizeof(err)), 0);
  ck_assert_int_ge(version, 1);
  ck_assert_str_eq(ids_of(NULL, NULL), "");
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.3", err, sizeof(err)), RR_ENOTFOUND);
  ck_assert_ptr_null(d);
  ck_assert_int_eq(rr_store_kv_get(store, v, sizeof(v), "nope", err, sizeof(err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_get_stats(store, &st, err, sizeof(err)), 0);
  ck_assert_int_eq(st.studies + st.series + st.instances, 0);
  ck_assert_int_eq(rr_store_delete(store, RR_LEVEL_STUDY, "nope", err, sizeof(err)), RR_ENOTFOUND);
}
END_TEST

START_TEST(batch_builds_counts_and_modalities)
{
  rr_study_detail *d = NULL;
  rr_store_stats st;
  load_fixture();
  ck_assert_int_eq(rr_store_get_stats(store, &st, err, sizeof(err)), 0);
  ck_assert_int_eq(st.studies, 5);
  ck_assert_int_eq(st.series, 6);
  ck_assert_int_eq(st.instances, 7);
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.3.1", err, sizeof(err)), 0);
  ck_assert_str_eq(d->study.orthanc_id, "s-a");
  ck_assert_str_eq(d->study.patient_name, "Müller^Renée");
  ck_assert_str_eq(d->study.modalities, "CT\\SR");
  ck_assert_int_eq(d->study.series_count, 2);
  ck_assert_int_eq(d->study.instance_count, 3);
  ck_assert_int_eq(d->study.received_at, 1000);
  /* series by number, unnumbered last */
  ck_assert_uint_eq(d->series_count, 2);
  ck_assert_str_eq(d->series[0].series.orthanc_id, "se-a1");
  ck_assert_int_eq(d->series[0].series.instance_count, 2);
  ck_assert_uint_eq(d->series[0].instance_count, 2);
  ck_assert_str_eq(d->series[1].series.orthanc_id, "se-a0");
  ck_assert(!d->series[1].series.has_series_number);
  ck_assert_str_eq(d->series[0].instances[1].image_position, "0\\0\\2");
  rr_study_detail_free(d);
}
END_TEST

START_TEST(reapplying_is_idempotent)
{
  rr_study_detail *d = NULL;
  rr_store_stats st;
  spec s = {"s-a", "p-a", "1.2.3.1", "Müller^Renée", "PID-1", "20230115", "Changed", "ACC1", "se-a1", "CT", 2, "i-a1", 1, NULL};
  rr_ingest_item it;
  load_fixture();
  it = make(&s);
  apply(&it, 1, 5000);
  apply(&it, 1, 6000);
  ck_assert_int_eq(rr_store_get_stats(store, &st, err, sizeof(err)), 0);
  ck_assert_int_eq(st.instances, 7);
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.3.1", err, sizeof(err)), 0);
  ck_assert_int_eq(d->study.instance_count, 3);
  ck_assert_int_eq(d->study.received_at, 1000); /* first arrival kept */
  ck_assert_int_eq(d->study.updated_at, 6000);
  ck_assert_str_eq(d->study.study_description, "Changed");
  rr_study_detail_free(d);
  /* the search terms follow the new description */
  ck_assert_str_eq(ids_of("description", "changed"), "s-a");
  ck_assert_str_eq(ids_of("description", "thorax"), "");
}
END_TEST

START_TEST(cursor_is_saved_with_the_batch)
{
  char v[32];
  spec s = {"s-x", NULL, "9.9", "A", "B", "20200101", "", "", "se-x", "CT", 1, "i-x", 1, NULL};
  rr_ingest_item it = make(&s);
  rr_ingest_batch b = {&it, 1, "ingest.cursor", "42", 10};
  ck_assert_int_eq(rr_store_apply_batch(store, &b, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_kv_get(store, v, sizeof(v), "ingest.cursor", err, sizeof(err)), 0);
  ck_assert_str_eq(v, "42");
  b.items = NULL;
  b.count = 0;
  b.cursor_value = "43";
  ck_assert_int_eq(rr_store_apply_batch(store, &b, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_kv_get(store, v, sizeof(v), "ingest.cursor", err, sizeof(err)), 0);
  ck_assert_str_eq(v, "43");
  ck_assert_int_eq(rr_store_kv_set(store, "k", "v'\"; --", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_kv_get(store, v, sizeof(v), "k", err, sizeof(err)), 0);
  ck_assert_str_eq(v, "v'\"; --");
}
END_TEST

START_TEST(filters)
{
  load_fixture();
  /* default order: study date, newest first; undated last */
  ck_assert_str_eq(ids_of(NULL, NULL), "s-e,s-b,s-a,s-c,s-d");
  ck_assert_str_eq(ids_of("patientName", "muller"), "s-a");
  ck_assert_str_eq(ids_of("patientName", "MÜLLER renee"), "s-a");
  ck_assert_str_eq(ids_of("patientName", "ren"), "s-a");
  ck_assert_str_eq(ids_of("patientName", "smith"), "s-b,s-c");
  ck_assert_str_eq(ids_of("patientName", "smith*"), "s-b,s-c");
  ck_assert_str_eq(ids_of("patientName", "smith j*"), "s-b");
  ck_assert_str_eq(ids_of("patientName", "sm?th"), "");
  ck_assert_str_eq(ids_of("patientName", "sm?th*"), "s-b,s-c");
  ck_assert_str_eq(ids_of("patientName", "sm?th j*"), "s-b");
  ck_assert_str_eq(ids_of("patientName", "*ERS*"), "s-c");
  ck_assert_str_eq(ids_of("patientName", "山田"), "s-d");
  ck_assert_str_eq(ids_of("patientName", "παπαδοπουλος"), "s-e");
  ck_assert_str_eq(ids_of("patientId", "PID-2"), "s-b");
  ck_assert_str_eq(ids_of("patientId", "pid-2"), ""); /* IDs are exact */
  ck_assert_str_eq(ids_of("patientId", "PID-*"), "s-e,s-b,s-a,s-d");
  ck_assert_str_eq(ids_of("patientId", "X'; DROP TABLE studies;--"), "s-c");
  ck_assert_str_eq(ids_of("accessionNumber", "A[5]"), "s-e");
  ck_assert_str_eq(ids_of("accessionNumber", "ACC?"), "s-b,s-a,s-c");
  ck_assert_str_eq(ids_of("modality", "MR"), "s-b,s-d");
  ck_assert_str_eq(ids_of("modality", "SR,CR"), "s-a,s-c");
  ck_assert_str_eq(ids_of("modality", "XA"), "");
  ck_assert_str_eq(ids_of("studyDateFrom", "20230101"), "s-e,s-b,s-a");
  ck_assert_str_eq(ids_of("studyDateTo", "20230115"), "s-a,s-c");
  ck_assert_str_eq(ids_of("studyDate", "20230101-20231231"), "s-a");
  ck_assert_str_eq(ids_of("description", "thor abd"), "s-a");
  ck_assert_str_eq(ids_of("description", "*brain"), "s-b");
  ck_assert_str_eq(ids_of("q", "acc1"), "s-a");
  ck_assert_str_eq(ids_of("q", "house"), "s-e,s-b,s-a,s-c,s-d");
  ck_assert_str_eq(ids_of("q", "princeton mull"), "s-a");
  ck_assert_str_eq(ids_of("q", "pid 5"), "s-e");
  ck_assert_str_eq(ids_of("q", "'"), "s-e,s-b,s-a,s-c,s-d"); /* punctuation only: no filter */
}
END_TEST

START_TEST(rare_modalities)
{
  spec sp = {"s-f", "p-f", "1.2.3.6", "Rare^Case", "PID-6", "20240303", "Lensometry", "", "se-f1", "LEN", 1, "i-f1", 1, NULL};
  rr_ingest_item it;
  load_fixture();
  it = make(&sp);
  apply(&it, 1, 3000);
  ck_assert_str_eq(ids_of("modality", "LEN"), "s-f");
  ck_assert_str_eq(ids_of("modality", "LEN,CR"), "s-f,s-c");
  ck_assert_str_eq(ids_of("modality", "CT,SR"), "s-a");
  ck_assert_str_eq(ids_of("modality", "ZZZ"), "");
}
END_TEST

START_TEST(sorting_and_paging)
{
  const char *k[3], *v[3];
  rr_study_list *l;
  load_fixture();
  ck_assert_str_eq(ids_of("sort", "patientName"), "s-a,s-b,s-c,s-d,s-e");
  k[0] = "sort"; v[0] = "studyDate";
  k[1] = "order"; v[1] = "asc";
  l = query(k, v, 2);
  ck_assert_str_eq(l->items[0].orthanc_id, "s-d"); /* undated first ascending */
  rr_study_list_free(l);
  k[0] = "sort"; v[0] = "receivedAt";
  k[1] = "limit"; v[1] = "2";
  k[2] = "offset"; v[2] = "1";
  l = query(k, v, 3);
  ck_assert_int_eq(l->total, 5);
  ck_assert_uint_eq(l->count, 2);
  /* received desc: s-e, s-d (2000), then the 1000s */
  ck_assert_str_eq(l->items[0].orthanc_id, "s-d");
  ck_assert_int_eq(l->items[1].received_at, 1000);
  rr_study_list_free(l);
  k[0] = "offset"; v[0] = "100";
  l = query(k, v, 1);
  ck_assert_int_eq(l->total, 5);
  ck_assert_uint_eq(l->count, 0);
  rr_study_list_free(l);
  /* filtered: the total comes with the page, or from a count past the end */
  k[0] = "modality"; v[0] = "MR";
  k[1] = "limit"; v[1] = "1";
  k[2] = "offset"; v[2] = "1";
  l = query(k, v, 3);
  ck_assert_int_eq(l->total, 2);
  ck_assert_uint_eq(l->count, 1);
  ck_assert_str_eq(l->items[0].orthanc_id, "s-d");
  rr_study_list_free(l);
  v[2] = "7";
  l = query(k, v, 3);
  ck_assert_int_eq(l->total, 2);
  ck_assert_uint_eq(l->count, 0);
  rr_study_list_free(l);
  k[0] = "patientName"; v[0] = "nobody";
  l = query(k, v, 1);
  ck_assert_int_eq(l->total, 0);
  rr_study_list_free(l);
}
END_TEST

START_TEST(deletions_settle_parents)
{
  rr_study_detail *d = NULL;
  rr_store_stats st;
  load_fixture();
  ck_assert_int_eq(rr_store_delete(store, RR_LEVEL_INSTANCE, "i-a1", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.3.1", err, sizeof(err)), 0);
  ck_assert_int_eq(d->study.instance_count, 2);
  rr_study_detail_free(d);
  /* the SR series' only instance: the series goes, modalities follow */
  ck_assert_int_eq(rr_store_delete(store, RR_LEVEL_INSTANCE, "i-a3", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.3.1", err, sizeof(err)), 0);
  ck_assert_int_eq(d->study.series_count, 1);
  ck_assert_str_eq(d->study.modalities, "CT");
  rr_study_detail_free(d);
  ck_assert_str_eq(ids_of("modality", "SR"), "");
  /* the last series: the study goes */
  ck_assert_int_eq(rr_store_delete(store, RR_LEVEL_SERIES, "se-a1", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.3.1", err, sizeof(err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_delete(store, RR_LEVEL_STUDY, "s-b", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_delete(store, RR_LEVEL_PATIENT, "p-c", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_delete(store, RR_LEVEL_PATIENT, "p-c", err, sizeof(err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_delete(store, RR_LEVEL_INSTANCE, "i-zz", err, sizeof(err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_get_stats(store, &st, err, sizeof(err)), 0);
  ck_assert_int_eq(st.studies, 2);
  ck_assert_int_eq(st.series, 2);
  ck_assert_int_eq(st.instances, 2);
  ck_assert_str_eq(ids_of("q", "smith"), "");
}
END_TEST

START_TEST(listing_for_reconciliation)
{
  rr_series_count_list *page = NULL;
  rr_id_list *ids = NULL;
  load_fixture();
  ck_assert_int_eq(rr_store_list_series(store, &page, "", 4, err, sizeof(err)), 0);
  ck_assert_uint_eq(page->count, 4);
  ck_assert_str_eq(page->items[0].orthanc_id, "se-a0");
  ck_assert_str_eq(page->items[1].orthanc_id, "se-a1");
  ck_assert_int_eq(page->items[1].instance_count, 2);
  rr_series_count_list_free(page);
  ck_assert_int_eq(rr_store_list_series(store, &page, "se-c1", 10, err, sizeof(err)), 0);
  ck_assert_uint_eq(page->count, 2);
  ck_assert_str_eq(page->items[0].orthanc_id, "se-d1");
  rr_series_count_list_free(page);
  ck_assert_int_eq(rr_store_list_instances(store, &ids, "se-a1", err, sizeof(err)), 0);
  ck_assert_uint_eq(ids->count, 2);
  ck_assert_str_eq(ids->ids[0], "i-a1");
  rr_id_list_free(ids);
  ck_assert_int_eq(rr_store_list_instances(store, &ids, "unknown", err, sizeof(err)), 0);
  ck_assert_uint_eq(ids->count, 0);
  rr_id_list_free(ids);
}
END_TEST

START_TEST(survives_reopening)
{
  rr_study_detail *d = NULL;
  load_fixture();
  rr_store_free(store);
  store = rr_test_store_open(dir);
  ck_assert_int_eq(rr_store_get_study(store, &d, "1.2.3.4", err, sizeof(err)), 0);
  ck_assert_str_eq(d->study.patient_name, "Yamada^Tarou=山田^太郎");
  rr_study_detail_free(d);
}
END_TEST

static rr_user_rec user(const char *name, const char *role)
{
  rr_user_rec u;
  memset(&u, 0, sizeof(u));
  rr_str_copy(u.username, sizeof(u.username), name);
  rr_str_copy(u.role, sizeof(u.role), role);
  rr_str_copy(u.password_hash, sizeof(u.password_hash), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
  u.enabled = true;
  u.created_at = u.updated_at = u.password_changed_at = 1000;
  return u;
}

START_TEST(users)
{
  rr_user_rec u = user("Alice", "radiologist"), got;
  rr_user_list *list = NULL;
  int64_t n = -1;
  ck_assert_int_eq(rr_store_user_count(store, &n, err, sizeof(err)), 0);
  ck_assert_int_eq(n, 0);
  ck_assert_int_eq(rr_store_user_create(store, &u, err, sizeof(err)), 0);
  u = user("alice", "admin");
  ck_assert_int_eq(rr_store_user_create(store, &u, err, sizeof(err)), RR_EEXISTS); /* names ignore case */
  u = user("bob'; DROP TABLE users; --", "technician");
  ck_assert_int_eq(rr_store_user_create(store, &u, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_user_get(store, &got, "ALICE", err, sizeof(err)), 0);
  ck_assert_str_eq(got.username, "Alice");
  ck_assert_str_eq(got.role, "radiologist");
  ck_assert(got.enabled);
  got.enabled = false;
  rr_str_copy(got.role, sizeof(got.role), "physician");
  got.failed_logins = 3;
  got.locked_until = 5000;
  got.token_generation = 7;
  got.updated_at = 2000;
  ck_assert_int_eq(rr_store_user_update(store, &got, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_user_get(store, &got, "alice", err, sizeof(err)), 0);
  ck_assert(!got.enabled);
  ck_assert_str_eq(got.role, "physician");
  ck_assert_int_eq(got.failed_logins, 3);
  ck_assert_int_eq(got.locked_until, 5000);
  ck_assert_int_eq(got.token_generation, 7);
  ck_assert_int_eq(got.created_at, 1000);
  ck_assert_int_eq(rr_store_user_get(store, &got, "carol", err, sizeof(err)), RR_ENOTFOUND);
  u = user("carol", "admin");
  ck_assert_int_eq(rr_store_user_update(store, &u, err, sizeof(err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_user_list(store, &list, err, sizeof(err)), 0);
  ck_assert_uint_eq(list->count, 2);
  ck_assert_str_eq(list->items[0].username, "Alice");
  rr_user_list_free(list);
  ck_assert_int_eq(rr_store_user_count(store, &n, err, sizeof(err)), 0);
  ck_assert_int_eq(n, 2);
  u = user("", "admin");
  ck_assert_int_eq(rr_store_user_create(store, &u, err, sizeof(err)), RR_EINVAL);
}
END_TEST

START_TEST(revoked_tokens)
{
  bool revoked = true;
  ck_assert_int_eq(rr_store_token_is_revoked(store, &revoked, "aa", err, sizeof(err)), 0);
  ck_assert(!revoked);
  ck_assert_int_eq(rr_store_token_revoke(store, "aa", 100, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_token_revoke(store, "aa", 100, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_token_revoke(store, "bb", 300, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_token_is_revoked(store, &revoked, "aa", err, sizeof(err)), 0);
  ck_assert(revoked);
  ck_assert_int_eq(rr_store_token_purge(store, 200, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_token_is_revoked(store, &revoked, "aa", err, sizeof(err)), 0);
  ck_assert(!revoked); /* expired anyway: no longer kept */
  ck_assert_int_eq(rr_store_token_is_revoked(store, &revoked, "bb", err, sizeof(err)), 0);
  ck_assert(revoked);
}
END_TEST

static int test_hash(char out[RR_HASH_HEX_SIZE], const char *prev, const rr_audit_rec *rec)
{
  snprintf(out, RR_HASH_HEX_SIZE, "%.8s-%lld-%s", prev, (long long)rec->seq, rec->action);
  return 0;
}

START_TEST(audit_append_and_query)
{
  rr_audit_rec r;
  rr_audit_filter f;
  rr_audit_list *l = NULL;
  int i;
  for (i = 0; i < 30; i++) {
    memset(&r, 0, sizeof(r));
    r.at_ms = 1000 + i;
    snprintf(r.username, sizeof(r.username), "%s", i % 3 == 0 ? "alice" : "bob");
    snprintf(r.action, sizeof(r.action), "%s", i % 2 ? "study.view" : "login");
    snprintf(r.resource, sizeof(r.resource), "1.2.%d", i % 5);
    snprintf(r.outcome, sizeof(r.outcome), "success");
    ck_assert_int_eq(rr_store_audit_append(store, &r, test_hash, err, sizeof(err)), 0);
    ck_assert_int_eq(r.seq, i + 1);
  }

  ck_assert(strncmp(r.hash, r.prev_hash, 8) == 0 && strstr(r.hash, "-30-study.view") != NULL);
  memset(&f, 0, sizeof(f));
  f.limit = 1000;
  ck_assert_int_eq(rr_store_audit_query(store, &l, &f, err, sizeof(err)), 0);
  ck_assert_uint_eq(l->count, 30);
  ck_assert_str_eq(l->items[0].prev_hash, "0000000000000000000000000000000000000000000000000000000000000000");
  ck_assert_str_eq(l->items[1].prev_hash, l->items[0].hash);
  rr_audit_list_free(l);
  snprintf(f.username, sizeof(f.username), "alice");
  snprintf(f.action, sizeof(f.action), "login");
  ck_assert_int_eq(rr_store_audit_query(store, &l, &f, err, sizeof(err)), 0);
  ck_assert_uint_eq(l->count, 5); /* i = 0, 6, 12, 18, 24 */
  rr_audit_list_free(l);
  memset(&f, 0, sizeof(f));
  f.descending = true;
  f.limit = 4;
  f.before_seq = 10;
  snprintf(f.resource, sizeof(f.resource), "1.2.3");
  ck_assert_int_eq(rr_store_audit_query(store, &l, &f, err, sizeof(err)), 0);
  ck_assert_uint_eq(l->count, 2); /* seq 9 (i=8), seq 4 (i=3) */
  ck_assert_int_eq(l->items[0].seq, 9);
  ck_assert_int_eq(l->items[1].seq, 4);
  rr_audit_list_free(l);
  memset(&f, 0, sizeof(f));
  f.from_ms = 1010;
  f.to_ms = 1012;
  f.limit = 100;
  ck_assert_int_eq(rr_store_audit_query(store, &l, &f, err, sizeof(err)), 0);
  ck_assert_uint_eq(l->count, 3);
  rr_audit_list_free(l);
}
END_TEST

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
  ck_assert_int_eq(rr_store_ai_create(store, &a, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_ai_create(store, &a, err, sizeof(err)), RR_EEXISTS);
  ck_assert_int_eq(rr_store_ai_create(store, &b, err, sizeof(err)), 0);
  /* the oldest queued first, each only once */
  ck_assert_int_eq(rr_store_ai_claim_next(store, &got, 1000, err, sizeof(err)), 0);
  ck_assert_str_eq(got.id, "a1");
  ck_assert_str_eq(got.status, "running");
  ck_assert_int_eq(got.attempts, 1);
  ck_assert_int_eq(got.started_at, 1000);
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_claim_next(store, &got, 1001, err, sizeof(err)), 0);
  ck_assert_str_eq(got.id, "a2");
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_claim_next(store, &got, 1002, err, sizeof(err)), RR_ENOTFOUND);
  /* results */
  ck_assert_int_eq(rr_store_ai_get(store, &got, "a1", err, sizeof(err)), 0);
  rr_str_copy(got.status, sizeof(got.status), "completed");
  free(got.summary);
  free(got.findings_json);
  got.summary = strdup("No acute findings; 'quoted' \"text\".");
  got.findings_json = strdup("[{\"category\":\"normal_variant\"}]");
  got.has_ai_confidence = true;
  got.ai_confidence = 0.75;
  got.prompt_tokens = 2000;
  got.completion_tokens = 300;
  free(got.images_json);
  got.images_json = strdup("[{\"sopInstanceUid\":\"1.2\",\"frame\":0},{\"sopInstanceUid\":\"1.3\",\"frame\":0}]");
  got.cost = 0.01;
  got.finished_at = 1100;
  ck_assert_int_eq(rr_store_ai_update(store, &got, err, sizeof(err)), 0);
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_get(store, &got, "a1", err, sizeof(err)), 0);
  ck_assert_str_eq(got.status, "completed");
  ck_assert_str_eq(got.summary, "No acute findings; 'quoted' \"text\".");
  ck_assert(got.has_ai_confidence && got.ai_confidence == 0.75);
  ck_assert_str_eq(got.review_status, "pending");
  ck_assert_str_eq(got.raw_text, "");
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_get(store, &got, "nope", err, sizeof(err)), RR_ENOTFOUND);
  /* a stopped process leaves a2 running: recovered to queued */
  ck_assert_int_eq(rr_store_ai_recover(store, &requeued, 2000, err, sizeof(err)), 0);
  ck_assert_int_eq(requeued, 1);
  ck_assert_int_eq(rr_store_ai_get(store, &got, "a2", err, sizeof(err)), 0);
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
  ck_assert_int_eq(rr_store_ai_review_add(store, &r, "final notes", err, sizeof(err)), 0);
  rr_str_copy(r.review_status, sizeof(r.review_status), "confirmed");
  r.at = 3100;
  ck_assert_int_eq(rr_store_ai_review_add(store, &r, "confirmed after all", err, sizeof(err)), 0);
  rr_str_copy(r.analysis_id, sizeof(r.analysis_id), "nope");
  ck_assert_int_eq(rr_store_ai_review_add(store, &r, "", err, sizeof(err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_ai_review_history(store, &hist, "a1", err, sizeof(err)), 0);
  ck_assert_uint_eq(hist->count, 2);
  ck_assert_str_eq(hist->items[0].review_status, "modified");
  ck_assert_str_eq(hist->items[1].review_status, "confirmed");
  ck_assert_str_eq(hist->items[0].feedback_json, "[{\"index\":0,\"decision\":\"edited\"}]");
  rr_ai_review_list_free(hist);
  ck_assert_int_eq(rr_store_ai_get(store, &got, "a1", err, sizeof(err)), 0);
  ck_assert_str_eq(got.review_status, "confirmed");
  ck_assert_str_eq(got.radiologist_notes, "confirmed after all");
  ck_assert_int_eq(got.reviewed_at, 3100);
  rr_ai_analysis_dispose(&got);
  /* listing and counts */
  ck_assert_int_eq(rr_store_ai_list_study(store, &list, "1.2.3", err, sizeof(err)), 0);
  ck_assert_uint_eq(list->count, 2);
  ck_assert_str_eq(list->items[0].id, "a2"); /* newest first */
  rr_ai_list_free(list);
  ck_assert_int_eq(rr_store_ai_counts(store, &counts, 0, err, sizeof(err)), 0);
  ck_assert_int_eq(counts.queued, 1);
  ck_assert_int_eq(counts.completed, 1);
  ck_assert_int_eq(counts.prompt_tokens, 2000);
  ck_assert_int_eq(counts.analyses, 2);
  ck_assert_int_eq(counts.images_sent, 2);
  ck_assert_int_eq(rr_store_ai_counts(store, &counts, 150, err, sizeof(err)), 0);
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

  ck_assert_int_eq(rr_store_ai_create(store, &a, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_ai_create(store, &b, err, sizeof(err)), 0);
  rr_str_copy(c.status, sizeof(c.status), "completed");
  ck_assert_int_eq(rr_store_ai_create(store, &c, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_ai_claim_next(store, &got, 200, err, sizeof(err)), 0); /* x1 running */
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_abandon(store, &count, 300, "no provider 'any more'", err, sizeof(err)), 0);
  ck_assert_int_eq(count, 2);
  ck_assert_int_eq(rr_store_ai_get(store, &got, "x1", err, sizeof(err)), 0);
  ck_assert_str_eq(got.status, "failed");
  ck_assert_str_eq(got.error, "no provider 'any more'");
  ck_assert_int_eq(got.finished_at, 300);
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_get(store, &got, "x3", err, sizeof(err)), 0);
  ck_assert_str_eq(got.status, "completed");
  rr_ai_analysis_dispose(&got);
  ck_assert_int_eq(rr_store_ai_abandon(store, &count, 301, "again", err, sizeof(err)), 0);
  ck_assert_int_eq(count, 0);
}
END_TEST

START_TEST(ai_state_in_the_worklist)
{
  rr_ai_analysis a = analysis("w1", "1.2.3.1", 100), b = analysis("w2", "1.2.3.2", 100), c = analysis("w3", "1.2.3.2", 200);
  rr_ai_review r;
  rr_study_list *l;
  const char *keys[1] = {NULL}, *values[1] = {NULL};

  load_fixture();
  ck_assert_str_eq(ids_of("aiStatus", "none"), "s-e,s-b,s-a,s-c,s-d");
  ck_assert_int_eq(rr_store_ai_create(store, &a, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_ai_create(store, &b, err, sizeof(err)), 0);
  ck_assert_str_eq(ids_of("aiStatus", "queued"), "s-b,s-a");
  ck_assert_str_eq(ids_of("aiStatus", "none"), "s-e,s-c,s-d");
  ck_assert_str_eq(ids_of("aiStatus", "none,queued"), "s-e,s-b,s-a,s-c,s-d");
  /* completed, then reviewed */
  rr_str_copy(b.status, sizeof(b.status), "completed");
  ck_assert_int_eq(rr_store_ai_update(store, &b, err, sizeof(err)), 0);
  ck_assert_str_eq(ids_of("aiStatus", "completed"), "s-b");
  ck_assert_str_eq(ids_of("reviewStatus", "pending"), "s-b");
  ck_assert_str_eq(ids_of("reviewStatus", "none"), "s-e,s-a,s-c,s-d");
  memset(&r, 0, sizeof(r));
  rr_str_copy(r.analysis_id, sizeof(r.analysis_id), "w2");
  r.at = 300;
  rr_str_copy(r.reviewer, sizeof(r.reviewer), "rad");
  rr_str_copy(r.review_status, sizeof(r.review_status), "confirmed");
  r.notes = "";
  ck_assert_int_eq(rr_store_ai_review_add(store, &r, "", err, sizeof(err)), 0);
  ck_assert_str_eq(ids_of("reviewStatus", "confirmed"), "s-b");
  /* a newer analysis of s-b: its state shows, the review of the last completed one stays */
  ck_assert_int_eq(rr_store_ai_create(store, &c, err, sizeof(err)), 0);
  ck_assert_str_eq(ids_of("aiStatus", "queued"), "s-b,s-a");
  ck_assert_str_eq(ids_of("reviewStatus", "confirmed"), "s-b");
  keys[0] = "patientId";
  values[0] = "PID-2";
  l = query(keys, values, 1);
  ck_assert_uint_eq(l->count, 1);
  ck_assert_str_eq(l->items[0].ai_status, "queued");
  ck_assert_str_eq(l->items[0].review_status, "confirmed");
  rr_study_list_free(l);
}
END_TEST

START_TEST(ai_interrupted_three_times_fails)
{
  rr_ai_analysis a = analysis("a3", "1.2.9", 100), got;
  int64_t requeued;
  int i;
  ck_assert_int_eq(rr_store_ai_create(store, &a, err, sizeof(err)), 0);
  for (i = 0; i < 3; i++) {
    ck_assert_int_eq(rr_store_ai_claim_next(store, &got, 1000 + i, err, sizeof(err)), 0);
    rr_ai_analysis_dispose(&got);
    ck_assert_int_eq(rr_store_ai_recover(store, &requeued, 2000 + i, err, sizeof(err)), 0);
  }
  ck_assert_int_eq(rr_store_ai_get(store, &got, "a3", err, sizeof(err)), 0);
  ck_assert_str_eq(got.status, "failed");
  ck_assert(strstr(got.error, "interrupted") != NULL);
  rr_ai_analysis_dispose(&got);
}
END_TEST

/* Readers and one writer at once: no errors, readers see whole batches. */
static void *reader(void *arg)
{
  int i, *failures = arg;
  char e[256];
  for (i = 0; i < 200; i++) {
    rr_worklist_query q;
    rr_study_list *l = NULL;
    memset(&q, 0, sizeof(q));
    q.limit = 20;
    q.descending = true;
    if (rr_store_query_worklist(store, &l, &q, e, sizeof(e)) != 0) {
      (*failures)++;
      continue;
    }
    if (l->count > 0 && l->items[0].instance_count % 10 != 0)
      (*failures)++; /* saw half a batch */
    rr_study_list_free(l);
  }
  return NULL;
}

START_TEST(concurrent_readers_and_writer)
{
  pthread_t t[4];
  int failures[4] = {0}, i, j;
  char inst[32];
  for (i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, reader, &failures[i]);
  for (i = 0; i < 50; i++) {
    rr_ingest_item items[10];
    for (j = 0; j < 10; j++) {
      spec s = {"s-load", NULL, "5.5", "LOAD^TEST", "L", "20200101", "", "", "se-load", "CT", 1, inst, i * 10 + j, NULL};
      snprintf(inst, sizeof(inst), "i-%d", i * 10 + j);
      items[j] = make(&s);
    }
    apply(items, 10, 100 + i);
  }
  for (i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    ck_assert_int_eq(failures[i], 0);
  }
}
END_TEST

/* A backend without a concern: every function of it fails with a sentence. */
START_TEST(missing_concerns_fail_with_a_sentence)
{
  rr_store *stub = calloc(1, sizeof(*stub));
  rr_study_list *l = NULL;
  rr_user_rec u;
  rr_audit_list *al = NULL;
  rr_audit_filter f;
  int64_t n = 0;

  ck_assert_ptr_nonnull(stub);
  stub->name = "stub";
  memset(&f, 0, sizeof(f));
  ck_assert_int_eq(rr_store_query_worklist(stub, &l, NULL, err, sizeof(err)), RR_ESTORE);
  ck_assert_str_eq(err, "the stub store does not implement the worklist index");
  ck_assert_ptr_null(l);
  ck_assert_int_eq(rr_store_user_get(stub, &u, "alice", err, sizeof(err)), RR_ESTORE);
  ck_assert_str_eq(err, "the stub store does not implement users and tokens");
  ck_assert_int_eq(rr_store_audit_query(stub, &al, &f, err, sizeof(err)), RR_ESTORE);
  ck_assert_str_eq(err, "the stub store does not implement the audit trail");
  ck_assert_int_eq(rr_store_ai_recover(stub, &n, 0, NULL, 0), RR_ESTORE);
  ck_assert_int_eq(rr_store_ai_counts(stub, NULL, 0, err, sizeof(err)), RR_ESTORE);
  ck_assert_str_eq(err, "the stub store does not implement AI analyses");
  /* a store with the index concern only answers for it */
  stub->index = store->index;
  stub->impl = store->impl;
  ck_assert_int_eq(rr_store_get_stats(stub, &(rr_store_stats){0}, err, sizeof(err)), 0);
  rr_store_free(stub); /* no close: the handle stays the fixture's */
}
END_TEST

int main(void)
{
  Suite *s = suite_create("store conformance");
  TCase *tc = tcase_create("contract");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, empty_store);
  tcase_add_test(tc, batch_builds_counts_and_modalities);
  tcase_add_test(tc, reapplying_is_idempotent);
  tcase_add_test(tc, cursor_is_saved_with_the_batch);
  tcase_add_test(tc, filters);
  tcase_add_test(tc, rare_modalities);
  tcase_add_test(tc, sorting_and_paging);
  tcase_add_test(tc, deletions_settle_parents);
  tcase_add_test(tc, listing_for_reconciliation);
  tcase_add_test(tc, survives_reopening);
  tcase_add_test(tc, concurrent_readers_and_writer);
  tcase_add_test(tc, users);
  tcase_add_test(tc, revoked_tokens);
  tcase_add_test(tc, audit_append_and_query);
  tcase_add_test(tc, ai_analyses_lifecycle);
  tcase_add_test(tc, ai_interrupted_three_times_fails);
  tcase_add_test(tc, ai_state_in_the_worklist);
  tcase_add_test(tc, ai_abandon_ends_waiting_analyses);
  tcase_add_test(tc, missing_concerns_fail_with_a_sentence);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
