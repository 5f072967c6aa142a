/*
 * The audit chain: appending through the store, verifying, and detecting
 * records edited, deleted or forged directly in the SQLite database.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <time.h>

#include "audit/audit.h"

#include "audit/anchor.h"
#include "audit/chain.h"
#include "common.h"
#include "util/errors.h"
#include "util/sha256.h"
#include "util/str.h"

static char dir[4096];
static rr_store *store;
static char err[512];

static void setup(void)
{
  int i;
  rr_test_tmpdir(dir, sizeof(dir));
  store = rr_test_store_open(dir);
  for (i = 0; i < 25; i++) {
    rr_audit_rec r;
    memset(&r, 0, sizeof(r));
    r.at_ms = 1700000000000LL + i;
    rr_str_copy(r.username, sizeof(r.username), i % 2 ? "alice" : "bob");
    rr_str_copy(r.role, sizeof(r.role), "radiologist");
    rr_str_copy(r.source, sizeof(r.source), "127.0.0.1");
    rr_str_copy(r.action, sizeof(r.action), "study.view");
    snprintf(r.resource, sizeof(r.resource), "1.2.840.%d", i);
    rr_str_copy(r.outcome, sizeof(r.outcome), "success");
    ck_assert_int_eq(rr_store_audit_append(store, &r, rr_audit_hash, err, sizeof(err)), 0);
  }
}

static void teardown(void)
{
  rr_store_free(store);
  rr_test_rmdir(dir);
}

/* Change the database behind the store's back, as an intruder would. */
static void tamper(const char *sql)
{
  char path[4200];
  sqlite3 *db = NULL;
  char *msg = NULL;
  snprintf(path, sizeof(path), "%s/sub/dir/test.db", dir);
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "tamper: %s", msg ? msg : "");
  sqlite3_close(db);
}

static rr_audit_verification verify(void)
{
  rr_audit_verification v;
  ck_assert_int_eq(rr_audit_verify(&v, store, err, sizeof(err)), 0);
  return v;
}

START_TEST(sha256_known_answer)
{
  char out[65];
  ck_assert_int_eq(rr_sha256_hex(out, "abc", 3), 0);
  ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(hash_covers_every_field)
{
  rr_audit_rec a, b;
  char ha[65], hb[65];
  memset(&a, 0, sizeof(a));
  a.seq = 1;
  rr_str_copy(a.username, sizeof(a.username), "ab");
  rr_str_copy(a.role, sizeof(a.role), "c");
  b = a;
  /* same concatenation, other split: the length prefix tells them apart */
  rr_str_copy(b.username, sizeof(b.username), "a");
  rr_str_copy(b.role, sizeof(b.role), "bc");
  ck_assert_int_eq(rr_audit_hash(ha, "0", &a), 0);
  ck_assert_int_eq(rr_audit_hash(hb, "0", &b), 0);
  ck_assert_str_ne(ha, hb);
  b = a;
  b.at_ms = 1;
  ck_assert_int_eq(rr_audit_hash(hb, "0", &b), 0);
  ck_assert_str_ne(ha, hb);
  ck_assert_int_eq(rr_audit_hash(hb, "1", &a), 0);
  ck_assert_str_ne(ha, hb);
}
END_TEST

START_TEST(an_untouched_chain_verifies)
{
  rr_audit_verification v = verify();
  ck_assert(v.intact);
  ck_assert_int_eq(v.records, 25);
  ck_assert_int_eq(v.first_broken, 0);
}
END_TEST

START_TEST(an_edited_record_is_found)
{
  rr_audit_verification v;
  tamper("UPDATE audit SET outcome='failure' WHERE seq=12");
  v = verify();
  ck_assert(!v.intact);
  ck_assert_int_eq(v.first_broken, 12);
  ck_assert(strstr(v.reason, "edited") != NULL);
}
END_TEST

START_TEST(a_deleted_record_is_found)
{
  rr_audit_verification v;
  tamper("DELETE FROM audit WHERE seq=7");
  v = verify();
  ck_assert(!v.intact);
  ck_assert_int_eq(v.first_broken, 8);
  ck_assert(strstr(v.reason, "missing") != NULL);
}
END_TEST

START_TEST(a_rehashed_record_breaks_the_next_link)
{
  rr_audit_list *l = NULL;
  rr_audit_filter f;
  rr_audit_verification v;
  char sql[512];
  /* the intruder edits record 5 and recomputes its hash, but cannot fix
   * record 6's link without rewriting the rest of the chain */
  memset(&f, 0, sizeof(f));
  f.after_seq = 4;
  f.limit = 1;
  ck_assert_int_eq(rr_store_audit_query(store, &l, &f, err, sizeof(err)), 0);
  rr_str_copy(l->items[0].outcome, sizeof(l->items[0].outcome), "denied");
  ck_assert_int_eq(rr_audit_hash(l->items[0].hash, l->items[0].prev_hash, &l->items[0]), 0);
  snprintf(sql, sizeof(sql), "UPDATE audit SET outcome='denied', hash='%s' WHERE seq=5", l->items[0].hash);
  rr_audit_list_free(l);
  tamper(sql);
  v = verify();
  ck_assert(!v.intact);
  ck_assert_int_eq(v.first_broken, 6);
  ck_assert(strstr(v.reason, "link") != NULL);
}
END_TEST

START_TEST(appends_continue_the_chain_after_reopening)
{
  rr_audit_rec r;
  rr_store_free(store);
  store = rr_test_store_open(dir);
  memset(&r, 0, sizeof(r));
  rr_str_copy(r.action, sizeof(r.action), "logout");
  rr_str_copy(r.outcome, sizeof(r.outcome), "success");
  ck_assert_int_eq(rr_store_audit_append(store, &r, rr_audit_hash, err, sizeof(err)), 0);
  ck_assert_int_eq(r.seq, 26);
  ck_assert(verify().intact);
}
END_TEST

static void *log_many(void *arg)
{
  rr_audit *a = arg;
  int i;
  for (i = 0; i < 50; i++)
    rr_audit_log(a, "carol", "admin", "10.0.0.1", "user.update", "dave", "success", NULL);
  return NULL;
}

START_TEST(writer_appends_from_many_threads)
{
  rr_audit *a = NULL;
  rr_audit_stats st;
  pthread_t t[4];
  int i;
  ck_assert_int_eq(rr_audit_new(&a, store, 1000), 0);
  ck_assert_int_eq(rr_audit_start(a), 0);
  for (i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, log_many, a);
  for (i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  ck_assert_int_eq(rr_audit_flush(a, 10000), 0);
  rr_audit_get_stats(a, &st);
  ck_assert_int_eq(st.written, 200);
  ck_assert_int_eq(st.dropped, 0);
  ck_assert_int_eq(st.queued, 0);
  rr_audit_free(a);
  ck_assert(verify().intact);
  ck_assert_int_eq(verify().records, 225);
}
END_TEST

START_TEST(a_full_queue_drops_and_counts)
{
  rr_audit *a = NULL;
  rr_audit_stats st;
  int i;
  ck_assert_int_eq(rr_audit_new(&a, store, 3), 0); /* not started: nothing drains */
  for (i = 0; i < 5; i++)
    rr_audit_log(a, NULL, NULL, NULL, "login", NULL, "failure", NULL);
  rr_audit_get_stats(a, &st);
  ck_assert_int_eq(st.queued, 3);
  ck_assert_int_eq(st.dropped, 2);
  ck_assert_int_eq(rr_audit_flush(a, 50), RR_EFULL);
  ck_assert_int_eq(rr_audit_start(a), 0);
  ck_assert_int_eq(rr_audit_flush(a, 10000), 0);
  rr_audit_get_stats(a, &st);
  ck_assert_int_eq(st.written, 3);
  rr_audit_free(a);
}
END_TEST

START_TEST(a_failing_store_keeps_records_and_counts_failures)
{
  char path[4200];
  sqlite3 *db = NULL;
  rr_store *fast = NULL;
  rr_sqlite_options o;
  rr_audit *a = NULL;
  rr_audit_stats st;
  int i;
  snprintf(path, sizeof(path), "%s/sub/dir/test.db", dir);
  o.path = path;
  o.reader_count = 1;
  o.busy_timeout_ms = 100;
  ck_assert_int_eq(rr_store_sqlite_open(&fast, &o, err, sizeof(err)), 0);
  /* another process holds the write lock */
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
  ck_assert_int_eq(rr_audit_new(&a, fast, 100), 0);
  ck_assert_int_eq(rr_audit_start(a), 0);
  rr_audit_log(a, "eve", "physician", "10.0.0.9", "study.view", "1.2.3", "success", NULL);
  for (i = 0; i < 100; i++) {
    rr_audit_get_stats(a, &st);
    if (st.failures >= 2)
      break;
    nanosleep(&(struct timespec){0, 20000000L}, NULL);
  }
  ck_assert_int_ge(st.failures, 2);
  ck_assert_int_eq(st.queued, 1);
  ck_assert(st.last_error[0] != '\0');
  ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  ck_assert_int_eq(rr_audit_flush(a, 10000), 0);
  rr_audit_get_stats(a, &st);
  ck_assert_int_eq(st.written, 1);
  ck_assert_int_eq(st.dropped, 0);
  ck_assert_str_eq(st.last_error, "");
  rr_audit_free(a);
  rr_store_free(fast);
  ck_assert(verify().intact);
}
END_TEST

/* ------------------------------------------------------------ head anchor */

static void anchor_path(char *out, size_t size)
{
  snprintf(out, size, "%s/sub/dir/test.db.audit-head", dir);
}

START_TEST(the_anchor_file_round_trips_and_refuses_garbage)
{
  char path[4300];
  rr_audit_anchor w, r;
  FILE *f;

  anchor_path(path, sizeof(path));
  ck_assert_int_eq(rr_audit_anchor_read(&r, path, err, sizeof(err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_audit_anchor_of_store(&w, store, err, sizeof(err)), 0);
  ck_assert_int_eq(w.seq, 25);
  ck_assert_int_eq(rr_audit_anchor_write(path, &w, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_audit_anchor_read(&r, path, err, sizeof(err)), 0);
  ck_assert_int_eq(r.seq, 25);
  ck_assert_str_eq(r.hash, w.hash);
  memset(&w, 0, sizeof(w)); /* an empty trail */
  ck_assert_int_eq(rr_audit_anchor_write(path, &w, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_audit_anchor_read(&r, path, err, sizeof(err)), 0);
  ck_assert_int_eq(r.seq, 0);
  f = fopen(path, "w");
  fputs("rr-audit-anchor-v1 7 not-a-hash\n", f);
  fclose(f);
  ck_assert_int_eq(rr_audit_anchor_read(&r, path, err, sizeof(err)), RR_EINVAL);
}
END_TEST

START_TEST(the_anchor_check_names_the_missing_head)
{
  rr_audit_anchor a;
  char reason[256];
  bool ok;

  ck_assert_int_eq(rr_audit_anchor_of_store(&a, store, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_audit_anchor_check(&ok, reason, sizeof(reason), &a, store, err, sizeof(err)), 0);
  ck_assert(ok);
  tamper("DELETE FROM audit WHERE seq > 22");
  ck_assert(verify().intact); /* the chain alone cannot see it */
  ck_assert_int_eq(rr_audit_anchor_check(&ok, reason, sizeof(reason), &a, store, err, sizeof(err)), 0);
  ck_assert(!ok);
  ck_assert_str_eq(reason, "head missing: 3 records deleted after #22 (the anchor is at #25)");
}
END_TEST

/* The writer keeps the anchor current; deleting the head while stopped is
 * found at the next start, and the anchor file is left as evidence. */
START_TEST(the_writer_anchors_and_a_restart_finds_a_truncation)
{
  char path[4300];
  rr_audit *a = NULL;
  rr_audit_stats st;
  rr_audit_verification v;
  rr_audit_anchor r;

  anchor_path(path, sizeof(path));
  ck_assert_int_eq(rr_audit_new(&a, store, 100), 0);
  ck_assert_int_eq(rr_audit_set_anchor(a, path, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_audit_start(a), 0);
  rr_audit_log(a, "carol", "admin", "", "login", "", "success", "");
  rr_audit_log(a, "carol", "admin", "", "logout", "", "success", "");
  ck_assert_int_eq(rr_audit_flush(a, 10000), 0);
  rr_audit_get_stats(a, &st);
  ck_assert(st.anchored);
  ck_assert_int_eq(st.anchor_seq, 27);
  ck_assert_str_eq(st.anchor_problem, "");
  v = verify();
  ck_assert_int_eq(rr_audit_check_head(a, &v, store, err, sizeof(err)), 0);
  ck_assert(v.intact);
  rr_audit_free(a);

  tamper("DELETE FROM audit WHERE seq > 24");
  ck_assert_int_eq(rr_audit_new(&a, store, 100), 0);
  ck_assert_int_eq(rr_audit_set_anchor(a, path, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_audit_start(a), 0);
  rr_audit_log(a, "mallory", "admin", "", "login", "", "success", ""); /* takes seq 25 again */
  ck_assert_int_eq(rr_audit_flush(a, 10000), 0);
  rr_audit_get_stats(a, &st);
  ck_assert_str_eq(st.anchor_problem, "head missing: 3 records deleted after #24 (the anchor is at #27)");
  v = verify();
  ck_assert(v.intact);
  ck_assert_int_eq(rr_audit_check_head(a, &v, store, err, sizeof(err)), 0);
  ck_assert(!v.intact);
  ck_assert(strstr(v.reason, "head missing: 3 records deleted after #24") != NULL);
  ck_assert_int_eq(rr_audit_anchor_read(&r, path, err, sizeof(err)), 0);
  ck_assert_int_eq(r.seq, 27); /* kept */
  rr_audit_free(a);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("audit chain");
  TCase *tc = tcase_create("chain");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, sha256_known_answer);
  tcase_add_test(tc, hash_covers_every_field);
  tcase_add_test(tc, an_untouched_chain_verifies);
  tcase_add_test(tc, an_edited_record_is_found);
  tcase_add_test(tc, a_deleted_record_is_found);
  tcase_add_test(tc, a_rehashed_record_breaks_the_next_link);
  tcase_add_test(tc, appends_continue_the_chain_after_reopening);
  tcase_add_test(tc, writer_appends_from_many_threads);
  tcase_add_test(tc, a_full_queue_drops_and_counts);
  tcase_add_test(tc, a_failing_store_keeps_records_and_counts_failures);
  tcase_add_test(tc, the_anchor_file_round_trips_and_refuses_garbage);
  tcase_add_test(tc, the_anchor_check_names_the_missing_head);
  tcase_add_test(tc, the_writer_anchors_and_a_restart_finds_a_truncation);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
