/*
 * Store conformance, index concern (store/store_index.h): ingestion batches,
 * deletions, the worklist, studies, key-value pairs, reconciliation. Run
 * against every backend in store_fixture.c; queries are built here already
 * normalised (the parsing of the API's arguments is test_query.c's).
 */
#include <pthread.h>

#include "common.h"
#include "store_fixture.h"
#include "util/errors.h"
#include "util/str.h"

START_TEST(empty_store)
{
  int version = 0;
  rr_study_detail *d = NULL;
  rr_store_stats st;
  char v[16];
  ck_assert_int_eq(rr_store_schema_version(fx.store, &version, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_ge(version, 1);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY()), "");
  ck_assert_int_eq(rr_store_get_study(fx.store, &d, "1.2.3", fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_ptr_null(d);
  ck_assert_int_eq(rr_store_kv_get(fx.store, v, sizeof(v), "nope", fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_get_stats(fx.store, &st, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(st.studies + st.series + st.instances, 0);
  ck_assert_str_eq(st.write_fault_kind, ""); /* a writable store on a disk with room */
  ck_assert_str_eq(st.write_fault, "");
  ck_assert_int_eq(rr_store_delete(fx.store, RR_LEVEL_STUDY, "nope", fx.err, sizeof(fx.err)), RR_ENOTFOUND);
}
END_TEST

START_TEST(batch_builds_counts_and_modalities)
{
  rr_study_detail *d = NULL;
  rr_store_stats st;
  rr_fx_load_worklist();
  ck_assert_int_eq(rr_store_get_stats(fx.store, &st, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(st.studies, 5);
  ck_assert_int_eq(st.series, 6);
  ck_assert_int_eq(st.instances, 7);
  ck_assert_int_eq(rr_store_get_study(fx.store, &d, "1.2.3.1", fx.err, sizeof(fx.err)), 0);
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
  rr_fx_spec s = {"s-a", "p-a", "1.2.3.1", "Müller^Renée", "PID-1", "20230115", "Changed", "ACC1", "se-a1", "CT", 2, "i-a1", 1, NULL};
  rr_ingest_item it;
  rr_fx_load_worklist();
  it = rr_fx_item(&s);
  rr_fx_apply(&it, 1, 5000);
  rr_fx_apply(&it, 1, 6000);
  ck_assert_int_eq(rr_store_get_stats(fx.store, &st, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(st.instances, 7);
  ck_assert_int_eq(rr_store_get_study(fx.store, &d, "1.2.3.1", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(d->study.instance_count, 3);
  ck_assert_int_eq(d->study.received_at, 1000); /* first arrival kept */
  ck_assert_int_eq(d->study.updated_at, 6000);
  ck_assert_str_eq(d->study.study_description, "Changed");
  rr_study_detail_free(d);
  /* the search terms follow the new description */
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.description = {RR_MATCH_WORDS, "CHANGED"})), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.description = {RR_MATCH_WORDS, "THORAX"})), "");
}
END_TEST

START_TEST(cursor_is_saved_with_the_batch)
{
  char v[32];
  rr_fx_spec s = {"s-x", NULL, "9.9", "A", "B", "20200101", "", "", "se-x", "CT", 1, "i-x", 1, NULL};
  rr_ingest_item it = rr_fx_item(&s);
  rr_ingest_batch b = {&it, 1, "ingest.cursor", "42", 10};
  ck_assert_int_eq(rr_store_apply_batch(fx.store, &b, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_kv_get(fx.store, v, sizeof(v), "ingest.cursor", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(v, "42");
  b.items = NULL;
  b.count = 0;
  b.cursor_value = "43";
  ck_assert_int_eq(rr_store_apply_batch(fx.store, &b, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_kv_get(fx.store, v, sizeof(v), "ingest.cursor", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(v, "43");
  ck_assert_int_eq(rr_store_kv_set(fx.store, "k", "v'\"; --", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_kv_get(fx.store, v, sizeof(v), "k", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(v, "v'\"; --");
}
END_TEST

START_TEST(filters)
{
  rr_fx_load_worklist();
  /* default order: study date, newest first; undated last */
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY()), "s-e,s-b,s-a,s-c,s-d");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MULLER"})), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MULLER RENEE"})), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "REN"})), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "SMITH"})), "s-b,s-c");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_GLOB, "SMITH*"})), "s-b,s-c");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_GLOB, "SMITH J*"})), "s-b");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_GLOB, "SM?TH"})), "");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_GLOB, "SM?TH*"})), "s-b,s-c");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_GLOB, "SM?TH J*"})), "s-b");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_GLOB, "*ERS*"})), "s-c");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "山田"})), "s-d");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "ΠΑΠΑΔΟΠΟΥΛΟΣ"})), "s-e");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_id = {RR_MATCH_EXACT, "PID-2"})), "s-b");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_id = {RR_MATCH_EXACT, "pid-2"})), ""); /* IDs are exact */
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_id = {RR_MATCH_GLOB, "PID-*"})), "s-e,s-b,s-a,s-d");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_id = {RR_MATCH_EXACT, "X'; DROP TABLE studies;--"})), "s-c");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.accession = {RR_MATCH_EXACT, "A[5]"})), "s-e");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.accession = {RR_MATCH_GLOB, "ACC?"})), "s-b,s-a,s-c");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.modalities = {"MR"}, .modality_count = 1)), "s-b,s-d");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.modalities = {"SR", "CR"}, .modality_count = 2)), "s-a,s-c");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.modalities = {"XA"}, .modality_count = 1)), "");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.date_from = "20230101")), "s-e,s-b,s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.date_to = "20230115")), "s-a,s-c");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.date_from = "20230101", .date_to = "20231231")), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.description = {RR_MATCH_WORDS, "THOR ABD"})), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.description = {RR_MATCH_GLOB, "*BRAIN"})), "s-b");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.text = {RR_MATCH_WORDS, "ACC1"})), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.text = {RR_MATCH_WORDS, "HOUSE"})), "s-e,s-b,s-a,s-c,s-d");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.text = {RR_MATCH_WORDS, "PRINCETON MULL"})), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.text = {RR_MATCH_WORDS, "PID 5"})), "s-e");
}
END_TEST

START_TEST(rare_modalities)
{
  rr_fx_spec sp = {"s-f", "p-f", "1.2.3.6", "Rare^Case", "PID-6", "20240303", "Lensometry", "", "se-f1", "LEN", 1, "i-f1", 1, NULL};
  rr_ingest_item it;
  rr_fx_load_worklist();
  it = rr_fx_item(&sp);
  rr_fx_apply(&it, 1, 3000);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.modalities = {"LEN"}, .modality_count = 1)), "s-f");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.modalities = {"LEN", "CR"}, .modality_count = 2)), "s-f,s-c");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.modalities = {"CT", "SR"}, .modality_count = 2)), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.modalities = {"ZZZ"}, .modality_count = 1)), "");
}
END_TEST

/* A word that prefixes several words of one study (and of several fields
 * for free text) lists the study once, and counts it once. */
START_TEST(a_word_matching_twice_lists_once)
{
  rr_fx_spec sp = {"s-g", "p-g", "1.2.3.7", "Mulligan^Mullins", "MUL-7", "20240304", "Mullerian duct MR", "MUL8",
                   "se-g1", "MR", 1, "i-g1", 1, NULL};
  rr_ingest_item it;
  rr_study_list *l;
  rr_worklist_query q;

  rr_fx_load_worklist();
  it = rr_fx_item(&sp);
  rr_fx_apply(&it, 1, 3000);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MULL"})), "s-g,s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.text = {RR_MATCH_WORDS, "MUL"})), "s-g,s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.text = {RR_MATCH_WORDS, "MUL MULLI"})), "s-g");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MULL"}, .description = {RR_MATCH_WORDS, "MR"})),
                   "s-g");
  q = RR_FX_QUERY(.text = {RR_MATCH_WORDS, "MUL"});
  q.limit = 1;
  l = rr_fx_page(&q);
  ck_assert_int_eq(l->total, 2);
  ck_assert_uint_eq(l->count, 1);
  rr_study_list_free(l);
}
END_TEST

/* Word searches combined with the filters and sort keys a backend may
 * answer from its search terms alone (the PostgreSQL backend's term rows
 * carry each study's sort keys and modality mask, 009_worklist.sql): the
 * results follow a study whose date, name and modalities change when it
 * is sent again, and match the same query answered from the studies. */
START_TEST(word_searches_follow_changed_studies)
{
  rr_fx_spec sp[] = {
    {"s-a", "p-a", "1.2.3.1", "Muller^Anna", "PID-1", "20200101", "CT Thorax", "ACC1", "se-a1", "CT", 1, "i-a1", 1, NULL},
    {"s-b", "p-b", "1.2.3.2", "Mullins^Bob", "PID-2", "20210101", "MR Knee", "ACC2", "se-b1", "MR", 1, "i-b1", 1, NULL},
    {"s-c", "p-c", "1.2.3.3", "Mulder^Carl", "PID-3", "20220101", "CT Head", "ACC3", "se-c1", "CT", 1, "i-c1", 1, NULL},
  };
  rr_ingest_item items[3];
  rr_worklist_query q;
  size_t i;

  for (i = 0; i < 3; i++)
    items[i] = rr_fx_item(&sp[i]);
  rr_fx_apply(items, 3, 1000);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MUL"})), "s-c,s-b,s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MUL"}, .modalities = {"CT"}, .modality_count = 1)),
                   "s-c,s-a");
  /* s-a is sent again: newer date, another name, an MR series added */
  sp[0].date = "20230101";
  sp[0].name = "Mullerova^Anna";
  items[0] = rr_fx_item(&sp[0]);
  rr_fx_apply(items, 1, 2000);
  sp[0].series = "se-a2";
  sp[0].modality = "MR";
  sp[0].instance = "i-a2";
  items[0] = rr_fx_item(&sp[0]);
  rr_fx_apply(items, 1, 3000);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MUL"})), "s-a,s-c,s-b");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MUL"}, .modalities = {"MR"}, .modality_count = 1)),
                   "s-a,s-b");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MUL"}, .date_from = "20220601")), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.text = {RR_MATCH_WORDS, "MUL ANNA"}, .date_to = "20221231")), "");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_GLOB, "MULLEROVA*"}, .text = {RR_MATCH_WORDS, "CT"})),
                   "s-a");
  q = RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MUL"});
  q.sort = RR_SORT_PATIENT_NAME;
  q.descending = false;
  ck_assert_str_eq(rr_fx_ids(q), "s-c,s-a,s-b"); /* MULDER, MULLEROVA, MULLINS */
  q.sort = RR_SORT_RECEIVED_AT;
  q.descending = true;
  q.limit = 2;
  q.offset = 1;
  {
    rr_study_list *l = rr_fx_page(&q);
    ck_assert_int_eq(l->total, 3);
    ck_assert_uint_eq(l->count, 2);
    ck_assert_int_eq(l->items[0].received_at, 1000);
    rr_study_list_free(l);
  }
  /* the same words with a filter on a column the terms do not carry */
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MUL"}, .patient_id = {RR_MATCH_GLOB, "PID-*"})),
                   "s-a,s-c,s-b");
  /* and with a modality that has no bit in the mask (through its terms) */
  sp[1] = (rr_fx_spec){"s-d", "p-d", "1.2.3.4", "Mulvey^Dan", "PID-4", "20190101", "Lensometry", "ACC4", "se-d1", "LEN", 1,
                       "i-d1", 1, NULL};
  items[0] = rr_fx_item(&sp[1]);
  rr_fx_apply(items, 1, 4000);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MUL"}, .modalities = {"LEN"}, .modality_count = 1)),
                   "s-d");
  ck_assert_str_eq(
    rr_fx_ids(RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MUL"}, .modalities = {"LEN", "CT"}, .modality_count = 2)),
    "s-a,s-c,s-d");
  /* a page past the end still says how many match */
  q = RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "MUL"}, .date_from = "20200101");
  q.offset = 10;
  {
    rr_study_list *l = rr_fx_page(&q);
    ck_assert_int_eq(l->total, 3);
    ck_assert_uint_eq(l->count, 0);
    rr_study_list_free(l);
  }
}
END_TEST

START_TEST(sorting_and_paging)
{
  rr_worklist_query q;
  rr_study_list *l;
  rr_fx_load_worklist();
  q = RR_FX_QUERY();
  q.sort = RR_SORT_PATIENT_NAME;
  q.descending = false;
  ck_assert_str_eq(rr_fx_ids(q), "s-a,s-b,s-c,s-d,s-e");
  q = RR_FX_QUERY();
  q.descending = false;
  l = rr_fx_page(&q);
  ck_assert_str_eq(l->items[0].orthanc_id, "s-d"); /* undated first ascending */
  rr_study_list_free(l);
  q = RR_FX_QUERY();
  q.sort = RR_SORT_RECEIVED_AT;
  q.limit = 2;
  q.offset = 1;
  l = rr_fx_page(&q);
  ck_assert_int_eq(l->total, 5);
  ck_assert_uint_eq(l->count, 2);
  /* received desc: s-e, s-d (2000), then the 1000s */
  ck_assert_str_eq(l->items[0].orthanc_id, "s-d");
  ck_assert_int_eq(l->items[1].received_at, 1000);
  rr_study_list_free(l);
  q = RR_FX_QUERY();
  q.offset = 100;
  l = rr_fx_page(&q);
  ck_assert_int_eq(l->total, 5);
  ck_assert_uint_eq(l->count, 0);
  rr_study_list_free(l);
  /* filtered: the total comes with the page, or from a count past the end */
  q = RR_FX_QUERY(.modalities = {"MR"}, .modality_count = 1);
  q.limit = 1;
  q.offset = 1;
  l = rr_fx_page(&q);
  ck_assert_int_eq(l->total, 2);
  ck_assert_uint_eq(l->count, 1);
  ck_assert_str_eq(l->items[0].orthanc_id, "s-d");
  rr_study_list_free(l);
  q.offset = 7;
  l = rr_fx_page(&q);
  ck_assert_int_eq(l->total, 2);
  ck_assert_uint_eq(l->count, 0);
  rr_study_list_free(l);
  q = RR_FX_QUERY(.patient_name = {RR_MATCH_WORDS, "NOBODY"});
  l = rr_fx_page(&q);
  ck_assert_int_eq(l->total, 0);
  rr_study_list_free(l);
}
END_TEST

START_TEST(deletions_settle_parents)
{
  rr_study_detail *d = NULL;
  rr_store_stats st;
  rr_fx_load_worklist();
  ck_assert_int_eq(rr_store_delete(fx.store, RR_LEVEL_INSTANCE, "i-a1", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_get_study(fx.store, &d, "1.2.3.1", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(d->study.instance_count, 2);
  rr_study_detail_free(d);
  /* the SR series' only instance: the series goes, modalities follow */
  ck_assert_int_eq(rr_store_delete(fx.store, RR_LEVEL_INSTANCE, "i-a3", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_get_study(fx.store, &d, "1.2.3.1", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(d->study.series_count, 1);
  ck_assert_str_eq(d->study.modalities, "CT");
  rr_study_detail_free(d);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.modalities = {"SR"}, .modality_count = 1)), "");
  /* the last series: the study goes */
  ck_assert_int_eq(rr_store_delete(fx.store, RR_LEVEL_SERIES, "se-a1", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_get_study(fx.store, &d, "1.2.3.1", fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_delete(fx.store, RR_LEVEL_STUDY, "s-b", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_delete(fx.store, RR_LEVEL_PATIENT, "p-c", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_delete(fx.store, RR_LEVEL_PATIENT, "p-c", fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_delete(fx.store, RR_LEVEL_INSTANCE, "i-zz", fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_get_stats(fx.store, &st, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(st.studies, 2);
  ck_assert_int_eq(st.series, 2);
  ck_assert_int_eq(st.instances, 2);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.text = {RR_MATCH_WORDS, "SMITH"})), "");
}
END_TEST

START_TEST(listing_for_reconciliation)
{
  rr_series_count_list *page = NULL;
  rr_id_list *ids = NULL;
  rr_fx_load_worklist();
  ck_assert_int_eq(rr_store_list_series(fx.store, &page, "", 4, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(page->count, 4);
  ck_assert_str_eq(page->items[0].orthanc_id, "se-a0");
  ck_assert_str_eq(page->items[1].orthanc_id, "se-a1");
  ck_assert_int_eq(page->items[1].instance_count, 2);
  rr_series_count_list_free(page);
  ck_assert_int_eq(rr_store_list_series(fx.store, &page, "se-c1", 10, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(page->count, 2);
  ck_assert_str_eq(page->items[0].orthanc_id, "se-d1");
  rr_series_count_list_free(page);
  ck_assert_int_eq(rr_store_list_instances(fx.store, &ids, "se-a1", fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(ids->count, 2);
  ck_assert_str_eq(ids->ids[0], "i-a1");
  rr_id_list_free(ids);
  ck_assert_int_eq(rr_store_list_instances(fx.store, &ids, "unknown", fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(ids->count, 0);
  rr_id_list_free(ids);
}
END_TEST

START_TEST(survives_reopening)
{
  rr_study_detail *d = NULL;
  rr_fx_load_worklist();
  rr_fx_reopen();
  ck_assert_int_eq(rr_store_get_study(fx.store, &d, "1.2.3.4", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(d->study.patient_name, "Yamada^Tarou=山田^太郎");
  rr_study_detail_free(d);
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
    if (rr_store_query_worklist(fx.store, &l, &q, e, sizeof(e)) != 0) {
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
      rr_fx_spec s = {"s-load", NULL, "5.5", "LOAD^TEST", "L", "20200101", "", "", "se-load", "CT", 1, inst, i * 10 + j, NULL};
      snprintf(inst, sizeof(inst), "i-%d", i * 10 + j);
      items[j] = rr_fx_item(&s);
    }
    rr_fx_apply(items, 10, 100 + i);
  }
  for (i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    ck_assert_int_eq(failures[i], 0);
  }
}
END_TEST

/* A backend without the index concern: each of its functions fails with a
 * sentence naming the backend and the concern. */
START_TEST(index_missing)
{
  rr_store *stub = rr_fx_stub();
  rr_worklist_query q = RR_FX_QUERY();
  rr_study_list *l = NULL;
  rr_study_detail *d = NULL;
  rr_series_count_list *page = NULL;
  rr_id_list *ids = NULL;
  rr_store_stats st;
  rr_ingest_batch b = {NULL, 0, NULL, NULL, 0};
  char v[16];
  int version;

  ck_assert_int_eq(rr_store_query_worklist(stub, &l, &q, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement the worklist index");
  ck_assert_ptr_null(l);
  ck_assert_int_eq(rr_store_schema_version(stub, &version, NULL, 0), RR_ESTORE);
  ck_assert_int_eq(rr_store_apply_batch(stub, &b, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_delete(stub, RR_LEVEL_STUDY, "s", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_get_study(stub, &d, "1.2", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_kv_get(stub, v, sizeof(v), "k", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_kv_set(stub, "k", "v", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_list_series(stub, &page, "", 10, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_list_instances(stub, &ids, "se", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_get_stats(stub, &st, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement the worklist index");
  /* a store with this concern only answers for it */
  stub->index = fx.store->index;
  stub->impl = fx.store->impl;
  ck_assert_int_eq(rr_store_get_stats(stub, &st, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_user_count(stub, &(int64_t){0}, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement users and tokens");
  rr_store_free(stub); /* no close: the handle stays the fixture's */
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {
    empty_store, batch_builds_counts_and_modalities, reapplying_is_idempotent, cursor_is_saved_with_the_batch,
    filters, rare_modalities, a_word_matching_twice_lists_once, word_searches_follow_changed_studies, sorting_and_paging, deletions_settle_parents, listing_for_reconciliation,
    survives_reopening, concurrent_readers_and_writer, index_missing};

  return rr_fx_run("index", tests, sizeof(tests) / sizeof(tests[0]));
}
