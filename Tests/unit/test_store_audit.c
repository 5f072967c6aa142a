/*
 * Store conformance, audit concern (store/store_audit.h): the hash chain
 * and its queries. Run against every backend in store_fixture.c.
 */
#include "common.h"
#include "store_fixture.h"
#include "util/errors.h"

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
    ck_assert_int_eq(rr_store_audit_append(fx.store, &r, test_hash, fx.err, sizeof(fx.err)), 0);
    ck_assert_int_eq(r.seq, i + 1);
  }

  ck_assert(strncmp(r.hash, r.prev_hash, 8) == 0 && strstr(r.hash, "-30-study.view") != NULL);
  memset(&f, 0, sizeof(f));
  f.limit = 1000;
  ck_assert_int_eq(rr_store_audit_query(fx.store, &l, &f, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(l->count, 30);
  ck_assert_str_eq(l->items[0].prev_hash, "0000000000000000000000000000000000000000000000000000000000000000");
  ck_assert_str_eq(l->items[1].prev_hash, l->items[0].hash);
  rr_audit_list_free(l);
  snprintf(f.username, sizeof(f.username), "alice");
  snprintf(f.action, sizeof(f.action), "login");
  ck_assert_int_eq(rr_store_audit_query(fx.store, &l, &f, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(l->count, 5); /* i = 0, 6, 12, 18, 24 */
  rr_audit_list_free(l);
  memset(&f, 0, sizeof(f));
  f.descending = true;
  f.limit = 4;
  f.before_seq = 10;
  snprintf(f.resource, sizeof(f.resource), "1.2.3");
  ck_assert_int_eq(rr_store_audit_query(fx.store, &l, &f, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(l->count, 2); /* seq 9 (i=8), seq 4 (i=3) */
  ck_assert_int_eq(l->items[0].seq, 9);
  ck_assert_int_eq(l->items[1].seq, 4);
  rr_audit_list_free(l);
  memset(&f, 0, sizeof(f));
  f.from_ms = 1010;
  f.to_ms = 1012;
  f.limit = 100;
  ck_assert_int_eq(rr_store_audit_query(fx.store, &l, &f, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(l->count, 3);
  rr_audit_list_free(l);
}
END_TEST

/* A backend without the audit concern: each function fails with a sentence. */
START_TEST(audit_missing)
{
  rr_store *stub = rr_fx_stub();
  rr_audit_rec r;
  rr_audit_filter f;
  rr_audit_list *l = NULL;

  memset(&r, 0, sizeof(r));
  memset(&f, 0, sizeof(f));
  ck_assert_int_eq(rr_store_audit_append(stub, &r, test_hash, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement the audit trail");
  ck_assert_int_eq(rr_store_audit_query(stub, &l, &f, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement the audit trail");
  ck_assert_ptr_null(l);
  rr_store_free(stub);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {audit_append_and_query, audit_missing};

  return rr_fx_run("audit", tests, sizeof(tests) / sizeof(tests[0]));
}
