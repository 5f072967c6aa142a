/*
 * Store conformance, cluster concern (store/store_cluster.h): leases and
 * signals between handles of one store. Run against every backend in
 * store_fixture.c: a backend without the concern (SQLite) is one node — it
 * holds every lease and delivers signals to the handle's own subscribers;
 * a backend with it (PostgreSQL) lets one handle at a time hold a lease,
 * frees it when the holder goes, and carries signals between handles.
 */
#include "common.h"
#include "store_fixture.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "util/errors.h"
#include "util/str.h"

typedef struct heard {
  pthread_mutex_t lock;
  int count;
  char channel[64], payload[RR_STORE_SIGNAL_MAX];
} heard;

static void on_signal(void *arg, const char *channel, const char *payload)
{
  heard *h = arg;

  if (strcmp(payload, "*") == 0)
    return; /* "forget everything": a listener (re)connected, signals may have been missed */
  pthread_mutex_lock(&h->lock);
  h->count++;
  rr_str_copy(h->channel, sizeof(h->channel), channel);
  rr_str_copy(h->payload, sizeof(h->payload), payload);
  pthread_mutex_unlock(&h->lock);
}

static int heard_count(heard *h)
{
  int n;

  pthread_mutex_lock(&h->lock);
  n = h->count;
  pthread_mutex_unlock(&h->lock);
  return n;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

  nanosleep(&ts, NULL);
}

/* Wait up to 5 s for h to have heard `count` signals (signals between
 * handles arrive through the database, a little later). */
static void wait_heard(heard *h, int count)
{
  int i;

  for (i = 0; i < 500 && heard_count(h) < count; i++)
    sleep_ms(10);
  ck_assert_int_eq(heard_count(h), count);
}

START_TEST(a_signal_reaches_the_subscribers_of_its_channel_only)
{
  heard a = {PTHREAD_MUTEX_INITIALIZER, 0, "", ""}, b = {PTHREAD_MUTEX_INITIALIZER, 0, "", ""};

  ck_assert_msg(rr_store_subscribe(fx.store, "rr_test_a", on_signal, &a, fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  ck_assert_msg(rr_store_subscribe(fx.store, "rr_test_b", on_signal, &b, fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  ck_assert_msg(rr_store_signal(fx.store, "rr_test_a", "user:rad", fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  wait_heard(&a, 1);
  ck_assert_str_eq(a.channel, "rr_test_a");
  ck_assert_str_eq(a.payload, "user:rad");
  sleep_ms(100);
  ck_assert_int_eq(heard_count(&b), 0);

  rr_store_unsubscribe(fx.store, on_signal, &a);
  ck_assert_int_eq(rr_store_signal(fx.store, "rr_test_a", "user:x", fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_signal(fx.store, "rr_test_b", "token:ab", fx.err, sizeof(fx.err)), 0);
  wait_heard(&b, 1);
  ck_assert_str_eq(b.payload, "token:ab");
  ck_assert_int_eq(heard_count(&a), 1); /* unsubscribed: nothing more */
  rr_store_unsubscribe(fx.store, on_signal, &b);
  rr_store_unsubscribe(fx.store, on_signal, &b); /* absent: fine */
}
END_TEST

START_TEST(signals_and_subscriptions_are_bounded)
{
  heard h[RR_STORE_MAX_SUBSCRIBERS + 1];
  char big[RR_STORE_SIGNAL_MAX + 10];
  size_t i;

  for (i = 0; i <= RR_STORE_MAX_SUBSCRIBERS; i++) {
    memset(&h[i], 0, sizeof(h[i]));
    pthread_mutex_init(&h[i].lock, NULL);
  }
  for (i = 0; i < RR_STORE_MAX_SUBSCRIBERS; i++)
    ck_assert_int_eq(rr_store_subscribe(fx.store, "rr_test_full", on_signal, &h[i], fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_subscribe(fx.store, "rr_test_full", on_signal, &h[i], fx.err, sizeof(fx.err)), RR_EFULL);
  ck_assert_str_eq(fx.err, "too many signal subscribers (at most 8)");
  for (i = 0; i < RR_STORE_MAX_SUBSCRIBERS; i++)
    rr_store_unsubscribe(fx.store, on_signal, &h[i]);
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  ck_assert_int_eq(rr_store_signal(fx.store, "rr_test_full", big, fx.err, sizeof(fx.err)), RR_EINVAL);
  ck_assert_int_eq(rr_store_subscribe(fx.store, big, on_signal, &h[0], fx.err, sizeof(fx.err)), RR_EINVAL);
  ck_assert_int_eq(rr_store_subscribe(fx.store, "", on_signal, &h[0], fx.err, sizeof(fx.err)), RR_EINVAL);
}
END_TEST

START_TEST(one_handle_at_a_time_holds_a_lease)
{
  rr_store *other = rr_fx_open_named(fx.backend->name, fx.dir);
  bool held = false, other_held = true;
  int i;

  ck_assert_msg(rr_store_lease_try(fx.store, &held, "rr-test", fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  ck_assert(held);
  ck_assert_int_eq(rr_store_lease_try(fx.store, &held, "rr-test", fx.err, sizeof(fx.err)), 0); /* kept */
  ck_assert(held);
  ck_assert_int_eq(rr_store_lease_try(other, &other_held, "rr-test", fx.err, sizeof(fx.err)), 0);
  if (fx.store->cluster == NULL) {
    ck_assert(other_held); /* one node by construction: every handle holds it */
    rr_store_free(other);
    return;
  }
  ck_assert(!other_held);
  ck_assert_int_eq(rr_store_lease_try(other, &other_held, "rr-other", fx.err, sizeof(fx.err)), 0);
  ck_assert(other_held); /* another lease is another lock */

  rr_store_lease_release(fx.store, "rr-test");
  ck_assert_int_eq(rr_store_lease_try(other, &other_held, "rr-test", fx.err, sizeof(fx.err)), 0);
  ck_assert(other_held);
  ck_assert_int_eq(rr_store_lease_try(fx.store, &held, "rr-test", fx.err, sizeof(fx.err)), 0);
  ck_assert(!held);

  rr_store_free(other); /* the holder goes: the lease is free again at once */
  for (i = 0; i < 100 && !held; i++) {
    ck_assert_int_eq(rr_store_lease_try(fx.store, &held, "rr-test", fx.err, sizeof(fx.err)), 0);
    if (!held)
      sleep_ms(50);
  }
  ck_assert(held);
}
END_TEST

START_TEST(signals_reach_the_other_handles)
{
  rr_store *other = rr_fx_open_named(fx.backend->name, fx.dir);
  heard h = {PTHREAD_MUTEX_INITIALIZER, 0, "", ""};

  if (fx.store->cluster == NULL) { /* one node: a signal stays with its handle */
    rr_store_free(other);
    return;
  }
  ck_assert_msg(rr_store_subscribe(other, "rr_test_x", on_signal, &h, fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  ck_assert_msg(rr_store_signal(fx.store, "rr_test_x", "user:rad", fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  wait_heard(&h, 1);
  ck_assert_str_eq(h.payload, "user:rad");
  rr_store_unsubscribe(other, on_signal, &h);
  rr_store_free(other);
}
END_TEST

/* How many "*" (forget everything) a subscriber heard. */
static int forgets;
static pthread_mutex_t forgets_lock = PTHREAD_MUTEX_INITIALIZER;
static void on_forget(void *arg, const char *channel, const char *payload)
{
  (void)arg;
  (void)channel;
  pthread_mutex_lock(&forgets_lock);
  forgets += strcmp(payload, "*") == 0;
  pthread_mutex_unlock(&forgets_lock);
}

static int forgets_now(void)
{
  int n;

  pthread_mutex_lock(&forgets_lock);
  n = forgets;
  pthread_mutex_unlock(&forgets_lock);
  return n;
}

/* The server drops the listener's connection (a restart, a network cut):
 * the subscribers are told to forget (signals may have been missed), the
 * listener reconnects and later signals arrive again. */
START_TEST(a_dropped_listener_says_forget_and_listens_again)
{
  heard h = {PTHREAD_MUTEX_INITIALIZER, 0, "", ""};
  const char *conninfo = getenv("RR_TEST_PG_CONNINFO");
  PGconn *admin;
  PGresult *r;
  char schema[128];
  const char *params[1] = {schema};
  int before, i;

  if (fx.store->cluster == NULL || strcmp(fx.store->name, "postgresql") != 0 || conninfo == NULL)
    return;
  ck_assert_int_eq(rr_store_subscribe(fx.store, "rr_test_drop", on_forget, NULL, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_subscribe(fx.store, "rr_test_drop", on_signal, &h, fx.err, sizeof(fx.err)), 0);
  for (i = 0; i < 500 && forgets_now() < 1; i++) /* the first connection says it too */
    sleep_ms(10);
  before = forgets_now();
  admin = PQconnectdb(conninfo);
  ck_assert_int_eq(PQstatus(admin), CONNECTION_OK);
  rr_fx_pg_schema_name(schema, sizeof(schema), fx.dir);
  r = PQexecParams(admin,
                   "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN rr%'"
                   " AND pid <> pg_backend_pid() AND application_name = $1",
                   1, NULL, params, NULL, NULL, 0);
  ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
  ck_assert_int_ge(atoi(PQgetvalue(r, 0, 0)), 1);
  PQclear(r);
  PQfinish(admin);
  for (i = 0; i < 500 && forgets_now() == before; i++)
    sleep_ms(10);
  ck_assert_int_gt(forgets_now(), before);
  ck_assert_int_eq(rr_store_signal(fx.store, "rr_test_drop", "user:again", fx.err, sizeof(fx.err)), 0);
  wait_heard(&h, 1);
  ck_assert_str_eq(h.payload, "user:again");
  rr_store_unsubscribe(fx.store, on_signal, &h);
  rr_store_unsubscribe(fx.store, on_forget, NULL);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {a_signal_reaches_the_subscribers_of_its_channel_only, signals_and_subscriptions_are_bounded,
                                one_handle_at_a_time_holds_a_lease, signals_reach_the_other_handles,
                                a_dropped_listener_says_forget_and_listens_again};

  return rr_fx_run("cluster", tests, sizeof(tests) / sizeof(tests[0]));
}
