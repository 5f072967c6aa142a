/*
 * Store conformance, backup concern (store/store_backup.h): the durable
 * off-site backup queue. Idempotent enqueue per (target, object key),
 * claims in arrival order per target and only when due, a lease that a
 * killed claimer's item returns from, done with SHA-256 and size, back-off
 * and dead letter after N attempts, re-drive (one or all), each item claimed
 * once by concurrent claimers, the catalogue of done objects per study and
 * since a day, counts, persistence across a reopen. Run against every
 * backend in store_fixture.c.
 */
#include "common.h"
#include "store_fixture.h"

#include <pthread.h>

#include "util/errors.h"
#include "util/str.h"

#define T0 1000000
#define LEASE 60000
#define SHA_A "a3f1000000000000000000000000000000000000000000000000000000000001"
#define SHA_B "b4e2000000000000000000000000000000000000000000000000000000000002"

static char keybuf[8][RR_BACKUP_OBJECT_KEY_SIZE];

static rr_backup_new item(const char *target, const char *study, const char *sop, const char *day, int slot)
{
  snprintf(keybuf[slot], sizeof(keybuf[slot]), "studies/%s/%s.rrb", study, sop);
  return (rr_backup_new){.target = target, .object_key = keybuf[slot], .kind = "instance",
                         .orthanc_id = "0a1b2c3d-11111111-22222222-33333333-44444444", .study_uid = study,
                         .sop_uid = sop, .day = day};
}

static void enqueue(const char *target, const char *study, const char *sop, const char *day, int64_t now,
                    bool expect_created)
{
  rr_backup_new n = item(target, study, sop, day, 0);
  bool created = !expect_created;

  ck_assert_msg(rr_store_backup_enqueue(fx.store, &created, &n, now, fx.err, sizeof(fx.err)) == 0, "enqueue: %s",
                fx.err);
  ck_assert_int_eq(created, expect_created);
}

static rr_backup_item claim(const char *target, const char *claimer, int64_t max, int64_t now)
{
  rr_backup_item o;

  ck_assert_msg(rr_store_backup_claim(fx.store, &o, target, claimer, LEASE, max, now, fx.err, sizeof(fx.err)) == 0,
                "claim: %s", fx.err);
  return o;
}

static rr_backup_item_list *list(const char *target, const char *state, const char *study, const char *since)
{
  rr_backup_query q = {.target = target, .state = state, .study_uid = study, .since_day = since, .limit = 100};
  rr_backup_item_list *l = NULL;

  ck_assert_msg(rr_store_backup_list(fx.store, &l, &q, fx.err, sizeof(fx.err)) == 0, "list: %s", fx.err);
  return l;
}

START_TEST(enqueue_is_idempotent_per_object_and_target)
{
  rr_backup_new bad;
  rr_backup_item_list *l;

  enqueue("s3", "1.2.3", "1.2.3.1", "2026-12-01", T0, true);
  enqueue("s3", "1.2.3", "1.2.3.1", "2026-12-02", T0 + 5, false);
  enqueue("cloudinary", "1.2.3", "1.2.3.1", "2026-12-01", T0, true);
  enqueue("s3", "1.2.3", "1.2.3.2", "2026-12-01", T0, true);
  bad = item("s3", "1.2.3", "1.2.3.9", "2026-12-1", 1);
  ck_assert_int_eq(rr_store_backup_enqueue(fx.store, NULL, &bad, T0, fx.err, sizeof(fx.err)), RR_EINVAL);
  bad = item("s3", "1.2.3", "1.2.3.9", "2026-12-01", 1);
  bad.kind = "pdf";
  ck_assert_int_eq(rr_store_backup_enqueue(fx.store, NULL, &bad, T0, fx.err, sizeof(fx.err)), RR_EINVAL);
  bad.kind = "report";
  bad.sop_uid = "";
  ck_assert_int_eq(rr_store_backup_enqueue(fx.store, NULL, &bad, T0, fx.err, sizeof(fx.err)), RR_EINVAL);
  l = list(NULL, NULL, NULL, NULL);
  ck_assert_uint_eq(l->count, 3);
  ck_assert_str_eq(l->items[0].object_key, "studies/1.2.3/1.2.3.1.rrb");
  ck_assert_str_eq(l->items[0].target, "s3");
  ck_assert_str_eq(l->items[0].day, "2026-12-01"); /* the first enqueue's */
  ck_assert_str_eq(l->items[0].state, "queued");
  ck_assert_str_eq(l->items[0].kind, "instance");
  ck_assert_str_eq(l->items[0].study_uid, "1.2.3");
  ck_assert_str_eq(l->items[0].sop_uid, "1.2.3.1");
  ck_assert_int_eq(l->items[0].attempts, 0);
  ck_assert_int_eq(l->items[0].created_at, T0);
  ck_assert_str_eq(l->items[1].target, "cloudinary");
  ck_assert_int_gt(l->items[1].id, l->items[0].id);
  ck_assert_int_gt(l->items[2].id, l->items[1].id);
  rr_backup_item_list_free(l);
  l = list("s3", NULL, NULL, NULL);
  ck_assert_uint_eq(l->count, 2);
  rr_backup_item_list_free(l);
}
END_TEST

START_TEST(claim_in_arrival_order_then_done)
{
  rr_backup_item o, a, b, g;
  rr_backup_counts c;

  ck_assert_int_eq(rr_store_backup_claim(fx.store, &o, "s3", "w1", LEASE, 3, T0, fx.err, sizeof(fx.err)),
                   RR_ENOTFOUND);
  enqueue("s3", "9.9", "9.9.2", "2026-12-01", T0 + 10, true); /* arrives first, later time */
  enqueue("s3", "1.1", "1.1.1", "2026-12-01", T0, true);
  enqueue("cloudinary", "1.1", "1.1.1", "2026-12-01", T0, true);
  a = claim("s3", "w1", 3, T0 + 20);
  ck_assert_str_eq(a.sop_uid, "9.9.2");
  ck_assert_str_eq(a.state, "running");
  ck_assert_str_eq(a.claimed_by, "w1");
  ck_assert_int_eq(a.attempts, 1);
  ck_assert_int_eq(a.lease_until, T0 + 20 + LEASE);
  b = claim("s3", "w2", 3, T0 + 21);
  ck_assert_str_eq(b.sop_uid, "1.1.1");
  ck_assert_int_eq(rr_store_backup_claim(fx.store, &o, "s3", "w3", LEASE, 3, T0 + 22, fx.err, sizeof(fx.err)),
                   RR_ENOTFOUND);
  /* only the claimer marks its item done, with a SHA-256 */
  ck_assert_int_eq(rr_store_backup_done(fx.store, a.id, "w2", SHA_A, 10, T0 + 23, fx.err, sizeof(fx.err)),
                   RR_ECONFLICT);
  ck_assert_int_eq(rr_store_backup_done(fx.store, a.id, "w1", "not-a-hash", 10, T0 + 23, fx.err, sizeof(fx.err)),
                   RR_EINVAL);
  ck_assert_int_eq(rr_store_backup_done(fx.store, a.id, "w1", SHA_A, 1234, T0 + 23, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_backup_done(fx.store, a.id, "w1", SHA_A, 1234, T0 + 23, fx.err, sizeof(fx.err)),
                   RR_ECONFLICT);
  ck_assert_int_eq(rr_store_backup_done(fx.store, 999999, "w1", SHA_A, 1, T0 + 23, fx.err, sizeof(fx.err)),
                   RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_backup_get(fx.store, &g, a.id, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(g.state, "done");
  ck_assert_str_eq(g.sha256, SHA_A);
  ck_assert_int_eq(g.size, 1234);
  ck_assert_int_eq(g.done_at, T0 + 23);
  ck_assert_int_eq(rr_store_backup_get(fx.store, &g, 999999, fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_backup_counts(fx.store, &c, "s3", T0 + 30, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(c.done, 1);
  ck_assert_int_eq(c.running, 1);
  ck_assert_int_eq(c.queued, 0);
  ck_assert_int_eq(c.oldest_waiting_at, T0);
  ck_assert_int_eq(c.last_done_at, T0 + 23);
  ck_assert_int_eq(c.done_last_hour, 1);
  ck_assert_int_eq(rr_store_backup_counts(fx.store, &c, NULL, T0 + 30, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(c.queued, 1); /* the cloudinary copy */
  ck_assert_int_eq(rr_store_backup_counts(fx.store, &c, "s3", T0 + 23 + 3600000, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(c.done_last_hour, 0);
}
END_TEST

START_TEST(lease_returns_a_killed_claimers_item)
{
  rr_backup_item a, b, g;

  enqueue("s3", "1.1", "1.1.1", "2026-12-01", T0, true);
  a = claim("s3", "node-a/1", 3, T0);
  ck_assert_int_eq(rr_store_backup_claim(fx.store, &b, "s3", "node-b/1", LEASE, 3, T0 + LEASE - 1, fx.err,
                                         sizeof(fx.err)), RR_ENOTFOUND);
  rr_fx_reopen(); /* the process was killed; the store survives */
  b = claim("s3", "node-b/1", 3, T0 + LEASE + 1);
  ck_assert_int_eq(b.id, a.id);
  ck_assert_int_eq(b.attempts, 2);
  ck_assert_str_eq(b.claimed_by, "node-b/1");
  /* the first claimer lost its lease: its late result is refused */
  ck_assert_int_eq(rr_store_backup_done(fx.store, a.id, "node-a/1", SHA_A, 1, T0 + LEASE + 2, fx.err, sizeof(fx.err)),
                   RR_ECONFLICT);
  ck_assert_int_eq(rr_store_backup_fail(fx.store, NULL, a.id, "node-a/1", "x", 3, T0 + LEASE + 2, fx.err,
                                        sizeof(fx.err)), RR_ECONFLICT);
  /* a third expiry with the attempts used: dead letter, not claimed */
  b = claim("s3", "node-c/1", 3, T0 + 2 * LEASE + 3);
  ck_assert_int_eq(b.attempts, 3);
  ck_assert_int_eq(rr_store_backup_claim(fx.store, &b, "s3", "node-d/1", LEASE, 3, T0 + 4 * LEASE, fx.err,
                                         sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_backup_get(fx.store, &g, a.id, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(g.state, "failed");
  ck_assert_ptr_nonnull(strstr(g.last_error, "interrupted"));
}
END_TEST

START_TEST(restarted_claimer_takes_back_its_own_item)
{
  rr_backup_item a, b, o;

  enqueue("s3", "1.1", "1.1.1", "2026-12-01", T0, true);
  enqueue("s3", "1.1", "1.1.2", "2026-12-01", T0, true);
  a = claim("s3", "node-a/1", 2, T0);
  rr_fx_reopen(); /* kill -9: node-a/1 starts again long before its lease ends */
  /* another claimer does not get it, node-a/1 itself does (same name after a restart) */
  b = claim("s3", "node-b/1", 2, T0 + 1);
  ck_assert_str_eq(b.sop_uid, "1.1.2");
  o = claim("s3", "node-a/1", 2, T0 + 2);
  ck_assert_int_eq(o.id, a.id);
  ck_assert_int_eq(o.attempts, 2);
  /* killed again with its attempts used: a dead letter, not a third try */
  ck_assert_int_eq(rr_store_backup_claim(fx.store, &o, "s3", "node-a/1", LEASE, 2, T0 + 3, fx.err, sizeof(fx.err)),
                   RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_backup_get(fx.store, &o, a.id, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(o.state, "failed");
  ck_assert_int_eq(rr_store_backup_get(fx.store, &o, b.id, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(o.state, "running");
}
END_TEST

START_TEST(fail_backs_off_then_dead_letter_then_redrive)
{
  rr_backup_item o, f;
  rr_backup_counts c;
  rr_backup_item_list *l;
  int64_t now = T0, expect[] = {2000, 4000, 8000}, n = -1;
  int i;

  enqueue("s3", "1.1", "1.1.1", "2026-12-01", now, true);
  for (i = 0; i < 3; i++) {
    o = claim("s3", "w", 4, now);
    ck_assert_int_eq(o.attempts, i + 1);
    ck_assert_int_eq(rr_store_backup_fail(fx.store, &f, o.id, "w", "S3 answered 500 InternalError", 4, now, fx.err,
                                          sizeof(fx.err)), 0);
    ck_assert_str_eq(f.state, "queued");
    ck_assert_str_eq(f.last_error, "S3 answered 500 InternalError");
    ck_assert_int_eq(f.next_attempt_at, now + expect[i]);
    ck_assert_int_eq(rr_store_backup_claim(fx.store, &o, "s3", "w", LEASE, 4, now + expect[i] - 1, fx.err,
                                           sizeof(fx.err)), RR_ENOTFOUND);
    now += expect[i];
  }
  o = claim("s3", "w", 4, now);
  ck_assert_int_eq(rr_store_backup_fail(fx.store, &f, o.id, "w", "still 500", 4, now, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(f.state, "failed");
  ck_assert_int_eq(rr_store_backup_claim(fx.store, &o, "s3", "w", LEASE, 4, now + 3600000, fx.err, sizeof(fx.err)),
                   RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_backup_counts(fx.store, &c, "s3", now, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(c.failed, 1);
  ck_assert_str_eq(c.last_error, "still 500");
  ck_assert_int_eq(c.last_error_at, now);
  l = list("s3", "failed", NULL, NULL); /* the dead letters */
  ck_assert_uint_eq(l->count, 1);
  ck_assert_int_eq(l->items[0].id, f.id);
  rr_backup_item_list_free(l);
  /* re-drive: the one id, then not again; an unknown id */
  ck_assert_int_eq(rr_store_backup_redrive(fx.store, &n, 999999, now, fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_backup_redrive(fx.store, &n, f.id, now + 10, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(rr_store_backup_redrive(fx.store, &n, f.id, now + 10, fx.err, sizeof(fx.err)), RR_ECONFLICT);
  o = claim("s3", "w", 4, now + 10);
  ck_assert_int_eq(o.attempts, 1);
  ck_assert_str_eq(o.last_error, "still 500");
  ck_assert_int_eq(rr_store_backup_done(fx.store, o.id, "w", SHA_B, 7, now + 11, fx.err, sizeof(fx.err)), 0);
}
END_TEST

START_TEST(backoff_is_capped_and_redrive_all)
{
  rr_backup_item o, f;
  int64_t now = T0, wait = 0, n = 0;
  int i;

  enqueue("s3", "1.1", "1.1.1", "2026-12-01", now, true);
  for (i = 0; i < 12; i++) {
    o = claim("s3", "w", 100, now);
    ck_assert_int_eq(rr_store_backup_fail(fx.store, &f, o.id, "w", "down", 100, now, fx.err, sizeof(fx.err)), 0);
    wait = f.next_attempt_at - now;
    ck_assert_int_le(wait, RR_BACKUP_MAX_BACKOFF_MS);
    now = f.next_attempt_at;
  }
  ck_assert_int_eq(wait, RR_BACKUP_MAX_BACKOFF_MS);
  /* three dead letters re-driven at once */
  for (i = 0; i < 3; i++) {
    char sop[16];
    snprintf(sop, sizeof(sop), "2.2.%d", i);
    enqueue("s3", "2.2", sop, "2026-12-01", now, true);
  }
  for (i = 0; i < 3; i++) {
    o = claim("s3", "w", 1, now);
    if (strcmp(o.study_uid, "1.1") == 0) { /* the first item is due again too */
      ck_assert_int_eq(rr_store_backup_done(fx.store, o.id, "w", SHA_A, 1, now, fx.err, sizeof(fx.err)), 0);
      i--;
      continue;
    }
    ck_assert_int_eq(rr_store_backup_fail(fx.store, NULL, o.id, "w", "403 SignatureDoesNotMatch", 1, now, fx.err,
                                          sizeof(fx.err)), 0);
  }
  ck_assert_int_eq(rr_store_backup_redrive(fx.store, &n, 0, now, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(rr_store_backup_redrive(fx.store, &n, 0, now, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(catalogue_by_study_and_since_a_day)
{
  rr_backup_item_list *l;
  rr_backup_query q = {.limit = 0};
  int i;

  enqueue("s3", "1.1", "1.1.1", "2026-11-30", T0, true);
  enqueue("s3", "1.1", "1.1.2", "2026-11-30", T0, true);
  enqueue("s3", "2.2", "2.2.1", "2026-12-01", T0, true);
  enqueue("s3", "3.3", "3.3.1", "2026-12-02", T0, true);
  for (i = 0; i < 3; i++) { /* 3.3.1 stays queued */
    rr_backup_item o = claim("s3", "w", 3, T0 + 1);
    ck_assert_int_eq(rr_store_backup_done(fx.store, o.id, "w", SHA_A, 5, T0 + 2, fx.err, sizeof(fx.err)), 0);
  }
  l = list("s3", "done", "1.1", NULL);
  ck_assert_uint_eq(l->count, 2);
  ck_assert_str_eq(l->items[0].sop_uid, "1.1.1");
  ck_assert_str_eq(l->items[1].sop_uid, "1.1.2");
  ck_assert_str_eq(l->items[1].sha256, SHA_A);
  rr_backup_item_list_free(l);
  l = list("s3", "done", NULL, "2026-12-01");
  ck_assert_uint_eq(l->count, 1);
  ck_assert_str_eq(l->items[0].sop_uid, "2.2.1");
  rr_backup_item_list_free(l);
  l = list("s3", NULL, NULL, "2026-12-01");
  ck_assert_uint_eq(l->count, 2);
  rr_backup_item_list_free(l);
  /* paging by id */
  q.target = "s3";
  q.limit = 1;
  ck_assert_int_eq(rr_store_backup_list(fx.store, &l, &q, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(l->count, 1);
  q.after_id = l->items[0].id;
  rr_backup_item_list_free(l);
  ck_assert_int_eq(rr_store_backup_list(fx.store, &l, &q, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(l->items[0].sop_uid, "1.1.2");
  rr_backup_item_list_free(l);
  /* bad queries */
  q.limit = 0;
  ck_assert_int_eq(rr_store_backup_list(fx.store, &l, &q, fx.err, sizeof(fx.err)), RR_EINVAL);
  ck_assert_ptr_null(l);
  q.limit = 10;
  q.since_day = "yesterday";
  ck_assert_int_eq(rr_store_backup_list(fx.store, &l, &q, fx.err, sizeof(fx.err)), RR_EINVAL);
  q.since_day = NULL;
  q.state = "lost";
  ck_assert_int_eq(rr_store_backup_list(fx.store, &l, &q, fx.err, sizeof(fx.err)), RR_EINVAL);
  /* kept across a reopen */
  rr_fx_reopen();
  l = list("s3", "done", NULL, NULL);
  ck_assert_uint_eq(l->count, 3);
  rr_backup_item_list_free(l);
}
END_TEST

/* ---- concurrent claimers: every item is taken exactly once ---- */

#define ITEMS 120
#define CLAIMERS 4

static int taken[ITEMS + 1];
static pthread_mutex_t taken_lock = PTHREAD_MUTEX_INITIALIZER;

static void *claimer_thread(void *arg)
{
  char name[16], err[256];
  rr_backup_item o;
  int rc, misses = 0, n;

  snprintf(name, sizeof(name), "claimer-%d", (int)(intptr_t)arg);
  while (misses < 3) {
    rc = rr_store_backup_claim(fx.store, &o, "s3", name, LEASE, 3, T0, err, sizeof(err));
    if (rc == RR_ENOTFOUND) {
      misses++;
      continue;
    }
    if (rc < 0)
      return (void *)1;
    n = atoi(o.sop_uid + 4); /* "5.5.<n>" */
    if (n < 1 || n > ITEMS)
      return (void *)1;
    pthread_mutex_lock(&taken_lock);
    taken[n]++;
    pthread_mutex_unlock(&taken_lock);
    if (rr_store_backup_done(fx.store, o.id, name, SHA_A, 1, T0, err, sizeof(err)) < 0)
      return (void *)1;
  }
  return NULL;
}

START_TEST(concurrent_claimers_take_each_item_once)
{
  pthread_t th[CLAIMERS];
  rr_backup_counts c;
  char sop[32];
  void *res;
  int i;

  memset(taken, 0, sizeof(taken));
  for (i = 1; i <= ITEMS; i++) {
    snprintf(sop, sizeof(sop), "5.5.%d", i);
    enqueue("s3", "5.5", sop, "2026-12-01", T0 - 1000 + i, true);
  }
  for (i = 0; i < CLAIMERS; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, claimer_thread, (void *)(intptr_t)i), 0);
  for (i = 0; i < CLAIMERS; i++) {
    ck_assert_int_eq(pthread_join(th[i], &res), 0);
    ck_assert_ptr_null(res);
  }
  for (i = 1; i <= ITEMS; i++)
    ck_assert_msg(taken[i] == 1, "item %d taken %d times", i, taken[i]);
  ck_assert_int_eq(rr_store_backup_counts(fx.store, &c, "s3", T0, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(c.done, ITEMS);
  ck_assert_int_eq(c.queued + c.running + c.failed, 0);
}
END_TEST

START_TEST(backup_missing)
{
  rr_store *stub = rr_fx_stub();
  rr_backup_new n = item("s3", "1.1", "1.1.1", "2026-12-01", 0);
  rr_backup_item o;

  ck_assert_int_eq(rr_store_backup_enqueue(stub, NULL, &n, 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement the backup queue");
  ck_assert_int_eq(rr_store_backup_claim(stub, &o, "s3", "w", LEASE, 3, 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  rr_store_free(stub);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {enqueue_is_idempotent_per_object_and_target,
                                claim_in_arrival_order_then_done,
                                lease_returns_a_killed_claimers_item,
                                restarted_claimer_takes_back_its_own_item,
                                fail_backs_off_then_dead_letter_then_redrive,
                                backoff_is_capped_and_redrive_all,
                                catalogue_by_study_and_since_a_day,
                                concurrent_claimers_take_each_item_once,
                                backup_missing};

  return rr_fx_run("backup", tests, sizeof(tests) / sizeof(tests[0]));
}
