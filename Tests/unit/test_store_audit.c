/*
 * Store conformance, audit concern (store/store_audit.h): the hash chain
 * and its queries. Run against every backend in store_fixture.c.
 */
#include "common.h"
#include "store_fixture.h"
#include "util/errors.h"

#include <pthread.h>

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

/* Several handles of one store (several nodes, or processes on one file),
 * two threads each, appending at once: one chain, no fork, no gap. */
#define WRITERS 3
#define THREADS_PER_WRITER 2
#define APPENDS 20

typedef struct writer_arg {
  rr_store *store;
  int failures;
} writer_arg;

static void *append_many(void *p)
{
  writer_arg *w = p;
  rr_audit_rec r;
  char err[256];
  int i;

  for (i = 0; i < APPENDS; i++) {
    memset(&r, 0, sizeof(r));
    r.at_ms = 1000 + i;
    snprintf(r.action, sizeof(r.action), "race.%d", i);
    snprintf(r.outcome, sizeof(r.outcome), "success");
    if (rr_store_audit_append(w->store, &r, test_hash, err, sizeof(err)) != 0)
      __atomic_add_fetch(&w->failures, 1, __ATOMIC_SEQ_CST);
  }
  return NULL;
}

START_TEST(audit_one_chain_from_several_handles)
{
  rr_store *stores[WRITERS];
  writer_arg args[WRITERS];
  pthread_t threads[WRITERS * THREADS_PER_WRITER];
  rr_audit_filter f;
  rr_audit_list *l = NULL;
  size_t i;

  stores[0] = fx.store;
  for (i = 1; i < WRITERS; i++)
    stores[i] = rr_fx_open_named(fx.backend->name, fx.dir);
  for (i = 0; i < WRITERS; i++)
    args[i] = (writer_arg){stores[i], 0};
  for (i = 0; i < WRITERS * THREADS_PER_WRITER; i++)
    ck_assert_int_eq(pthread_create(&threads[i], NULL, append_many, &args[i % WRITERS]), 0);
  for (i = 0; i < WRITERS * THREADS_PER_WRITER; i++)
    pthread_join(threads[i], NULL);
  for (i = 0; i < WRITERS; i++)
    ck_assert_int_eq(args[i].failures, 0);

  memset(&f, 0, sizeof(f));
  f.limit = 1000;
  ck_assert_int_eq(rr_store_audit_query(fx.store, &l, &f, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(l->count, WRITERS * THREADS_PER_WRITER * APPENDS);
  for (i = 0; i < l->count; i++) {
    char want[RR_HASH_HEX_SIZE];

    ck_assert_int_eq(l->items[i].seq, (int64_t)i + 1);
    if (i > 0)
      ck_assert_str_eq(l->items[i].prev_hash, l->items[i - 1].hash);
    test_hash(want, l->items[i].prev_hash, &l->items[i]);
    ck_assert_str_eq(l->items[i].hash, want);
  }
  rr_audit_list_free(l);
  for (i = 1; i < WRITERS; i++)
    rr_store_free(stores[i]);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {audit_append_and_query, audit_missing, audit_one_chain_from_several_handles};

  return rr_fx_run("audit", tests, sizeof(tests) / sizeof(tests[0]));
}
