/*
 * Store conformance, annotations concern (store/store_annotations.h): the
 * viewer's measurements with versions and authors, and key images. Run
 * against every backend in store_fixture.c.
 */
#include "common.h"
#include "store_fixture.h"

#include "util/errors.h"
#include "util/str.h"

static rr_annotation annotation(const char *uid, const char *author, const char *label)
{
  rr_annotation a;

  memset(&a, 0, sizeof(a));
  rr_str_copy(a.study_uid, sizeof(a.study_uid), "1.2.3");
  rr_str_copy(a.annotation_uid, sizeof(a.annotation_uid), uid);
  rr_str_copy(a.series_uid, sizeof(a.series_uid), "1.2.3.4");
  rr_str_copy(a.sop_uid, sizeof(a.sop_uid), "1.2.3.4.5");
  a.frame = 1;
  rr_str_copy(a.tool, sizeof(a.tool), "Length");
  rr_str_copy(a.label, sizeof(a.label), label);
  rr_str_copy(a.author, sizeof(a.author), author);
  a.data_json = (char *)"{\"points\":[[0,0,0],[10,0,0]]}";
  return a;
}

START_TEST(annotations_versions_and_authors)
{
  rr_annotation a = annotation("u-1", "rad", "first"), got;
  rr_annotation_list *list = NULL;
  bool created = false;

  memset(&got, 0, sizeof(got));
  ck_assert_int_eq(rr_store_annotation_put(fx.store, &got, &created, &a, 0, 1000, fx.err, sizeof(fx.err)), 0);
  ck_assert(created);
  ck_assert_int_eq(got.version, 1);
  ck_assert_int_eq(got.created_at, 1000);
  ck_assert_str_eq(got.data_json, "{\"points\":[[0,0,0],[10,0,0]]}");
  rr_annotation_dispose(&got);

  /* a change naming the current version */
  rr_str_copy(a.label, sizeof(a.label), "second");
  ck_assert_int_eq(rr_store_annotation_put(fx.store, &got, &created, &a, 1, 2000, fx.err, sizeof(fx.err)), 0);
  ck_assert(!created);
  ck_assert_int_eq(got.version, 2);
  ck_assert_int_eq(got.created_at, 1000);
  ck_assert_int_eq(got.updated_at, 2000);
  ck_assert_str_eq(got.label, "second");
  rr_annotation_dispose(&got);

  /* a stale version, another author, another image or tool: refused, nothing changed */
  rr_str_copy(a.label, sizeof(a.label), "lost");
  ck_assert_int_eq(rr_store_annotation_put(fx.store, NULL, NULL, &a, 1, 3000, fx.err, sizeof(fx.err)), RR_ESTALE);
  rr_str_copy(a.author, sizeof(a.author), "other");
  ck_assert_int_eq(rr_store_annotation_put(fx.store, NULL, NULL, &a, 0, 3000, fx.err, sizeof(fx.err)), RR_EDENIED);
  rr_str_copy(a.author, sizeof(a.author), "rad");
  a.frame = 2;
  ck_assert_int_eq(rr_store_annotation_put(fx.store, NULL, NULL, &a, 0, 3000, fx.err, sizeof(fx.err)), RR_ECONFLICT);
  a.frame = 1;
  rr_str_copy(a.tool, sizeof(a.tool), "Angle");
  ck_assert_int_eq(rr_store_annotation_put(fx.store, NULL, NULL, &a, 0, 3000, fx.err, sizeof(fx.err)), RR_ECONFLICT);
  /* a version named for an annotation that does not exist */
  a = annotation("u-none", "rad", "");
  ck_assert_int_eq(rr_store_annotation_put(fx.store, NULL, NULL, &a, 3, 3000, fx.err, sizeof(fx.err)), RR_ESTALE);

  ck_assert_int_eq(rr_store_annotation_list(fx.store, &list, "1.2.3", fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 1);
  ck_assert_str_eq(list->items[0].label, "second");
  ck_assert_int_eq(list->items[0].version, 2);
  rr_annotation_list_free(list);

  /* delete: author and version as for a change */
  ck_assert_int_eq(rr_store_annotation_remove(fx.store, "1.2.3", "u-1", "other", 0, fx.err, sizeof(fx.err)), RR_EDENIED);
  ck_assert_int_eq(rr_store_annotation_remove(fx.store, "1.2.3", "u-1", "rad", 1, fx.err, sizeof(fx.err)), RR_ESTALE);
  ck_assert_int_eq(rr_store_annotation_remove(fx.store, "1.2.3", "u-1", "rad", 2, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_annotation_remove(fx.store, "1.2.3", "u-1", "rad", 0, fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_annotation_list(fx.store, &list, "1.2.3", fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 0);
  rr_annotation_list_free(list);
}
END_TEST

START_TEST(annotations_listed_oldest_first_per_study_and_kept)
{
  rr_annotation a = annotation("b", "rad", "later"), b = annotation("a", "rad2", "earlier"), c = annotation("c", "rad", "");
  rr_annotation_list *list = NULL;

  rr_str_copy(c.study_uid, sizeof(c.study_uid), "9.9");
  ck_assert_int_eq(rr_store_annotation_put(fx.store, NULL, NULL, &a, 0, 200, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_annotation_put(fx.store, NULL, NULL, &b, 0, 100, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_annotation_put(fx.store, NULL, NULL, &c, 0, 50, fx.err, sizeof(fx.err)), 0);
  rr_fx_reopen();
  ck_assert_int_eq(rr_store_annotation_list(fx.store, &list, "1.2.3", fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 2);
  ck_assert_str_eq(list->items[0].annotation_uid, "a");
  ck_assert_str_eq(list->items[0].author, "rad2");
  ck_assert_str_eq(list->items[1].annotation_uid, "b");
  ck_assert_str_eq(list->items[1].tool, "Length");
  ck_assert_str_eq(list->items[1].sop_uid, "1.2.3.4.5");
  rr_annotation_list_free(list);
  ck_assert_int_eq(rr_store_annotation_list(fx.store, &list, "7.7", fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 0);
  rr_annotation_list_free(list);
}
END_TEST

START_TEST(key_images_mark_unmark)
{
  rr_key_image k;
  rr_key_image_list *list = NULL;
  bool created = false;

  memset(&k, 0, sizeof(k));
  rr_str_copy(k.study_uid, sizeof(k.study_uid), "1.2.3");
  rr_str_copy(k.sop_uid, sizeof(k.sop_uid), "1.2.3.4.5");
  rr_str_copy(k.series_uid, sizeof(k.series_uid), "1.2.3.4");
  rr_str_copy(k.author, sizeof(k.author), "rad");
  k.frame = 1;
  ck_assert_int_eq(rr_store_key_image_mark(fx.store, &created, &k, 100, fx.err, sizeof(fx.err)), 0);
  ck_assert(created);
  rr_str_copy(k.author, sizeof(k.author), "rad2");
  ck_assert_int_eq(rr_store_key_image_mark(fx.store, &created, &k, 200, fx.err, sizeof(fx.err)), 0);
  ck_assert(!created);
  k.frame = 3;
  ck_assert_int_eq(rr_store_key_image_mark(fx.store, &created, &k, 300, fx.err, sizeof(fx.err)), 0);
  ck_assert(created);
  rr_fx_reopen();
  ck_assert_int_eq(rr_store_key_image_list(fx.store, &list, "1.2.3", fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 2);
  ck_assert_str_eq(list->items[0].author, "rad"); /* the first mark is kept */
  ck_assert_int_eq(list->items[0].created_at, 100);
  ck_assert_int_eq(list->items[1].frame, 3);
  rr_key_image_list_free(list);
  ck_assert_int_eq(rr_store_key_image_unmark(fx.store, "1.2.3", "1.2.3.4.5", 1, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_key_image_unmark(fx.store, "1.2.3", "1.2.3.4.5", 1, fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_key_image_list(fx.store, &list, "1.2.3", fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 1);
  rr_key_image_list_free(list);
}
END_TEST

/* A backend without the concern: each function fails with a sentence. */
START_TEST(annotations_missing)
{
  rr_store *stub = rr_fx_stub();
  rr_annotation a = annotation("m", "rad", "");
  rr_annotation_list *list = NULL;
  rr_key_image k;
  rr_key_image_list *keys = NULL;

  memset(&k, 0, sizeof(k));
  ck_assert_int_eq(rr_store_annotation_put(stub, NULL, NULL, &a, 0, 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement annotations and key images");
  ck_assert_int_eq(rr_store_annotation_remove(stub, "1", "m", "rad", 0, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_annotation_list(stub, &list, "1", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_ptr_null(list);
  ck_assert_int_eq(rr_store_key_image_mark(stub, NULL, &k, 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_key_image_unmark(stub, "1", "2", 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_key_image_list(stub, &keys, "1", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_ptr_null(keys);
  rr_store_free(stub);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {annotations_versions_and_authors, annotations_listed_oldest_first_per_study_and_kept,
                                key_images_mark_unmark, annotations_missing};

  return rr_fx_run("annotations", tests, sizeof(tests) / sizeof(tests[0]));
}
