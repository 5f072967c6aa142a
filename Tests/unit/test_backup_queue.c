/*
 * The backup queue, its objects and restore (backup/backup_queue.h,
 * backup_object.h, backup_restore.h) with an in-memory target, a stand-in
 * for Orthanc's REST API (files by URI) and a poster that keeps what it is
 * given: object names and sealed content (opens with the key and the name
 * only; tampering, another key, another name refused), a copy per item with
 * its day marker and SHA-256 in the store, a failing target ending in a
 * dead letter and its re-drive, a deleted instance, restore by study and
 * since a day, a tampered object refused and not posted.
 */
#include "common.h"

#include <openssl/sha.h>

#include "backup/backup_crypto.h"
#include "backup/backup_object.h"
#include "backup/backup_queue.h"
#include "backup/backup_restore.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/str.h"

/* ---- an in-memory target ---- */

#define MAX_OBJECTS 32
typedef struct mem_target {
  rr_backup_target base;
  int *fail; /* put fails while *fail */
} mem_target;
static char *obj_key[MAX_OBJECTS];
static rr_buf obj_data[MAX_OBJECTS];
static size_t obj_count;
static int target_down;

static bool contains(const char *hay, size_t len, const char *needle)
{
  size_t i, n = strlen(needle);
  for (i = 0; i + n <= len; i++)
    if (memcmp(hay + i, needle, n) == 0)
      return true;
  return false;
}

static int find(const char *key)
{
  size_t i;
  for (i = 0; i < obj_count; i++)
    if (strcmp(obj_key[i], key) == 0)
      return (int)i;
  return -1;
}

static int mem_put(rr_backup_target *t, const char *key, const void *data, size_t len, char *err, size_t errsize)
{
  int i = find(key);
  (void)t;
  if (target_down)
    return rr_fail(err, errsize, RR_EUPSTREAM, "stand-in answered 500 InternalError");
  if (i < 0) {
    ck_assert_uint_lt(obj_count, MAX_OBJECTS);
    i = (int)obj_count++;
    obj_key[i] = strdup(key);
    rr_buf_init(&obj_data[i], 1 << 24);
  }
  rr_buf_clear(&obj_data[i]);
  return len ? rr_buf_append(&obj_data[i], data, len) : 0;
}

static int mem_get(rr_backup_target *t, rr_buf *out, const char *key, char *err, size_t errsize)
{
  int i = find(key);
  (void)t;
  if (i < 0)
    return rr_fail(err, errsize, RR_ENOTFOUND, "no such object");
  return rr_buf_append(out, obj_data[i].ptr, obj_data[i].len);
}

static int mem_list(rr_backup_target *t, rr_backup_keys *keys, const char *prefix, char *err, size_t errsize)
{
  size_t i;
  (void)t, (void)err, (void)errsize;
  for (i = 0; i < obj_count; i++)
    if (rr_str_starts_with(obj_key[i], prefix))
      rr_backup_keys_add(keys, obj_key[i], strlen(obj_key[i]));
  rr_backup_keys_sort(keys);
  return 0;
}

static int mem_exists(rr_backup_target *t, bool *out, const char *key, char *err, size_t errsize)
{
  (void)t, (void)err, (void)errsize;
  *out = find(key) >= 0;
  return 0;
}

static void mem_free(rr_backup_target *t)
{
  free(t);
}

static const rr_backup_target_ops MEM_OPS = {"mem", mem_put, mem_get, mem_list, mem_exists, mem_free};

static int make_mem(void *ctx, rr_backup_target **out, char *err, size_t errsize)
{
  mem_target *t = calloc(1, sizeof(*t));
  (void)ctx, (void)err, (void)errsize;
  t->base.ops = &MEM_OPS;
  *out = &t->base;
  return 0;
}

/* ---- Orthanc stand-ins ---- */

static const char FILE_A[] = "\0\0\0\0DICM pretend file A with enough bytes to look at";
static const char FILE_B[] = "DICM pretend file B";
static int posted;
static rr_buf posted_bytes[8];

static int fake_get_raw(void *ctx, char **out, size_t *outlen, const char *uri, size_t max, char *err, size_t errsize)
{
  const char *body = NULL;
  size_t len = 0;
  (void)ctx, (void)max;
  if (strcmp(uri, "/instances/aaaa/file") == 0)
    body = FILE_A, len = sizeof(FILE_A);
  else if (strcmp(uri, "/instances/bbbb/file") == 0)
    body = FILE_B, len = sizeof(FILE_B);
  else
    return rr_fail(err, errsize, RR_ENOTFOUND, "unknown resource");
  *out = malloc(len + 1);
  memcpy(*out, body, len);
  *outlen = len;
  return 0;
}

static int fake_post(void *ctx, json_object **out, const char *uri, const void *body, size_t len, char *err,
                     size_t errsize)
{
  (void)ctx, (void)err, (void)errsize;
  ck_assert_str_eq(uri, "/instances");
  ck_assert_int_lt(posted, 8);
  rr_buf_init(&posted_bytes[posted], 1 << 20);
  rr_buf_append(&posted_bytes[posted++], body, len);
  *out = json_tokener_parse("{\"Status\":\"Success\"}");
  return 0;
}

/* ---- fixture ---- */

static char dir[4096], err[512];
static rr_store *store;
static rr_backup_queue *q;
static uint8_t key[32];
static rr_backup_target *target;

static void setup(void)
{
  rr_backup_queue_options o;

  rr_test_tmpdir(dir, sizeof(dir));
  store = rr_test_store_open(dir);
  memset(&o, 0, sizeof(o));
  ck_assert_int_eq(rr_backup_key_generate(key, err, sizeof(err)), 0);
  memcpy(o.key, key, sizeof(key));
  o.target_name = "s3";
  o.max_attempts = 2;
  o.claimer = "unit";
  o.make_target = make_mem;
  o.source = (rr_rest_source){NULL, NULL, fake_get_raw};
  o.poster = (rr_rest_poster){NULL, fake_post};
  ck_assert_int_eq(rr_backup_queue_new(&q, store, &o), 0);
  make_mem(NULL, &target, err, sizeof(err));
  target_down = 0;
  posted = 0;
}

static void teardown(void)
{
  size_t i;
  int j;
  rr_backup_queue_free(q);
  rr_backup_target_free(target);
  rr_store_free(store);
  rr_test_rmdir(dir);
  for (i = 0; i < obj_count; i++) {
    free(obj_key[i]);
    rr_buf_dispose(&obj_data[i]);
  }
  obj_count = 0;
  for (j = 0; j < posted; j++)
    rr_buf_dispose(&posted_bytes[j]);
}

static rr_ingest_item item(const char *study, const char *sop, const char *orthanc_id)
{
  rr_ingest_item it;
  memset(&it, 0, sizeof(it));
  rr_str_copy(it.study.study_uid, sizeof(it.study.study_uid), study);
  rr_str_copy(it.instance.sop_instance_uid, sizeof(it.instance.sop_instance_uid), sop);
  rr_str_copy(it.instance.orthanc_id, sizeof(it.instance.orthanc_id), orthanc_id);
  return it;
}

static void run(bool expect_ran)
{
  bool ran = !expect_ran;
  ck_assert_int_eq(rr_backup_queue_run_one(q, target, 0, &ran), 0);
  ck_assert_int_eq(ran, expect_ran);
}

START_TEST(object_names_and_sealing)
{
  char name[RR_BACKUP_OBJECT_KEY_SIZE], sha[65], sha2[65], hex[65];
  unsigned char digest[32];
  uint8_t other[32];
  rr_buf sealed, plain;

  ck_assert_int_eq(rr_backup_object_key(name, sizeof(name), "1.2.3", "1.2.3.4"), 0);
  ck_assert_str_eq(name, "studies/1.2.3/1.2.3.4.rrb");
  ck_assert_int_eq(rr_backup_object_key(name, sizeof(name), "1.2/../x", "1"), RR_EINVAL);
  ck_assert_int_eq(rr_backup_day_key(name, sizeof(name), "2026-12-04", "1.2.3"), 0);
  ck_assert_str_eq(name, "days/2026-12-04/1.2.3");
  rr_backup_day_of(name, 0);
  ck_assert_str_eq(name, "1970-01-01");
  rr_buf_init(&sealed, 1 << 20);
  rr_buf_init(&plain, 1 << 20);
  ck_assert_int_eq(rr_backup_object_seal(&sealed, sha, key, "studies/1/2.rrb", FILE_A, sizeof(FILE_A), err, sizeof(err)), 0);
  SHA256((const unsigned char *)FILE_A, sizeof(FILE_A), digest);
  rr_hex_encode(hex, digest, 32);
  ck_assert_str_eq(sha, hex);
  ck_assert_mem_eq(sealed.ptr, "RRB1", 4);
  ck_assert(!contains(sealed.ptr, sealed.len, "DICM"));
  ck_assert_int_eq(rr_backup_object_open(&plain, sha2, key, "studies/1/2.rrb", sealed.ptr, sealed.len, err, sizeof(err)), 0);
  ck_assert_uint_eq(plain.len, sizeof(FILE_A));
  ck_assert_mem_eq(plain.ptr, FILE_A, sizeof(FILE_A));
  ck_assert_str_eq(sha2, sha);
  /* another name, another key, one bit changed: refused, nothing given */
  rr_buf_clear(&plain);
  ck_assert_int_eq(rr_backup_object_open(&plain, sha2, key, "studies/1/3.rrb", sealed.ptr, sealed.len, err, sizeof(err)), RR_EINVAL);
  memcpy(other, key, 32);
  other[0] ^= 1;
  ck_assert_int_eq(rr_backup_object_open(&plain, sha2, other, "studies/1/2.rrb", sealed.ptr, sealed.len, err, sizeof(err)), RR_EINVAL);
  sealed.ptr[sealed.len / 2] ^= 0x20;
  ck_assert_int_eq(rr_backup_object_open(&plain, sha2, key, "studies/1/2.rrb", sealed.ptr, sealed.len, err, sizeof(err)), RR_EINVAL);
  ck_assert_uint_eq(plain.len, 0);
  rr_buf_dispose(&sealed);
  rr_buf_dispose(&plain);
}
END_TEST

START_TEST(queue_copies_each_item_once_with_its_marker)
{
  rr_ingest_item items[3] = {item("1.2.3", "1.2.3.1", "aaaa"), item("1.2.3", "1.2.3.2", "bbbb"), item("bad uid", "x", "cccc")};
  rr_backup_item_list *l = NULL;
  rr_backup_query query = {.state = "done", .limit = 10};
  rr_backup_status st;
  char day[11], marker[128], sha[65];
  rr_buf plain;
  int i;

  ck_assert_int_eq(rr_backup_queue_enqueue_items(q, items, 3, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_backup_queue_enqueue_items(q, items, 2, err, sizeof(err)), 0); /* again: ignored */
  run(true);
  run(true);
  run(false);
  ck_assert_int_ge(i = find("studies/1.2.3/1.2.3.1.rrb"), 0);
  rr_buf_init(&plain, 1 << 20);
  ck_assert_int_eq(rr_backup_object_open(&plain, sha, key, "studies/1.2.3/1.2.3.1.rrb", obj_data[i].ptr, obj_data[i].len, err, sizeof(err)), 0);
  ck_assert_mem_eq(plain.ptr, FILE_A, sizeof(FILE_A));
  rr_buf_dispose(&plain);
  ck_assert_int_ge(find("studies/1.2.3/1.2.3.2.rrb"), 0);
  rr_backup_day_of(day, rr_clock_unix_ms());
  snprintf(marker, sizeof(marker), "days/%s/1.2.3", day);
  ck_assert_int_ge(find(marker), 0);
  ck_assert_uint_eq(obj_count, 3); /* two objects, one marker */
  ck_assert_int_eq(rr_store_backup_list(store, &l, &query, err, sizeof(err)), 0);
  ck_assert_uint_eq(l->count, 2);
  ck_assert_str_eq(l->items[0].sha256, sha);
  ck_assert_int_eq(l->items[0].size, (int64_t)sizeof(FILE_A));
  rr_backup_item_list_free(l);
  ck_assert_int_eq(rr_backup_queue_status(q, &st, err, sizeof(err)), 0);
  ck_assert_int_eq(st.counts.done, 2);
  ck_assert_int_eq(st.copied_since_start, 2);
  ck_assert_str_eq(st.target, "s3");
}
END_TEST

START_TEST(failing_target_dead_letter_and_redrive)
{
  rr_ingest_item items[2] = {item("1.2.3", "1.2.3.1", "aaaa"), item("1.2.3", "1.2.3.9", "gone")};
  rr_backup_status st;
  int64_t n = 0;

  ck_assert_int_eq(rr_backup_queue_enqueue_items(q, items, 2, err, sizeof(err)), 0);
  target_down = 1;
  run(true); /* aaaa: try 1 fails, back-off 2 s */
  run(true); /* gone: not in Orthanc */
  ck_assert_int_eq(rr_backup_queue_status(q, &st, err, sizeof(err)), 0);
  ck_assert_int_eq(st.counts.queued, 2);
  ck_assert_ptr_nonnull(strstr(st.counts.last_error, "no longer in Orthanc"));
  /* a dead letter once max_attempts (2) are used: re-drive both, fail them again */
  ck_assert_int_eq(rr_store_backup_redrive(store, &n, 0, 0, err, sizeof(err)), 0); /* nothing failed yet */
  ck_assert_int_eq(n, 0);
  {
    rr_backup_item it;
    /* the second try, claimed by hand as due (the back-off would make the test wait) */
    ck_assert_int_eq(rr_store_backup_claim(store, &it, "s3", "unit/1", 60000, 2, INT64_MAX / 2, err, sizeof(err)), 0);
    ck_assert_int_eq(rr_store_backup_fail(store, NULL, it.id, "unit/1", "stand-in answered 500", 2, 1, err, sizeof(err)), 0);
    ck_assert_int_eq(rr_store_backup_get(store, &it, it.id, err, sizeof(err)), 0);
    ck_assert_str_eq(it.state, "failed");
  }
  target_down = 0;
  ck_assert_int_eq(rr_backup_queue_redrive(q, &n, 0, err, sizeof(err)), 0);
  ck_assert_int_eq(n, 1);
  run(true);
  ck_assert_int_ge(find("studies/1.2.3/1.2.3.1.rrb"), 0);
}
END_TEST

START_TEST(restore_by_study_and_since_refuses_tampering)
{
  rr_ingest_item items[2] = {item("1.2.3", "1.2.3.1", "aaaa"), item("1.2.4", "1.2.4.1", "bbbb")};
  rr_backup_restore_request rq = {.study_uid = "1.2.3"};
  rr_backup_restore_result *r = NULL;
  int i;

  ck_assert_int_eq(rr_backup_queue_enqueue_items(q, items, 2, err, sizeof(err)), 0);
  run(true);
  run(true);
  ck_assert_int_eq(rr_backup_queue_restore(q, &r, &rq, err, sizeof(err)), 0);
  ck_assert_int_eq(r->restored, 1);
  ck_assert_int_eq(r->refused, 0);
  ck_assert_int_eq(posted, 1);
  ck_assert_uint_eq(posted_bytes[0].len, sizeof(FILE_A));
  ck_assert_mem_eq(posted_bytes[0].ptr, FILE_A, sizeof(FILE_A));
  rr_backup_restore_result_free(r);
  /* since 2000-01-01: both studies; one object tampered: refused, not posted */
  i = find("studies/1.2.4/1.2.4.1.rrb");
  obj_data[i].ptr[obj_data[i].len - 3] ^= 1;
  rq = (rr_backup_restore_request){.since_day = "2000-01-01"};
  ck_assert_int_eq(rr_backup_queue_restore(q, &r, &rq, err, sizeof(err)), 0);
  ck_assert_int_eq(r->studies, 2);
  ck_assert_int_eq(r->restored, 1);
  ck_assert_int_eq(r->refused, 1);
  ck_assert_uint_eq(r->error_count, 1);
  ck_assert_str_eq(r->errors[0].object_key, "studies/1.2.4/1.2.4.1.rrb");
  ck_assert_int_eq(posted, 2);
  rr_backup_restore_result_free(r);
  /* a future day: nothing; bad requests */
  rq = (rr_backup_restore_request){.since_day = "2999-01-01"};
  ck_assert_int_eq(rr_backup_queue_restore(q, &r, &rq, err, sizeof(err)), 0);
  ck_assert_int_eq(r->objects, 0);
  rr_backup_restore_result_free(r);
  rq = (rr_backup_restore_request){.since_day = "yesterday"};
  ck_assert_int_eq(rr_backup_queue_restore(q, &r, &rq, err, sizeof(err)), RR_EINVAL);
  rq = (rr_backup_restore_request){0};
  ck_assert_int_eq(rr_backup_queue_restore(q, &r, &rq, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(r);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("backup queue");
  TCase *tc = tcase_create("backup queue");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, object_names_and_sealing);
  tcase_add_test(tc, queue_copies_each_item_once_with_its_marker);
  tcase_add_test(tc, failing_target_dead_letter_and_redrive);
  tcase_add_test(tc, restore_by_study_and_since_refuses_tampering);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
