/*
 * Store conformance, reports concern (store/store_reports.h): the state
 * machine of a report (every allowed and refused transition), optimistic
 * concurrency of drafts (also from two threads), signatures with their PDF
 * bytes and SHA-256, versions kept with author, time and content,
 * acknowledgements, the worklist's report state and filter, the reports
 * list, has_final, the reading timeline and macros. Run against every
 * backend in store_fixture.c; for SQLite, a test also proves with raw SQL
 * on the database file that a signed version cannot change.
 */
#include <pthread.h>
#include <sqlite3.h>

#include "common.h"
#include "store_fixture.h"

#include "util/errors.h"
#include "util/sha256.h"
#include "util/str.h"

#define TEMPLATE "{\"id\":\"ct-chest\",\"title\":\"CT chest\",\"sections\":[]}"
#define E (fx.err), sizeof(fx.err)

static const unsigned char pdf_a[] = "%PDF-1.5 version a \x00\x01\x02\xff binary";
static const unsigned char pdf_b[] = "%PDF-1.5 version b";

/* A signature by `by` at `at` of the given PDF (sha computed here). */
static rr_report_signature signature(const char *by, int64_t at, const unsigned char *pdf, size_t size)
{
  static char hex[4][65];
  static int next;
  rr_report_signature s;
  char *h = hex[next++ % 4];

  ck_assert_int_eq(rr_sha256_hex(h, pdf, size), 0);
  memset(&s, 0, sizeof(s));
  s.signed_by = by;
  s.signed_at = at;
  s.pdf = pdf;
  s.pdf_size = size;
  s.pdf_sha256 = h;
  return s;
}

static int64_t create(const char *study)
{
  int64_t id = 0;

  ck_assert_msg(rr_store_report_create(fx.store, &id, study, "ct-chest", TEMPLATE, "rad", 10000, E) == 0, "create: %s",
                fx.err);
  ck_assert_int_gt(id, 0);
  return id;
}

static rr_report *get(int64_t id)
{
  rr_report *r = NULL;

  ck_assert_msg(rr_store_report_get(fx.store, &r, id, E) == 0, "get: %s", fx.err);
  return r;
}

static const char *state_of(int64_t id)
{
  static char state[RR_REPORT_STATE_SIZE];
  rr_report *r = get(id);

  rr_str_copy(state, sizeof(state), r->state);
  rr_report_free(r);
  return state;
}

/* The latest version as a caller saw it (from get, whatever the state). */
static rr_report_expect expect_of(int64_t id)
{
  rr_report *r = get(id);
  rr_report_expect e = {r->versions[r->version_count - 1].version, r->versions[r->version_count - 1].revision};

  rr_report_free(r);
  return e;
}

static int save(int64_t id, const char *fields, int64_t now)
{
  rr_report_expect e = expect_of(id);

  return rr_store_report_save_draft(fx.store, NULL, id, &e, fields, NULL, -1, "rad", now, E);
}

static int sign(int64_t id, const char *status, int64_t at)
{
  rr_report_expect e = expect_of(id);
  rr_report_signature s = signature("rad", at, pdf_a, sizeof(pdf_a));

  return rr_store_report_sign(fx.store, NULL, id, &e, status, &s, E);
}

static int add(int64_t id, const char *kind, int64_t at)
{
  rr_report *r = get(id);
  int64_t prevailing = r->prevailing_version;
  rr_report_signature s = signature("rad2", at, pdf_b, sizeof(pdf_b));

  rr_report_free(r);
  return rr_store_report_add_version(fx.store, NULL, id, prevailing, kind,
                                     strcmp(kind, "correction") == 0 ? "{\"impression\":\"fixed\"}" : NULL,
                                     strcmp(kind, "correction") == 0 ? "wrong side" : "see also", &s, E);
}

START_TEST(reports_create_and_get)
{
  rr_report *r;
  int64_t id, other = 0, open = -1;
  char big[64];

  rr_fx_load_worklist();
  id = create("1.2.3.1");
  r = get(id);
  ck_assert_str_eq(r->study_uid, "1.2.3.1");
  ck_assert_str_eq(r->template_id, "ct-chest");
  ck_assert_str_eq(r->template_json, TEMPLATE);
  ck_assert_str_eq(r->state, "draft");
  ck_assert_ptr_null(r->state_reason);
  ck_assert(!r->critical);
  ck_assert_ptr_null(r->critical_json);
  ck_assert_str_eq(r->created_by, "rad");
  ck_assert_int_eq(r->created_at, 10000);
  ck_assert_int_eq(r->prevailing_version, 0);
  ck_assert_uint_eq(r->version_count, 1);
  ck_assert_int_eq(r->versions[0].version, 1);
  ck_assert_str_eq(r->versions[0].kind, "original");
  ck_assert_str_eq(r->versions[0].status, "draft");
  ck_assert_str_eq(r->versions[0].fields_json, "{}");
  ck_assert_str_eq(r->versions[0].inserts_json, "{}");
  ck_assert_ptr_null(r->versions[0].text);
  ck_assert_int_eq(r->versions[0].revision, 1);
  ck_assert_str_eq(r->versions[0].author, "rad");
  ck_assert_str_eq(r->versions[0].signed_by, "");
  ck_assert_ptr_null(r->versions[0].pdf);
  ck_assert_uint_eq(r->ack_count, 0);
  rr_report_free(r);

  ck_assert_int_eq(rr_store_report_open_for_study(fx.store, &open, "1.2.3.1", E), 0);
  ck_assert_int_eq(open, id);
  ck_assert_int_eq(rr_store_report_open_for_study(fx.store, &open, "1.2.3.2", E), 0);
  ck_assert_int_eq(open, 0);
  /* one open report per study; the study must exist; bad input */
  ck_assert_int_eq(rr_store_report_create(fx.store, &other, "1.2.3.1", "generic", "{}", "rad2", 1, E), RR_EEXISTS);
  ck_assert_ptr_nonnull(strstr(fx.err, "open report"));
  ck_assert_int_eq(rr_store_report_create(fx.store, &other, "9.9.9", "generic", "{}", "rad", 1, E), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_report_create(fx.store, &other, "1.2.3.2", "bad id!", "{}", "rad", 1, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_create(fx.store, &other, "1.2.3.2", "generic", "{}", "", 1, E), RR_EINVAL);
  memset(big, 'a', sizeof(big));
  big[63] = '\0';
  ck_assert_int_eq(rr_store_report_create(fx.store, &other, "1.2.3.2", big, "{}", "rad", 1, E), 0);
  ck_assert_int_eq(other, id + 1);
  ck_assert_int_eq(rr_store_report_get(fx.store, &r, 999, E), RR_ENOTFOUND);
  ck_assert_ptr_null(r);
}
END_TEST

START_TEST(reports_json_bounds)
{
  char *big = malloc(RR_REPORT_JSON_MAX + 2);
  rr_report_expect e = {1, 1};
  int64_t id, other;

  rr_fx_load_worklist();
  memset(big, 'x', RR_REPORT_JSON_MAX + 1);
  big[RR_REPORT_JSON_MAX + 1] = '\0';
  ck_assert_int_eq(rr_store_report_create(fx.store, &other, "1.2.3.1", "generic", big, "rad", 1, E), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(fx.err, "more than"));
  id = create("1.2.3.1");
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, id, &e, big, NULL, -1, "rad", 2, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, id, &e, NULL, big, -1, "rad", 2, E), RR_EINVAL);
  big[RR_REPORT_JSON_MAX] = '\0';
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, id, &e, big, NULL, -1, "rad", 2, E), 0);
  free(big);
}
END_TEST

START_TEST(reports_draft_saves_and_stale)
{
  rr_report_version v;
  rr_report_expect e = {1, 1}, stale = {1, 1};
  rr_report *r;
  int64_t id;

  rr_fx_load_worklist();
  id = create("1.2.3.1");
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, &v, id, &e, "{\"findings\":\"a\"}", "{\"keyImages\":[]}", 1,
                                              "rad2", 11000, E),
                   0);
  ck_assert_int_eq(v.version, 1);
  ck_assert_int_eq(v.revision, 2);
  ck_assert_str_eq(v.fields_json, "{\"findings\":\"a\"}");
  ck_assert_str_eq(v.inserts_json, "{\"keyImages\":[]}");
  ck_assert_str_eq(v.author, "rad");
  ck_assert_str_eq(v.updated_by, "rad2");
  ck_assert_int_eq(v.created_at, 10000);
  ck_assert_int_eq(v.updated_at, 11000);
  rr_report_version_dispose(&v);
  /* the version the caller saw is not the latest any more */
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, &v, id, &stale, "{\"lost\":1}", NULL, 0, "rad", 12000, E),
                   RR_ESTALE);
  ck_assert_ptr_null(v.fields_json);
  stale.version = 2;
  stale.revision = 2;
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, id, &stale, "{\"lost\":1}", NULL, 0, "rad", 12000, E),
                   RR_ESTALE);
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, id, NULL, "{}", NULL, 0, "rad", 12000, E), RR_EINVAL);
  /* NULL keeps fields/inserts, critical < 0 keeps the flag */
  e.revision = 2;
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, id, &e, NULL, NULL, -1, "rad", 13000, E), 0);
  r = get(id);
  ck_assert(r->critical);
  ck_assert_int_eq(r->updated_at, 13000);
  ck_assert_uint_eq(r->version_count, 1);
  ck_assert_str_eq(r->versions[0].fields_json, "{\"findings\":\"a\"}");
  ck_assert_str_eq(r->versions[0].inserts_json, "{\"keyImages\":[]}");
  ck_assert_int_eq(r->versions[0].revision, 3);
  rr_report_free(r);
  e.revision = 3;
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, id, &e, NULL, NULL, 0, "rad", 13000, E), 0);
  r = get(id);
  ck_assert(!r->critical);
  rr_report_free(r);
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, 999, &e, NULL, NULL, 0, "rad", 13000, E), RR_ENOTFOUND);
}
END_TEST

/* draft -> preliminary -> (draft) -> final, with the PDF and its hash kept. */
START_TEST(reports_sign_preliminary_then_final)
{
  rr_report_signature s1 = signature("rad", 20000, pdf_a, sizeof(pdf_a)), s2 = signature("rad2", 30000, pdf_b, sizeof(pdf_b));
  rr_report_expect e;
  rr_report_version v;
  rr_report *r;
  int64_t id, version = 0, next = 0;

  rr_fx_load_worklist();
  id = create("1.2.3.1");
  ck_assert_int_eq(save(id, "{\"findings\":\"first\"}", 15000), 0);
  ck_assert_int_eq(rr_store_report_next_version(fx.store, &next, &e, id, E), 0);
  ck_assert_int_eq(next, 1);
  ck_assert_int_eq(e.version, 1);
  ck_assert_int_eq(e.revision, 2);
  /* bad signatures */
  ck_assert_int_eq(rr_store_report_sign(fx.store, &version, id, &e, "signed", &s1, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_sign(fx.store, &version, id, &e, "final", NULL, E), RR_EINVAL);
  s1.pdf_sha256 = "abc";
  ck_assert_int_eq(rr_store_report_sign(fx.store, &version, id, &e, "final", &s1, E), RR_EINVAL);
  s1 = signature("rad", 20000, pdf_a, sizeof(pdf_a));
  s1.pdf_size = 0;
  ck_assert_int_eq(rr_store_report_sign(fx.store, &version, id, &e, "final", &s1, E), RR_EINVAL);
  s1 = signature("rad", 20000, pdf_a, sizeof(pdf_a));

  ck_assert_int_eq(rr_store_report_sign(fx.store, &version, id, &e, "preliminary", &s1, E), 0);
  ck_assert_int_eq(version, 1);
  ck_assert_str_eq(state_of(id), "preliminary");
  /* the same expectation is stale now; a second preliminary without a change is refused */
  ck_assert_int_eq(rr_store_report_sign(fx.store, &version, id, &e, "preliminary", &s1, E), RR_ESTALE);
  ck_assert_int_eq(sign(id, "preliminary", 21000), RR_ECONFLICT);

  /* a draft save after preliminary adds version 2 copying it */
  ck_assert_int_eq(rr_store_report_next_version(fx.store, &next, &e, id, E), 0);
  ck_assert_int_eq(next, 2);
  ck_assert_int_eq(e.version, 1);
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, &v, id, &e, NULL, "{\"aiFindings\":[]}", -1, "rad2", 25000, E),
                   0);
  ck_assert_int_eq(v.version, 2);
  ck_assert_int_eq(v.revision, 1);
  ck_assert_str_eq(v.status, "draft");
  ck_assert_str_eq(v.kind, "original");
  ck_assert_str_eq(v.fields_json, "{\"findings\":\"first\"}");
  ck_assert_str_eq(v.inserts_json, "{\"aiFindings\":[]}");
  ck_assert_str_eq(v.author, "rad2");
  rr_report_version_dispose(&v);
  ck_assert_str_eq(state_of(id), "preliminary");

  e.version = 2;
  e.revision = 1;
  ck_assert_int_eq(rr_store_report_sign(fx.store, &version, id, &e, "final", &s2, E), 0);
  ck_assert_int_eq(version, 2);
  r = get(id);
  ck_assert_str_eq(r->state, "final");
  ck_assert_int_eq(r->prevailing_version, 2);
  ck_assert_uint_eq(r->version_count, 2);
  ck_assert_str_eq(r->versions[0].status, "preliminary");
  ck_assert_str_eq(r->versions[0].signed_by, "rad");
  ck_assert_int_eq(r->versions[0].signed_at, 20000);
  ck_assert_str_eq(r->versions[0].pdf_sha256, s1.pdf_sha256);
  ck_assert_str_eq(r->versions[0].fields_json, "{\"findings\":\"first\"}");
  ck_assert_str_eq(r->versions[0].author, "rad");
  ck_assert_str_eq(r->versions[1].status, "final");
  ck_assert_str_eq(r->versions[1].signed_by, "rad2");
  ck_assert_int_eq(r->versions[1].signed_at, 30000);
  ck_assert_str_eq(r->versions[1].pdf_sha256, s2.pdf_sha256);
  ck_assert_ptr_null(r->versions[1].pdf);
  rr_report_free(r);

  /* the PDF bytes come back as signed */
  ck_assert_int_eq(rr_store_report_pdf(fx.store, &v, id, 1, E), 0);
  ck_assert_uint_eq(v.pdf_size, sizeof(pdf_a));
  ck_assert_int_eq(memcmp(v.pdf, pdf_a, sizeof(pdf_a)), 0);
  ck_assert_str_eq(v.pdf_sha256, s1.pdf_sha256);
  ck_assert_str_eq(v.status, "preliminary");
  rr_report_version_dispose(&v);
  ck_assert_int_eq(rr_store_report_pdf(fx.store, &v, id, 2, E), 0);
  ck_assert_uint_eq(v.pdf_size, sizeof(pdf_b));
  ck_assert_int_eq(memcmp(v.pdf, pdf_b, sizeof(pdf_b)), 0);
  rr_report_version_dispose(&v);
  ck_assert_int_eq(rr_store_report_pdf(fx.store, &v, id, 3, E), RR_ENOTFOUND);
  ck_assert_ptr_null(v.pdf);
  /* a draft has no PDF */
  id = create("1.2.3.2");
  ck_assert_int_eq(rr_store_report_pdf(fx.store, &v, id, 1, E), RR_ENOTFOUND);
}
END_TEST

/* A final sign of a preliminary version without a draft adds a version. */
START_TEST(reports_final_from_preliminary)
{
  rr_report *r;
  int64_t id, next;
  rr_report_expect e;

  rr_fx_load_worklist();
  id = create("1.2.3.1");
  ck_assert_int_eq(save(id, "{\"f\":1}", 11000), 0);
  ck_assert_int_eq(sign(id, "preliminary", 12000), 0);
  ck_assert_int_eq(rr_store_report_next_version(fx.store, &next, &e, id, E), 0);
  ck_assert_int_eq(next, 2);
  ck_assert_int_eq(sign(id, "final", 13000), 0);
  r = get(id);
  ck_assert_uint_eq(r->version_count, 2);
  ck_assert_str_eq(r->versions[1].status, "final");
  ck_assert_str_eq(r->versions[1].fields_json, "{\"f\":1}");
  ck_assert_int_eq(r->prevailing_version, 2);
  ck_assert_str_eq(r->state, "final");
  rr_report_free(r);
}
END_TEST

/* final -> appended -> corrected; every refused transition changes nothing. */
START_TEST(reports_addenda_corrections_and_refusals)
{
  rr_report_signature s = signature("rad", 40000, pdf_b, sizeof(pdf_b));
  rr_report_expect e;
  rr_report *r;
  int64_t id, version = 0;

  rr_fx_load_worklist();
  id = create("1.2.3.1");
  ck_assert_int_eq(save(id, "{\"impression\":\"left\"}", 11000), 0);
  /* before a final version: no addendum, no correction */
  ck_assert_int_eq(rr_store_report_add_version(fx.store, &version, id, 0, "addendum", NULL, "x", &s, E), RR_ECONFLICT);
  ck_assert_int_eq(rr_store_report_add_version(fx.store, &version, id, 0, "correction", "{}", "x", &s, E), RR_ECONFLICT);
  ck_assert_int_eq(sign(id, "final", 20000), 0);
  ck_assert_str_eq(state_of(id), "final");

  /* final: no draft save, no sign, no cancel */
  e = expect_of(id);
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, id, &e, "{}", NULL, -1, "rad", 21000, E), RR_ECONFLICT);
  ck_assert_int_eq(sign(id, "final", 21000), RR_ECONFLICT);
  ck_assert_int_eq(sign(id, "preliminary", 21000), RR_ECONFLICT);
  ck_assert_int_eq(rr_store_report_cancel(fx.store, id, "rad", "no", 21000, E), RR_ECONFLICT);
  /* add_version checks */
  ck_assert_int_eq(rr_store_report_add_version(fx.store, &version, id, 1, "note", NULL, "x", &s, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_add_version(fx.store, &version, id, 1, "addendum", NULL, "", &s, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_add_version(fx.store, &version, id, 1, "correction", NULL, "why", &s, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_add_version(fx.store, &version, id, 0, "addendum", NULL, "x", &s, E), RR_ESTALE);

  ck_assert_int_eq(rr_store_report_add_version(fx.store, &version, id, 1, "addendum", "{\"ignored\":1}", "see also",
                                               &s, E),
                   0);
  ck_assert_int_eq(version, 2);
  ck_assert_str_eq(state_of(id), "appended");
  ck_assert_int_eq(add(id, "correction", 50000), 0);
  ck_assert_int_eq(add(id, "addendum", 60000), 0);
  r = get(id);
  ck_assert_str_eq(r->state, "appended");
  ck_assert_int_eq(r->prevailing_version, 4);
  ck_assert_uint_eq(r->version_count, 4);
  ck_assert_str_eq(r->versions[1].kind, "addendum");
  ck_assert_str_eq(r->versions[1].status, "final");
  ck_assert_str_eq(r->versions[1].text, "see also");
  ck_assert_str_eq(r->versions[1].fields_json, "{\"impression\":\"left\"}");
  ck_assert_str_eq(r->versions[1].author, "rad");
  ck_assert_int_eq(r->versions[1].created_at, 40000);
  ck_assert_str_eq(r->versions[2].kind, "correction");
  ck_assert_str_eq(r->versions[2].text, "wrong side");
  ck_assert_str_eq(r->versions[2].fields_json, "{\"impression\":\"fixed\"}");
  ck_assert_str_eq(r->versions[2].signed_by, "rad2");
  ck_assert_str_eq(r->versions[3].fields_json, "{\"impression\":\"fixed\"}");
  ck_assert_str_eq(r->versions[0].fields_json, "{\"impression\":\"left\"}"); /* the original is unchanged */
  rr_report_free(r);
  ck_assert_int_eq(add(id, "correction", 70000), 0);
  ck_assert_str_eq(state_of(id), "corrected");

  /* entered in error at any state, then nothing more */
  ck_assert_int_eq(rr_store_report_entered_in_error(fx.store, id, "admin", "", 80000, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_entered_in_error(fx.store, id, "admin", "wrong patient", 80000, E), 0);
  r = get(id);
  ck_assert_str_eq(r->state, "entered-in-error");
  ck_assert_str_eq(r->state_reason, "wrong patient");
  ck_assert_str_eq(r->state_by, "admin");
  ck_assert_uint_eq(r->version_count, 5);
  rr_report_free(r);
  ck_assert_int_eq(add(id, "addendum", 90000), RR_ECONFLICT);
  ck_assert_int_eq(add(id, "correction", 90000), RR_ECONFLICT);
  ck_assert_int_eq(sign(id, "final", 90000), RR_ECONFLICT);
  ck_assert_int_eq(save(id, "{}", 90000), RR_ECONFLICT);
  ck_assert_int_eq(rr_store_report_cancel(fx.store, id, "rad", "no", 90000, E), RR_ECONFLICT);
  ck_assert_int_eq(rr_store_report_entered_in_error(fx.store, id, "admin", "again", 90000, E), RR_ECONFLICT);
  ck_assert_int_eq(rr_store_report_acknowledge(fx.store, id, "doc", 90000, E), RR_ECONFLICT);
  ck_assert_int_eq(rr_store_report_next_version(fx.store, &version, &e, id, E), RR_ECONFLICT);
  r = get(id);
  ck_assert_str_eq(r->state, "entered-in-error");
  ck_assert_str_eq(r->state_reason, "wrong patient");
  ck_assert_uint_eq(r->version_count, 5);
  rr_report_free(r);
  /* the study may have a new report */
  ck_assert_int_gt(create("1.2.3.1"), id);
}
END_TEST

/* The whole state machine: every operation on a report in every state,
 * the state it leads to, or its refusal with nothing changed. */
static const char *const matrix_states[] = {"draft",     "preliminary", "final",           "appended",
                                            "corrected", "cancelled",   "entered-in-error"};
static const char *const matrix_ops[] = {"save", "preliminary", "final", "addendum", "correction", "cancel", "error"};
/* the state after each operation ("" = refused with RR_ECONFLICT) */
static const char *const matrix_after[7][7] = {
  /* draft */ {"draft", "preliminary", "final", "", "", "cancelled", "entered-in-error"},
  /* preliminary */ {"preliminary", "", "final", "", "", "cancelled", "entered-in-error"},
  /* final */ {"", "", "", "appended", "corrected", "", "entered-in-error"},
  /* appended */ {"", "", "", "appended", "corrected", "", "entered-in-error"},
  /* corrected */ {"", "", "", "appended", "corrected", "", "entered-in-error"},
  /* cancelled */ {"", "", "", "", "", "", "entered-in-error"},
  /* entered-in-error */ {"", "", "", "", "", "", ""},
};

/* A report on study 1.2.3.1 brought to `state`. */
static int64_t reach(const char *state)
{
  int64_t id = create("1.2.3.1");

  if (strcmp(state, "preliminary") == 0)
    ck_assert_int_eq(sign(id, "preliminary", 11000), 0);
  if (strcmp(state, "final") == 0 || strcmp(state, "appended") == 0 || strcmp(state, "corrected") == 0)
    ck_assert_int_eq(sign(id, "final", 11000), 0);
  if (strcmp(state, "appended") == 0)
    ck_assert_int_eq(add(id, "addendum", 12000), 0);
  if (strcmp(state, "corrected") == 0)
    ck_assert_int_eq(add(id, "correction", 12000), 0);
  if (strcmp(state, "cancelled") == 0)
    ck_assert_int_eq(rr_store_report_cancel(fx.store, id, "rad", "test", 11000, E), 0);
  if (strcmp(state, "entered-in-error") == 0)
    ck_assert_int_eq(rr_store_report_entered_in_error(fx.store, id, "admin", "test", 11000, E), 0);
  ck_assert_str_eq(state_of(id), state);
  return id;
}

static int apply_op(int64_t id, const char *op)
{
  if (strcmp(op, "save") == 0)
    return save(id, "{\"changed\":true}", 20000);
  if (strcmp(op, "preliminary") == 0 || strcmp(op, "final") == 0)
    return sign(id, op, 20000);
  if (strcmp(op, "addendum") == 0 || strcmp(op, "correction") == 0)
    return add(id, op, 20000);
  if (strcmp(op, "cancel") == 0)
    return rr_store_report_cancel(fx.store, id, "rad", "test", 20000, E);
  return rr_store_report_entered_in_error(fx.store, id, "admin", "test", 20000, E);
}

START_TEST(reports_transition_matrix)
{
  size_t i, j;

  rr_fx_load_worklist();
  for (i = 0; i < 7; i++) {
    for (j = 0; j < 7; j++) {
      int64_t id = reach(matrix_states[i]);
      rr_report *before = get(id), *after;
      const char *expected = matrix_after[i][j];
      int rc = apply_op(id, matrix_ops[j]);

      after = get(id);
      if (expected[0] == '\0') {
        ck_assert_msg(rc == RR_ECONFLICT, "%s on %s: %d (%s)", matrix_ops[j], matrix_states[i], rc, fx.err);
        ck_assert_str_eq(after->state, before->state);
        ck_assert_uint_eq(after->version_count, before->version_count);
        ck_assert_int_eq(after->versions[after->version_count - 1].revision,
                         before->versions[before->version_count - 1].revision);
        ck_assert_int_eq(after->updated_at, before->updated_at);
      } else {
        ck_assert_msg(rc == 0, "%s on %s: %d (%s)", matrix_ops[j], matrix_states[i], rc, fx.err);
        ck_assert_msg(strcmp(after->state, expected) == 0, "%s on %s gave %s", matrix_ops[j], matrix_states[i],
                      after->state);
      }
      if (strcmp(after->state, "entered-in-error") != 0)
        ck_assert_int_eq(rr_store_report_entered_in_error(fx.store, id, "admin", "next", 30000, E), 0);
      rr_report_free(before);
      rr_report_free(after);
    }
  }
}
END_TEST

/* cancel: a draft or a preliminary report, with a reason; then closed. */
START_TEST(reports_cancel)
{
  rr_report *r;
  rr_report_list *list = NULL;
  int64_t id, id2, open = -1;

  rr_fx_load_worklist();
  id = create("1.2.3.1");
  ck_assert_int_eq(rr_store_report_cancel(fx.store, id, "rad", NULL, 11000, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_cancel(fx.store, id, "", "why", 11000, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_cancel(fx.store, 999, "rad", "why", 11000, E), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_report_cancel(fx.store, id, "rad", "ordered twice", 11000, E), 0);
  r = get(id);
  ck_assert_str_eq(r->state, "cancelled");
  ck_assert_str_eq(r->state_reason, "ordered twice");
  ck_assert_str_eq(r->state_by, "rad");
  ck_assert_str_eq(r->versions[0].status, "cancelled");
  rr_report_free(r);
  ck_assert_int_eq(save(id, "{}", 12000), RR_ECONFLICT);
  ck_assert_int_eq(sign(id, "final", 12000), RR_ECONFLICT);
  ck_assert_int_eq(sign(id, "preliminary", 12000), RR_ECONFLICT);
  ck_assert_int_eq(add(id, "addendum", 12000), RR_ECONFLICT);
  ck_assert_int_eq(rr_store_report_cancel(fx.store, id, "rad", "again", 12000, E), RR_ECONFLICT);
  ck_assert_int_eq(rr_store_report_open_for_study(fx.store, &open, "1.2.3.1", E), 0);
  ck_assert_int_eq(open, 0);
  /* entered in error after cancel is allowed (any state) */
  ck_assert_int_eq(rr_store_report_entered_in_error(fx.store, id, "admin", "wrong study", 13000, E), 0);

  /* a preliminary report can be cancelled; its signed version stays */
  id2 = create("1.2.3.1");
  ck_assert_int_eq(sign(id2, "preliminary", 14000), 0);
  ck_assert_int_eq(rr_store_report_cancel(fx.store, id2, "rad", "duplicate", 15000, E), 0);
  r = get(id2);
  ck_assert_str_eq(r->state, "cancelled");
  ck_assert_str_eq(r->versions[0].status, "preliminary");
  rr_report_free(r);

  ck_assert_int_eq(rr_store_report_for_study(fx.store, &list, "1.2.3.1", E), 0);
  ck_assert_uint_eq(list->count, 2);
  ck_assert_int_eq(list->items[0].id, id2); /* newest first */
  ck_assert_int_eq(list->items[1].id, id);
  ck_assert_str_eq(list->items[1].state, "entered-in-error");
  ck_assert_uint_eq(list->items[1].version_count, 1);
  rr_report_list_free(list);
  ck_assert_int_eq(rr_store_report_for_study(fx.store, &list, "9.9", E), 0);
  ck_assert_uint_eq(list->count, 0);
  rr_report_list_free(list);
}
END_TEST

/* Two threads save the same draft revision: one wins, the other is stale. */
typedef struct race {
  int64_t id;
  const char *fields;
  int result;
  pthread_barrier_t *start;
} race;

static void *race_save(void *arg)
{
  race *r = arg;
  rr_report_expect e = {1, 1};
  char err[256];

  pthread_barrier_wait(r->start);
  r->result = rr_store_report_save_draft(fx.store, NULL, r->id, &e, r->fields, NULL, -1, "rad", 20000, err, sizeof(err));
  return NULL;
}

START_TEST(reports_concurrent_drafts)
{
  pthread_barrier_t start;
  pthread_t t1, t2;
  race a = {0, "{\"by\":\"a\"}", 1, &start}, b = {0, "{\"by\":\"b\"}", 1, &start};
  rr_report *r;
  int round;

  rr_fx_load_worklist();
  for (round = 0; round < 5; round++) {
    int64_t id = create("1.2.3.1");

    a.id = b.id = id;
    pthread_barrier_init(&start, NULL, 2);
    ck_assert_int_eq(pthread_create(&t1, NULL, race_save, &a), 0);
    ck_assert_int_eq(pthread_create(&t2, NULL, race_save, &b), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    pthread_barrier_destroy(&start);
    ck_assert_msg((a.result == 0 && b.result == RR_ESTALE) || (a.result == RR_ESTALE && b.result == 0),
                  "results %d and %d", a.result, b.result);
    r = get(id);
    ck_assert_int_eq(r->versions[0].revision, 2);
    ck_assert_str_eq(r->versions[0].fields_json, a.result == 0 ? a.fields : b.fields);
    rr_report_free(r);
    ck_assert_int_eq(rr_store_report_cancel(fx.store, id, "rad", "next round", 30000, E), 0);
  }
}
END_TEST

/* The database file itself refuses to change or delete a signed version
 * and to delete a report (triggers), whoever writes to it. */
START_TEST(reports_signed_versions_frozen_in_the_file)
{
  char path[4200];
  sqlite3 *db = NULL;
  char *msg = NULL;
  rr_report_version v;
  rr_report *r;
  int64_t id;
  static const char *const refused[] = {
    "UPDATE report_versions SET fields_json='{\"tampered\":1}' WHERE version=1",
    "UPDATE report_versions SET version_status='draft' WHERE version=1",
    "UPDATE report_versions SET pdf=x'00' WHERE version=1",
    "UPDATE report_versions SET signed_by='mallory' WHERE version=2",
    "DELETE FROM report_versions WHERE version=1",
    "DELETE FROM report_versions",
    "DELETE FROM reports",
  };
  size_t i;

  if (strcmp(fx.backend->name, "sqlite") != 0)
    return;
  rr_fx_load_worklist();
  id = create("1.2.3.1");
  ck_assert_int_eq(save(id, "{\"impression\":\"normal\"}", 11000), 0);
  ck_assert_int_eq(sign(id, "preliminary", 12000), 0);
  ck_assert_int_eq(sign(id, "final", 13000), 0);

  snprintf(path, sizeof(path), "%s/sub/dir/test.db", fx.dir);
  ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    ck_assert_msg(sqlite3_exec(db, refused[i], NULL, NULL, &msg) != SQLITE_OK, "raw SQL was accepted: %s", refused[i]);
    ck_assert_msg(msg != NULL && (strstr(msg, "never") != NULL), "%s: %s", refused[i], msg ? msg : "");
    sqlite3_free(msg);
    msg = NULL;
  }
  /* and inserting a "signed" version without a signature is refused too */
  ck_assert(sqlite3_exec(db, "INSERT INTO report_versions(report_id, version, kind, version_status, author, updated_by,"
                             " created_at, updated_at) VALUES(1, 9, 'original', 'final', 'x', 'x', 1, 1)",
                         NULL, NULL, NULL) != SQLITE_OK);
  sqlite3_close(db);

  /* nothing changed */
  r = get(id);
  ck_assert_uint_eq(r->version_count, 2);
  ck_assert_str_eq(r->versions[0].fields_json, "{\"impression\":\"normal\"}");
  ck_assert_str_eq(r->versions[0].status, "preliminary");
  ck_assert_str_eq(r->versions[1].signed_by, "rad");
  rr_report_free(r);
  ck_assert_int_eq(rr_store_report_pdf(fx.store, &v, id, 1, E), 0);
  ck_assert_int_eq(memcmp(v.pdf, pdf_a, sizeof(pdf_a)), 0);
  rr_report_version_dispose(&v);
  /* and through the API: sign twice, save a final report */
  ck_assert_int_eq(sign(id, "final", 14000), RR_ECONFLICT);
  ck_assert_int_eq(save(id, "{}", 14000), RR_ECONFLICT);
}
END_TEST

/* Critical results: flag, acknowledgement per user (first kept), and the
 * worklist's report columns and filter. */
START_TEST(reports_acknowledge_and_worklist)
{
  rr_report_signature s = signature("rad", 20000, pdf_a, sizeof(pdf_a));
  rr_report_expect e;
  rr_study_list *page;
  rr_report *r;
  int64_t a, b, c;

  rr_fx_load_worklist();
  /* s-a: final critical; s-b: draft by rad; s-c: preliminary; s-d: draft by other; s-e: none */
  a = create("1.2.3.1");
  ck_assert_int_eq(rr_store_report_acknowledge(fx.store, a, "doc", 1, E), RR_ECONFLICT); /* not critical */
  e = expect_of(a);
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, a, &e, NULL, NULL, 1, "rad", 11000, E), 0);
  ck_assert_int_eq(sign(a, "preliminary", 19000), 0); /* a preliminary needs no communication */
  ck_assert_int_eq(sign(a, "final", 20000), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(fx.err, "communication"));
  e = expect_of(a);
  s.critical_json = "{\"recipient\":\"Dr X\",\"method\":\"phone\",\"communicatedAt\":19000,\"recordedBy\":\"rad\"}";
  ck_assert_int_eq(rr_store_report_sign(fx.store, NULL, a, &e, "final", &s, E), 0);
  b = create("1.2.3.2");
  c = create("1.2.3.3");
  ck_assert_int_eq(sign(c, "preliminary", 21000), 0);
  ck_assert_int_eq(rr_store_report_create(fx.store, &b, "1.2.3.4", "generic", "{}", "Other", 1, E), 0);
  b = 0;

  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "unreported")), "s-e,s-b,s-d"); /* newest study date first */
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "mine", .report_user = "RAD")), "s-b");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "mine", .report_user = "other")), "s-d");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "preliminary")), "s-c");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "final")), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "critical")), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "critical", .modality_count = 1, .modalities = {"MR"})), "");
  {
    rr_worklist_query q = RR_FX_QUERY(.report = "nonsense");
    rr_study_list *l = NULL;
    ck_assert_int_eq(rr_store_query_worklist(fx.store, &l, &q, E), RR_EINVAL);
    q = RR_FX_QUERY(.report = "mine");
    ck_assert_int_eq(rr_store_query_worklist(fx.store, &l, &q, E), RR_EINVAL);
  }
  page = rr_fx_page(&RR_FX_QUERY(.patient_name = {RR_MATCH_NONE, ""}));
  ck_assert_uint_eq(page->count, 5);
  {
    size_t i;
    for (i = 0; i < page->count; i++) {
      const rr_study_rec *st = &page->items[i];
      if (strcmp(st->orthanc_id, "s-a") == 0) {
        ck_assert_str_eq(st->report_state, "final");
        ck_assert_int_eq(st->report_id, a);
        ck_assert(st->report_critical);
        ck_assert_str_eq(st->report_author, "rad");
      } else if (strcmp(st->orthanc_id, "s-e") == 0) {
        ck_assert_str_eq(st->report_state, "");
        ck_assert_int_eq(st->report_id, 0);
        ck_assert(!st->report_critical);
        ck_assert_str_eq(st->report_author, "");
      } else if (strcmp(st->orthanc_id, "s-c") == 0) {
        ck_assert_str_eq(st->report_state, "preliminary");
      }
    }
  }
  rr_study_list_free(page);

  /* the first acknowledgement is kept; the worklist flag goes once anyone acknowledged */
  ck_assert_int_eq(rr_store_report_acknowledge(fx.store, a, "doc", 30000, E), 0);
  ck_assert_int_eq(rr_store_report_acknowledge(fx.store, a, "doc", 31000, E), 0);
  ck_assert_int_eq(rr_store_report_acknowledge(fx.store, a, "doc2", 32000, E), 0);
  ck_assert_int_eq(rr_store_report_acknowledge(fx.store, 999, "doc2", 32000, E), RR_ENOTFOUND);
  r = get(a);
  ck_assert(r->critical);
  ck_assert_ptr_nonnull(r->critical_json);
  ck_assert_str_eq(r->critical_json, s.critical_json);
  ck_assert_uint_eq(r->ack_count, 2);
  ck_assert_str_eq(r->acks[0].username, "doc");
  ck_assert_int_eq(r->acks[0].at, 30000);
  ck_assert_str_eq(r->acks[1].username, "doc2");
  rr_report_free(r);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "critical")), "");
  /* for a physician: not acknowledged by them */
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "critical", .report_ack_user = "doc3")), "s-a");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "critical", .report_ack_user = "DOC")), "");
  page = rr_fx_page(&RR_FX_QUERY(.report = "final", .report_ack_user = "doc3"));
  ck_assert_uint_eq(page->count, 1);
  ck_assert(page->items[0].report_critical);
  rr_study_list_free(page);
  page = rr_fx_page(&RR_FX_QUERY(.report = "final", .report_ack_user = "doc2"));
  ck_assert(!page->items[0].report_critical);
  rr_study_list_free(page);
  page = rr_fx_page(&RR_FX_QUERY(.report = "final"));
  ck_assert(!page->items[0].report_critical);
  rr_study_list_free(page);
  /* a critical draft shows until it is cancelled */
  b = create("1.2.3.5");
  e = expect_of(b);
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, b, &e, NULL, NULL, 1, "rad", 33000, E), 0);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "critical")), "s-e");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "critical", .report_ack_user = "doc")), "s-e");
  ck_assert_int_eq(rr_store_report_cancel(fx.store, b, "rad", "wrong study", 34000, E), 0);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "critical")), "");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "critical", .report_ack_user = "doc")), "");

  /* a cancelled report: the study is unreported again */
  ck_assert_int_eq(rr_store_report_cancel(fx.store, c, "rad", "wrong", 40000, E), 0);
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "unreported")), "s-e,s-b,s-c,s-d");
  ck_assert_str_eq(rr_fx_ids(RR_FX_QUERY(.report = "preliminary")), "");
  /* the study detail carries the state too */
  {
    rr_study_detail *d = NULL;
    ck_assert_int_eq(rr_store_get_study(fx.store, &d, "1.2.3.3", E), 0);
    ck_assert_str_eq(d->study.report_state, "cancelled");
    ck_assert_int_eq(d->study.report_id, c);
    ck_assert_str_eq(d->study.report_author, "");
    rr_study_detail_free(d);
  }
}
END_TEST

static const char *row_ids(const rr_report_query *q, int64_t *total)
{
  static char out[512];
  rr_report_row_list *l = NULL;
  size_t i;

  ck_assert_msg(rr_store_report_list(fx.store, &l, q, E) == 0, "list: %s", fx.err);
  out[0] = '\0';
  for (i = 0; i < l->count; i++) {
    char id[32];
    snprintf(id, sizeof(id), "%s%lld", i ? "," : "", (long long)l->items[i].id);
    strncat(out, id, sizeof(out) - strlen(out) - 1);
  }
  if (total != NULL)
    *total = l->total;
  rr_report_row_list_free(l);
  return out;
}

START_TEST(reports_list_and_has_final)
{
  rr_report_query q;
  rr_report_row_list *l = NULL;
  rr_report_expect e;
  rr_report_signature s = signature("rad", 50000, pdf_a, sizeof(pdf_a));
  rr_ingest_item other;
  rr_fx_spec spec = {"s-f", "p-f", "1.2.3.6", "García^José", "PID-6", "20240101", "CT Abdomen", "ACC6", "se-f1", "CT", 1,
                     "i-f1", 1, NULL};
  int64_t total = 0;
  bool has = true;
  char ids[64];

  rr_fx_load_worklist();
  other = rr_fx_item(&spec);
  rr_str_copy(other.study.referring_physician, RR_PN_SIZE, "WILSON^JAMES^^Dr=ウィルソン^ジェームズ");
  rr_fx_apply(&other, 1, 3000);

  /* 1: s-a final at 20000; 2: s-b draft; 3: s-f final at 30000 critical; 4: s-e final at 40000 */
  ck_assert_int_eq(sign(create("1.2.3.1"), "final", 20000), 0);
  create("1.2.3.2");
  ck_assert_int_eq(save(3 - 0 * create("1.2.3.6"), "{}", 1000), 0);
  e = expect_of(3);
  ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, 3, &e, NULL, NULL, 1, "rad", 29000, E), 0);
  ck_assert_int_eq(sign(3, "final", 30000), RR_EINVAL); /* critical: the communication is required */
  e = expect_of(3);
  s.signed_at = 30000;
  s.critical_json = "{\"recipient\":\"Dr W\",\"method\":\"phone\",\"communicatedAt\":29500,\"recordedBy\":\"rad\"}";
  ck_assert_int_eq(rr_store_report_sign(fx.store, NULL, 3, &e, "final", &s, E), 0);
  ck_assert_int_eq(sign(create("1.2.3.5"), "final", 40000), 0);

  memset(&q, 0, sizeof(q));
  rr_str_copy(q.username, sizeof(q.username), "doc");
  ck_assert_str_eq(row_ids(&q, &total), "3,4,1,2"); /* critical first, then newest signature */
  ck_assert_int_eq(total, 4);
  ck_assert_int_eq(rr_store_report_acknowledge(fx.store, 3, "DOC", 60000, E), 0);
  ck_assert_str_eq(row_ids(&q, NULL), "4,3,1,2");
  rr_str_copy(q.username, sizeof(q.username), "doc2");
  ck_assert_str_eq(row_ids(&q, NULL), "3,4,1,2"); /* not acknowledged by doc2 */

  /* the row's fields */
  ck_assert_int_eq(rr_store_report_list(fx.store, &l, &q, E), 0);
  ck_assert_str_eq(l->items[0].study_uid, "1.2.3.6");
  ck_assert_str_eq(l->items[0].state, "final");
  ck_assert_str_eq(l->items[0].template_id, "ct-chest");
  ck_assert(l->items[0].critical);
  ck_assert(!l->items[0].acknowledged);
  ck_assert_str_eq(l->items[0].patient_name, "García^José");
  ck_assert_str_eq(l->items[0].patient_id, "PID-6");
  ck_assert_str_eq(l->items[0].study_date, "20240101");
  ck_assert_str_eq(l->items[0].study_description, "CT Abdomen");
  ck_assert_str_eq(l->items[0].accession_number, "ACC6");
  ck_assert_str_eq(l->items[0].referring_physician, "WILSON^JAMES^^Dr=ウィルソン^ジェームズ");
  ck_assert_str_eq(l->items[0].modalities, "CT");
  ck_assert_str_eq(l->items[0].signed_by, "rad");
  ck_assert_int_eq(l->items[0].signed_at, 30000);
  rr_report_row_list_free(l);

  /* states, offset and limit */
  q.state_count = 1;
  rr_str_copy(q.states[0], sizeof(q.states[0]), "draft");
  ck_assert_str_eq(row_ids(&q, &total), "2");
  rr_str_copy(q.states[0], sizeof(q.states[0]), "final");
  q.limit = 1;
  q.offset = 1;
  ck_assert_str_eq(row_ids(&q, &total), "4");
  ck_assert_int_eq(total, 3);
  q.limit = 0;
  q.offset = 0;
  rr_str_copy(q.states[0], sizeof(q.states[0]), "signed");
  ck_assert_int_eq(rr_store_report_list(fx.store, &l, &q, E), RR_EINVAL);
  q.state_count = 0;

  /* text: folded words, each a prefix of the study's words */
  rr_str_copy(q.text, sizeof(q.text), "garcia");
  ck_assert_str_eq(row_ids(&q, NULL), "3");
  rr_str_copy(q.text, sizeof(q.text), "MULLER renee");
  ck_assert_str_eq(row_ids(&q, NULL), "1");
  rr_str_copy(q.text, sizeof(q.text), "acc");
  ck_assert_str_eq(row_ids(&q, &total), "3,1,2"); /* s-e's accession is A[5] */
  rr_str_copy(q.text, sizeof(q.text), "Müller smith");
  ck_assert_str_eq(row_ids(&q, &total), "");
  ck_assert_int_eq(total, 0);
  q.text[0] = '\0';
  /* the patient's history */
  rr_str_copy(q.patient_id, sizeof(q.patient_id), "PID-2");
  ck_assert_str_eq(row_ids(&q, NULL), "2");
  q.patient_id[0] = '\0';
  /* referring physician: normalised components, empty ones ignored */
  rr_str_copy(q.referring, sizeof(q.referring), "wilson^james");
  ck_assert_str_eq(row_ids(&q, NULL), "3");
  rr_str_copy(q.referring, sizeof(q.referring), "Wilson");
  ck_assert_str_eq(row_ids(&q, NULL), "3");
  rr_str_copy(q.referring, sizeof(q.referring), "house^gregory");
  ck_assert_str_eq(row_ids(&q, NULL), "4,1,2");
  rr_str_copy(q.referring, sizeof(q.referring), "House^Greg");
  ck_assert_str_eq(row_ids(&q, NULL), "");
  rr_str_copy(q.referring, sizeof(q.referring), "ウィルソン");
  ck_assert_str_eq(row_ids(&q, NULL), "3");

  /* has_final: by StudyInstanceUID or Orthanc id, and referring */
  ck_assert_int_eq(rr_store_report_has_final(fx.store, &has, "1.2.3.6", "", E), 0);
  ck_assert(has);
  ck_assert_int_eq(rr_store_report_has_final(fx.store, &has, "s-f", NULL, E), 0);
  ck_assert(has);
  ck_assert_int_eq(rr_store_report_has_final(fx.store, &has, "s-f", "Wilson^James", E), 0);
  ck_assert(has);
  ck_assert_int_eq(rr_store_report_has_final(fx.store, &has, "s-f", "House^Gregory", E), 0);
  ck_assert(!has);
  ck_assert_int_eq(rr_store_report_has_final(fx.store, &has, "1.2.3.2", "", E), 0); /* a draft */
  ck_assert(!has);
  ck_assert_int_eq(rr_store_report_has_final(fx.store, &has, "nothing", "", E), 0);
  ck_assert(!has);
  ck_assert_int_eq(add(1, "addendum", 70000), 0);
  ck_assert_int_eq(rr_store_report_has_final(fx.store, &has, "s-a", "", E), 0);
  ck_assert(has);
  snprintf(ids, sizeof(ids), "%s", row_ids(&(rr_report_query){.username = "doc2"}, NULL));
  ck_assert_str_eq(ids, "3,1,4,2"); /* 3 is not acknowledged by doc2; the addendum made 1 the newest signature */
}
END_TEST

START_TEST(reports_timeline)
{
  rr_report_timeline_list *t = NULL;
  int64_t a;

  rr_fx_load_worklist(); /* s-a, s-b, s-c received at 1000 s, s-d and s-e at 2000 s */
  ck_assert_int_eq(rr_store_report_opened(fx.store, "1.2.3.2", 1500000, E), 0);
  ck_assert_int_eq(rr_store_report_opened(fx.store, "1.2.3.2", 1600000, E), 0); /* the first is kept */
  ck_assert_int_eq(rr_store_report_opened(fx.store, "9.9.9", 1600000, E), RR_ENOTFOUND);
  a = create("1.2.3.1"); /* opened at 10000 by the creation */
  ck_assert_int_eq(save(a, "{}", 11000), 0);
  ck_assert_int_eq(sign(a, "preliminary", 12000), 0);
  ck_assert_int_eq(sign(a, "final", 13000), 0);
  ck_assert_int_eq(add(a, "addendum", 14000), 0);

  ck_assert_int_eq(rr_store_report_timeline(fx.store, &t, 1000000, 2000000, E), 0);
  ck_assert_uint_eq(t->count, 3);
  ck_assert_str_eq(t->items[0].study_uid, "1.2.3.1");
  ck_assert_str_eq(t->items[0].modality, "CT"); /* CT and SR: SR is derived */
  ck_assert_int_eq(t->items[0].received_at, 1000000);
  ck_assert_int_eq(t->items[0].opened_at, 10000);
  ck_assert_int_eq(t->items[0].preliminary_at, 12000);
  ck_assert_int_eq(t->items[0].final_at, 13000);
  ck_assert_str_eq(t->items[1].study_uid, "1.2.3.2");
  ck_assert_str_eq(t->items[1].modality, "MR");
  ck_assert_int_eq(t->items[1].opened_at, 1500000);
  ck_assert_int_eq(t->items[1].final_at, 0);
  ck_assert_str_eq(t->items[2].study_uid, "1.2.3.3");
  ck_assert_int_eq(t->items[2].opened_at, 0);
  rr_report_timeline_list_free(t);
  ck_assert_int_eq(rr_store_report_timeline(fx.store, &t, 1000001, 2000001, E), 0);
  ck_assert_uint_eq(t->count, 2);
  ck_assert_str_eq(t->items[0].study_uid, "1.2.3.4");
  ck_assert_int_eq(t->items[0].received_at, 2000000);
  rr_report_timeline_list_free(t);
}
END_TEST

START_TEST(reports_macros)
{
  rr_macro_list *l = NULL;
  char name[80];
  int i;

  ck_assert_int_eq(rr_store_macro_put(fx.store, "rad", "normal chest", "Lungs clear.", 100, E), 0);
  ck_assert_int_eq(rr_store_macro_put(fx.store, "rad", "Ärger", "x", 200, E), 0);
  ck_assert_int_eq(rr_store_macro_put(fx.store, "rad", "normal chest", "Lungs are clear.", 300, E), 0);
  ck_assert_int_eq(rr_store_macro_put(fx.store, "other", "normal chest", "theirs", 300, E), 0);
  ck_assert_int_eq(rr_store_macro_put(fx.store, "rad", "", "x", 300, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_macro_put(fx.store, "rad", "tab\there", "x", 300, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_macro_put(fx.store, "rad", "bad \xff utf8", "x", 300, E), RR_EINVAL);
  ck_assert_int_eq(rr_store_macro_list(fx.store, &l, "rad", E), 0);
  ck_assert_uint_eq(l->count, 2);
  ck_assert_str_eq(l->items[0].name, "normal chest");
  ck_assert_str_eq(l->items[0].text, "Lungs are clear.");
  ck_assert_int_eq(l->items[0].updated_at, 300);
  ck_assert_str_eq(l->items[1].name, "Ärger");
  rr_macro_list_free(l);
  ck_assert_int_eq(rr_store_macro_remove(fx.store, "rad", "Normal chest", E), RR_ENOTFOUND); /* names compare exactly */
  ck_assert_int_eq(rr_store_macro_remove(fx.store, "rad", "normal chest", E), 0);
  ck_assert_int_eq(rr_store_macro_remove(fx.store, "rad", "normal chest", E), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_macro_list(fx.store, &l, "other", E), 0);
  ck_assert_uint_eq(l->count, 1);
  ck_assert_str_eq(l->items[0].text, "theirs");
  rr_macro_list_free(l);
  for (i = 1; i < 500; i++) {
    snprintf(name, sizeof(name), "m%03d", i);
    ck_assert_int_eq(rr_store_macro_put(fx.store, "rad", name, "t", 400, E), 0);
  }
  ck_assert_int_eq(rr_store_macro_put(fx.store, "rad", "one too many", "t", 400, E), RR_EFULL);
  ck_assert_int_eq(rr_store_macro_put(fx.store, "rad", "m001", "replaced", 400, E), 0);
}
END_TEST

/* A backend without the concern: each function fails with a sentence. */
START_TEST(reports_missing)
{
  rr_store *stub = rr_fx_stub();
  rr_report *r = NULL;
  rr_report_list *rl = NULL;
  rr_report_row_list *rows = NULL;
  rr_macro_list *ml = NULL;
  rr_report_timeline_list *tl = NULL;
  rr_report_version v;
  rr_report_query q;
  int64_t id = 0;
  bool has = false;

  memset(&q, 0, sizeof(q));
  ck_assert_int_eq(rr_store_report_create(stub, &id, "1", "t", "{}", "rad", 1, E), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement reports");
  ck_assert_int_eq(rr_store_report_get(stub, &r, 1, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_for_study(stub, &rl, "1", E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_open_for_study(stub, &id, "1", E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_save_draft(stub, &v, 1, NULL, NULL, NULL, -1, "rad", 1, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_next_version(stub, &id, NULL, 1, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_sign(stub, &id, 1, NULL, "final", NULL, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_add_version(stub, &id, 1, 1, "addendum", NULL, "x", NULL, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_cancel(stub, 1, "rad", "x", 1, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_entered_in_error(stub, 1, "rad", "x", 1, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_acknowledge(stub, 1, "rad", 1, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_pdf(stub, &v, 1, 1, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_list(stub, &rows, &q, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_has_final(stub, &has, "1", "", E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_opened(stub, "1", 1, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_timeline(stub, &tl, 0, 1, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_macro_list(stub, &ml, "rad", E), RR_ESTORE);
  ck_assert_int_eq(rr_store_macro_put(stub, "rad", "n", "t", 1, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_macro_remove(stub, "rad", "n", E), RR_ESTORE);
  ck_assert_ptr_null(r);
  ck_assert_ptr_null(rl);
  ck_assert_ptr_null(rows);
  ck_assert_ptr_null(ml);
  ck_assert_ptr_null(tl);
  rr_store_free(stub);
  /* the *_free functions accept NULL */
  rr_report_free(NULL);
  rr_report_list_free(NULL);
  rr_report_row_list_free(NULL);
  rr_macro_list_free(NULL);
  rr_report_timeline_list_free(NULL);
  rr_report_version_dispose(NULL);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {reports_create_and_get,
                                reports_json_bounds,
                                reports_draft_saves_and_stale,
                                reports_sign_preliminary_then_final,
                                reports_final_from_preliminary,
                                reports_addenda_corrections_and_refusals,
                                reports_cancel,
                                reports_transition_matrix,
                                reports_concurrent_drafts,
                                reports_signed_versions_frozen_in_the_file,
                                reports_acknowledge_and_worklist,
                                reports_list_and_has_final,
                                reports_timeline,
                                reports_macros,
                                reports_missing};

  return rr_fx_run("reports", tests, sizeof(tests) / sizeof(tests[0]));
}
