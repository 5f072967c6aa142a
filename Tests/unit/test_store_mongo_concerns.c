/*
 * The MongoDB backend's concerns where MongoDB differs from SQL (no
 * transactions, no triggers, 16 MiB documents): what the conformance suites
 * cannot reach from the store interface alone. Runs on the mongodb backend only (built with
 * -DENABLE_MONGODB=ON, a server named by RR_TEST_MONGODB_URI or
 * READING_ROOM_TEST_MONGODB_URI; else it is reported SKIPPED).
 */
#include "common.h"
#include "store_fixture.h"

#include "store/store_mongo_internal.h"
#include "util/errors.h"
#include "util/sha256.h"
#include "util/str.h"

static int test_hash(char out[RR_HASH_HEX_SIZE], const char *prev, const rr_audit_rec *rec)
{
  snprintf(out, RR_HASH_HEX_SIZE, "%.8s-%lld-%s", prev, (long long)rec->seq, rec->action);
  return 0;
}

static bool is_mongo(void)
{
  return strcmp(fx.backend->name, "mongodb") == 0;
}

/* Delete the documents of collection `name` matching filter (taken). */
static void delete_where(const char *name, bson_t *filter)
{
  rr_mongo_store *s = fx.store->impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, name);
  bson_error_t e;

  ck_assert_msg(mongoc_collection_delete_many(coll, filter, NULL, NULL, &e), "%s", e.message);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(filter);
}

/* An append that moved the chain head and died before writing its record
 * (the process was killed between the two writes) leaves no gap: the next
 * append writes that record from the head first. */
START_TEST(audit_interrupted_append_leaves_no_gap)
{
  rr_audit_rec r;
  rr_audit_filter f;
  rr_audit_list *l = NULL;
  char want[RR_HASH_HEX_SIZE];
  int i;

  if (!is_mongo())
    return;
  for (i = 0; i < 3; i++) {
    memset(&r, 0, sizeof(r));
    snprintf(r.action, sizeof(r.action), "step.%d", i);
    ck_assert_int_eq(rr_store_audit_append(fx.store, &r, test_hash, fx.err, sizeof(fx.err)), 0);
  }
  delete_where("audit", BCON_NEW("seq", BCON_INT64(3))); /* the record of the last append is lost */
  memset(&r, 0, sizeof(r));
  rr_str_copy(r.action, sizeof(r.action), "step.3");
  ck_assert_int_eq(rr_store_audit_append(fx.store, &r, test_hash, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(r.seq, 4);
  memset(&f, 0, sizeof(f));
  f.limit = 100;
  ck_assert_int_eq(rr_store_audit_query(fx.store, &l, &f, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(l->count, 4);
  for (i = 0; i < 4; i++) {
    ck_assert_int_eq(l->items[i].seq, i + 1);
    if (i > 0)
      ck_assert_str_eq(l->items[i].prev_hash, l->items[i - 1].hash);
    test_hash(want, l->items[i].prev_hash, &l->items[i]);
    ck_assert_str_eq(l->items[i].hash, want);
  }
  ck_assert_str_eq(l->items[2].action, "step.2");
  rr_audit_list_free(l);
}
END_TEST

/* A user name's uniqueness does not rest on the unique index alone: a
 * create is an upsert on the lower-cased name, so a taken name is refused
 * even by a server that does not enforce unique indexes (CongoDB) and from
 * another handle (node). */
START_TEST(identity_taken_name_refused_from_another_handle)
{
  rr_store *other;
  rr_user_rec u;
  rr_user_list *list = NULL;

  if (!is_mongo())
    return;
  other = rr_fx_open_named(fx.backend->name, fx.dir);
  ck_assert_ptr_nonnull(other);
  memset(&u, 0, sizeof(u));
  rr_str_copy(u.username, sizeof(u.username), "Dana");
  rr_str_copy(u.role, sizeof(u.role), "admin");
  rr_str_copy(u.password_hash, sizeof(u.password_hash), "$argon2id$x");
  ck_assert_int_eq(rr_store_user_create(fx.store, &u, fx.err, sizeof(fx.err)), 0);
  rr_str_copy(u.username, sizeof(u.username), "DANA");
  rr_str_copy(u.role, sizeof(u.role), "technician");
  ck_assert_int_eq(rr_store_user_create(other, &u, fx.err, sizeof(fx.err)), RR_EEXISTS);
  ck_assert_str_eq(fx.err, "a user with this name exists already");
  ck_assert_int_eq(rr_store_user_list(other, &list, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 1);
  ck_assert_str_eq(list->items[0].username, "Dana");
  ck_assert_str_eq(list->items[0].role, "admin"); /* the refused create changed nothing */
  rr_user_list_free(list);
  rr_store_free(other);
}
END_TEST

/* The worklist's AI state is kept in `study_ai` without triggers: every
 * write of an analysis recomputes its study's document. */
START_TEST(ai_study_state_document_follows_the_analyses)
{
  rr_mongo_store *s;
  rr_ai_analysis a;
  rr_ai_review r;
  mongoc_client_t *c;
  mongoc_collection_t *coll;
  mongoc_cursor_t *cur;
  const bson_t *doc;
  bson_t *filter;
  char ai[32], review[32];
  int64_t n = 0;

  if (!is_mongo())
    return;
  s = fx.store->impl;
  memset(&a, 0, sizeof(a));
  rr_str_copy(a.id, sizeof(a.id), "s1");
  rr_str_copy(a.study_uid, sizeof(a.study_uid), "1.2.840.9");
  rr_str_copy(a.status, sizeof(a.status), "queued");
  a.requested_at = 10;
  ck_assert_int_eq(rr_store_ai_create(fx.store, &a, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_ai_claim_next(fx.store, &a, 20, fx.err, sizeof(fx.err)), 0);
  rr_str_copy(a.status, sizeof(a.status), "completed");
  ck_assert_int_eq(rr_store_ai_update(fx.store, &a, fx.err, sizeof(fx.err)), 0);
  rr_ai_analysis_dispose(&a);
  memset(&r, 0, sizeof(r));
  rr_str_copy(r.analysis_id, sizeof(r.analysis_id), "s1");
  rr_str_copy(r.reviewer, sizeof(r.reviewer), "rad");
  rr_str_copy(r.review_status, sizeof(r.review_status), "rejected");
  ck_assert_int_eq(rr_store_ai_review_add(fx.store, &r, "no", fx.err, sizeof(fx.err)), 0);

  c = rr_mongo_pop(s);
  coll = rr_mongo_collection(s, c, "study_ai");
  filter = BCON_NEW("study_uid", BCON_UTF8("1.2.840.9"));
  cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
  while (mongoc_cursor_next(cur, &doc)) {
    n++;
    rr_mongo_copy(ai, sizeof(ai), doc, "ai_status");
    rr_mongo_copy(review, sizeof(review), doc, "review_status");
  }
  mongoc_cursor_destroy(cur);
  bson_destroy(filter);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  ck_assert_int_eq(n, 1);
  ck_assert_str_eq(ai, "completed");
  ck_assert_str_eq(review, "rejected");
}
END_TEST

/* Insert doc (taken) into collection `name`; the driver's error code. */
static uint32_t insert_raw(const char *name, bson_t *doc)
{
  rr_mongo_store *s = fx.store->impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, name);
  bson_error_t e;
  uint32_t code = 0;

  if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &e))
    code = e.code;
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(doc);
  return code;
}

/* The unique indexes the concerns create hold against writes that bypass
 * their upserts (two nodes racing): a second user with the same folded
 * name, a second audit record with the same seq, a second running report
 * output for one claimer are refused with duplicate key 11000. CongoDB does
 * not enforce unique indexes: SKIPPED there. */
START_TEST(unique_indexes_refuse_duplicates)
{
  if (!is_mongo() || rr_fx_skip_unless("unique indexes"))
    return;
  ck_assert_uint_eq(insert_raw("users", BCON_NEW("name_lower", BCON_UTF8("eve"), "username", BCON_UTF8("eve"))), 0);
  ck_assert_uint_eq(insert_raw("users", BCON_NEW("name_lower", BCON_UTF8("eve"), "username", BCON_UTF8("EVE"))), 11000);
  ck_assert_uint_eq(insert_raw("audit", BCON_NEW("seq", BCON_INT64(77))), 0);
  ck_assert_uint_eq(insert_raw("audit", BCON_NEW("seq", BCON_INT64(77))), 11000);
  ck_assert_uint_eq(insert_raw("report_outputs", BCON_NEW("report_id", BCON_INT64(1), "version", BCON_INT64(1), "kind",
                                                          BCON_UTF8("pdf"), "state", BCON_UTF8("running"),
                                                          "claimed_by", BCON_UTF8("node-a"))), 0);
  ck_assert_uint_eq(insert_raw("report_outputs", BCON_NEW("report_id", BCON_INT64(1), "version", BCON_INT64(1), "kind",
                                                          BCON_UTF8("sr"), "state", BCON_UTF8("running"),
                                                          "claimed_by", BCON_UTF8("node-a"))), 11000);
  ck_assert_uint_eq(insert_raw("study_reports", BCON_NEW("study_uid", BCON_UTF8("1.2.9"))), 0);
  ck_assert_uint_eq(insert_raw("study_reports", BCON_NEW("study_uid", BCON_UTF8("1.2.9"))), 11000);
  ck_assert_uint_eq(insert_raw("reports", BCON_NEW("id", BCON_INT64(5))), 0);
  ck_assert_uint_eq(insert_raw("reports", BCON_NEW("id", BCON_INT64(5))), 11000);
}
END_TEST


/* Documents of collection `name` matching filter (taken). */
static int64_t count_where(const char *name, bson_t *filter)
{
  rr_mongo_store *s = fx.store->impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, name);
  bson_error_t e;
  int64_t n = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &e);

  ck_assert_msg(n >= 0, "%s", e.message);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(filter);
  return n;
}

/* One update_many on collection `name` (filter and update taken). */
static void update_where(const char *name, bson_t *filter, bson_t *update)
{
  rr_mongo_store *s = fx.store->impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, name);
  bson_error_t e;

  ck_assert_msg(mongoc_collection_update_many(coll, filter, update, NULL, NULL, &e), "%s", e.message);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(filter);
  bson_destroy(update);
}

static rr_report_signature sign_with(const unsigned char *pdf, size_t size, char hex[RR_HASH_HEX_SIZE])
{
  rr_report_signature sig;

  ck_assert_int_eq(rr_sha256_hex(hex, pdf, size), 0);
  memset(&sig, 0, sizeof(sig));
  sig.signed_by = "rad";
  sig.signed_at = 20000;
  sig.pdf = pdf;
  sig.pdf_size = size;
  sig.pdf_sha256 = hex;
  return sig;
}

/* A PDF larger than a MongoDB document (16 MiB) is kept in chunks and
 * read back byte for byte. */
START_TEST(reports_pdf_larger_than_a_document)
{
  size_t size = 20u * 1024u * 1024u + 17u, i;
  unsigned char *pdf = malloc(size);
  char hex[RR_HASH_HEX_SIZE];
  rr_report_signature sig;
  rr_report_expect e = {1, 1};
  rr_report_version v;
  int64_t id = 0;

  if (!is_mongo()) {
    free(pdf);
    return;
  }
  ck_assert_ptr_nonnull(pdf);
  for (i = 0; i < size; i++)
    pdf[i] = (unsigned char)(i * 131u + (i >> 13));
  rr_fx_load_worklist();
  ck_assert_int_eq(rr_store_report_create(fx.store, &id, "1.2.3.1", "t", "{}", "rad", 10000, fx.err, sizeof(fx.err)), 0);
  sig = sign_with(pdf, size, hex);
  ck_assert_msg(rr_store_report_sign(fx.store, NULL, id, &e, "final", &sig, fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  ck_assert_int_eq(count_where("report_pdfs", BCON_NEW("report_id", BCON_INT64(id))), 3);
  ck_assert_msg(rr_store_report_pdf(fx.store, &v, id, 1, fx.err, sizeof(fx.err)) == 0, "%s", fx.err);
  ck_assert_uint_eq(v.pdf_size, size);
  ck_assert_int_eq(memcmp(v.pdf, pdf, size), 0);
  ck_assert_str_eq(v.pdf_sha256, hex);
  rr_report_version_dispose(&v);
  /* a missing chunk is an error, never a shorter PDF */
  delete_where("report_pdfs", BCON_NEW("report_id", BCON_INT64(id), "n", BCON_INT32(1)));
  ck_assert_int_eq(rr_store_report_pdf(fx.store, &v, id, 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_ptr_null(v.pdf);
  free(pdf);
}
END_TEST

/* A study claimed for a report whose document never came (its creator
 * died between the two writes) is free again after a minute, not before;
 * a refused signature leaves no PDF chunk behind. */
START_TEST(reports_dead_claim_and_refused_signature)
{
  static const unsigned char pdf[] = "%PDF-1.5 refused";
  char hex[RR_HASH_HEX_SIZE];
  rr_report_signature sig;
  rr_report_expect stale = {1, 7};
  int64_t id = 0;

  if (!is_mongo())
    return;
  rr_fx_load_worklist();
  ck_assert_int_eq(rr_store_report_opened(fx.store, "1.2.3.1", 1000, fx.err, sizeof(fx.err)), 0);
  update_where("study_reports", BCON_NEW("study_uid", BCON_UTF8("1.2.3.1")),
               BCON_NEW("$set", "{", "open_report", BCON_INT64(999), "claimed_at", BCON_INT64(1000), "}"));
  ck_assert_int_eq(rr_store_report_create(fx.store, &id, "1.2.3.1", "t", "{}", "rad", 31000, fx.err, sizeof(fx.err)),
                   RR_EEXISTS);
  ck_assert_msg(strstr(fx.err, "(999)") != NULL, "%s", fx.err);
  ck_assert_int_eq(rr_store_report_create(fx.store, &id, "1.2.3.1", "t", "{}", "rad", 71000, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_ne(id, 999);
  ck_assert_int_eq(count_where("study_reports", BCON_NEW("study_uid", BCON_UTF8("1.2.3.1"), "open_report",
                                                         BCON_INT64(id))), 1);
  sig = sign_with(pdf, sizeof(pdf), hex);
  ck_assert_int_eq(rr_store_report_sign(fx.store, NULL, id, &stale, "final", &sig, fx.err, sizeof(fx.err)), RR_ESTALE);
  ck_assert_int_eq(count_where("report_pdfs", BCON_NEW("report_id", BCON_INT64(id))), 0);
}
END_TEST

/* The worklist's report fields live on the study documents: a study
 * deleted and sent again gets them back from its reports. */
START_TEST(reports_state_follows_a_study_sent_again)
{
  rr_fx_spec spec = {"s-z", "p-z", "1.2.3.99", "Z^Z", "PID-Z", "20240101", "CT", "ACCZ", "se-z1", "CT", 1, "i-z1", 1,
                     NULL};
  rr_ingest_item item;
  rr_study_list *page;
  int64_t id = 0;

  if (!is_mongo())
    return;
  item = rr_fx_item(&spec);
  rr_fx_apply(&item, 1, 1000);
  ck_assert_int_eq(rr_store_report_create(fx.store, &id, "1.2.3.99", "t", "{}", "Rad", 10000, fx.err, sizeof(fx.err)),
                   0);
  ck_assert_int_eq(rr_store_delete(fx.store, RR_LEVEL_STUDY, "s-z", fx.err, sizeof(fx.err)), 0);
  rr_fx_apply(&item, 1, 2000);
  page = rr_fx_page(&RR_FX_QUERY(.report = "mine", .report_user = "rad"));
  ck_assert_uint_eq(page->count, 1);
  ck_assert_str_eq(page->items[0].report_state, "draft");
  ck_assert_int_eq(page->items[0].report_id, id);
  ck_assert_str_eq(page->items[0].report_author, "Rad");
  rr_study_list_free(page);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {audit_interrupted_append_leaves_no_gap, identity_taken_name_refused_from_another_handle,
                                ai_study_state_document_follows_the_analyses, unique_indexes_refuse_duplicates,
                                reports_pdf_larger_than_a_document, reports_dead_claim_and_refused_signature,
                                reports_state_follows_a_study_sent_again};

  /* the mongodb backend only: other backends would pass without testing anything */
  setenv("RR_TEST_STORE", "mongodb", 1);
  return rr_fx_run("audit", tests, sizeof(tests) / sizeof(tests[0]));
}
