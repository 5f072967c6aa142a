/*
 * Store conformance, report templates concern
 * (store/store_report_templates.h): rows with revisions, retirement, and
 * the refusals of create and update. Run against every backend in
 * store_fixture.c.
 */
#include "common.h"
#include "store_fixture.h"

#include "util/errors.h"
#include "util/str.h"

static rr_report_template_rec rec(const char *id, const char *json, int64_t revision, bool retired)
{
  rr_report_template_rec r;

  memset(&r, 0, sizeof(r));
  rr_str_copy(r.id, sizeof(r.id), id);
  r.json = (char *)json;
  r.revision = revision;
  r.retired = retired;
  rr_str_copy(r.updated_by, sizeof(r.updated_by), "admin");
  r.updated_at = 1000;
  return r;
}

START_TEST(templates_create_get_update)
{
  rr_report_template_rec r = rec("my-us", "{\"id\":\"my-us\"}", 1, false), got;

  memset(&got, 0, sizeof(got));
  ck_assert_int_eq(rr_store_report_template_get(fx.store, &got, "my-us", fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_report_template_create(fx.store, &r, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_report_template_create(fx.store, &r, fx.err, sizeof(fx.err)), RR_EEXISTS);
  rr_fx_reopen();
  ck_assert_int_eq(rr_store_report_template_get(fx.store, &got, "my-us", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(got.json, "{\"id\":\"my-us\"}");
  ck_assert_int_eq(got.revision, 1);
  ck_assert(!got.retired);
  ck_assert_str_eq(got.updated_by, "admin");
  ck_assert_int_eq(got.updated_at, 1000);
  rr_report_template_rec_dispose(&got);

  /* an update naming the current revision: revision + 1, retired as given */
  r = rec("my-us", "{\"id\":\"my-us\",\"title\":\"x\"}", 0, true);
  rr_str_copy(r.updated_by, sizeof(r.updated_by), "boss");
  r.updated_at = 2000;
  ck_assert_int_eq(rr_store_report_template_update(fx.store, &got, &r, 1, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(got.revision, 2);
  ck_assert(got.retired);
  ck_assert_str_eq(got.json, "{\"id\":\"my-us\",\"title\":\"x\"}");
  ck_assert_str_eq(got.updated_by, "boss");
  ck_assert_int_eq(got.updated_at, 2000);
  rr_report_template_rec_dispose(&got);

  /* a stale revision: refused, nothing changed */
  r.json = (char *)"{\"lost\":true}";
  ck_assert_int_eq(rr_store_report_template_update(fx.store, NULL, &r, 1, fx.err, sizeof(fx.err)), RR_ESTALE);
  ck_assert_int_eq(rr_store_report_template_get(fx.store, &got, "my-us", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(got.revision, 2);
  ck_assert_str_eq(got.json, "{\"id\":\"my-us\",\"title\":\"x\"}");
  rr_report_template_rec_dispose(&got);
  /* no row */
  r = rec("none", "{}", 0, false);
  ck_assert_int_eq(rr_store_report_template_update(fx.store, NULL, &r, 1, fx.err, sizeof(fx.err)), RR_ENOTFOUND);
}
END_TEST

START_TEST(templates_listed_by_id_and_refusals)
{
  rr_report_template_rec b = rec("b", "{\"id\":\"b\"}", 3, true), a = rec("a", "{\"id\":\"a\"}", 1, false), bad;
  rr_report_template_list *list = NULL;

  ck_assert_int_eq(rr_store_report_template_list(fx.store, &list, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 0);
  rr_report_template_list_free(list);
  ck_assert_int_eq(rr_store_report_template_create(fx.store, &b, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_report_template_create(fx.store, &a, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_report_template_list(fx.store, &list, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 2);
  ck_assert_str_eq(list->items[0].id, "a");
  ck_assert_str_eq(list->items[1].id, "b");
  ck_assert_int_eq(list->items[1].revision, 3);
  ck_assert(list->items[1].retired);
  ck_assert_str_eq(list->items[1].json, "{\"id\":\"b\"}");
  rr_report_template_list_free(list);

  bad = rec("a b", "{}", 1, false);
  ck_assert_int_eq(rr_store_report_template_create(fx.store, &bad, fx.err, sizeof(fx.err)), RR_EINVAL);
  bad = rec("", "{}", 1, false);
  ck_assert_int_eq(rr_store_report_template_create(fx.store, &bad, fx.err, sizeof(fx.err)), RR_EINVAL);
  bad = rec("c", "", 1, false);
  ck_assert_int_eq(rr_store_report_template_create(fx.store, &bad, fx.err, sizeof(fx.err)), RR_EINVAL);
  bad = rec("c", "{}", 0, false);
  ck_assert_int_eq(rr_store_report_template_create(fx.store, &bad, fx.err, sizeof(fx.err)), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_template_list(fx.store, &list, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 2);
  rr_report_template_list_free(list);
}
END_TEST

/* A backend without the concern: each function fails with a sentence. */
START_TEST(templates_missing)
{
  rr_store *stub = rr_fx_stub();
  rr_report_template_rec r = rec("a", "{}", 1, false), got;
  rr_report_template_list *list = NULL;

  memset(&got, 0, sizeof(got));
  ck_assert_int_eq(rr_store_report_template_get(stub, &got, "a", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement report templates");
  ck_assert_int_eq(rr_store_report_template_list(stub, &list, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_ptr_null(list);
  ck_assert_int_eq(rr_store_report_template_create(stub, &r, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_template_update(stub, NULL, &r, 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  rr_store_free(stub);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {templates_create_get_update, templates_listed_by_id_and_refusals, templates_missing};

  return rr_fx_run("report_templates", tests, sizeof(tests) / sizeof(tests[0]));
}
