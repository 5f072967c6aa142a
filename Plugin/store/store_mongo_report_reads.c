/*
 * store_mongo_report_reads.c - the MongoDB backend's reports concern, its
 * reads and small writes besides the lifecycle (store_mongo_reports.c):
 * the reports list with its study fields, has_final, the reading timeline
 * (opened, timeline) and each user's macros, as the SQLite and PostgreSQL
 * backends do (contract in store_reports.h).
 *
 * The list: the study filters (free-text words against the studies' word
 * array `text_terms`, the patient id, the referring physician) select
 * StudyInstanceUIDs from `studies` first; referring physicians are compared
 * in C (rr_pn_match of report_rules.h, as the PostgreSQL backend does) over
 * the distinct values of the field. Reports are then read in two runs of
 * the same sort (newest signature, latest change, id): first the critical
 * results the user has not acknowledged, then the others, each counted,
 * so that paging and the total stay in the server. A row's study fields
 * come from the most recently updated study document of its UID ("" when
 * the study left the index).
 * The timeline's received_at is the studies' (seconds, as the other
 * backends keep it), the rest the study_reports documents'.
 * Macros: collection `report_macros` ({user_key, username, name, text,
 * updated_at}, unique on (user_key, name); user_key is the user name in
 * ASCII lower case, as the other backends compare user names). The limit of
 * 500 per user is checked before the write: two writers racing at the
 * 500th macro of one user may both pass (the other backends lock).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report_rules.h"
#include "store_mongo_internal.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"

#define MACROS "report_macros"
#define MACROS_PER_USER 500
#define UID_SET_MAX 100000
#define TIMELINE_MAX 200000

/* ------------------------------------------------------------ UID sets */

typedef struct uid_set {
  char (*uids)[RR_UID_SIZE];
  size_t count, cap;
} uid_set;

static void uid_set_dispose(uid_set *u)
{
  free(u->uids);
  memset(u, 0, sizeof(*u));
}

static int uid_set_add(uid_set *u, const char *uid)
{
  void *grown;

  if (u->count == u->cap) {
    size_t cap = u->cap ? u->cap * 2 : 64;
    if (u->count >= UID_SET_MAX || (grown = realloc(u->uids, cap * sizeof(*u->uids))) == NULL)
      return u->count >= UID_SET_MAX ? RR_EFULL : RR_ENOMEM;
    u->uids = grown;
    u->cap = cap;
  }
  rr_str_copy(u->uids[u->count++], RR_UID_SIZE, uid);
  return 0;
}

/* Appends {field: {$in: [uids]}} to doc. */
static void append_in(bson_t *doc, const char *field, const uid_set *u)
{
  bson_t sub, arr;
  char buf[16];
  const char *key;
  size_t i;

  BSON_APPEND_DOCUMENT_BEGIN(doc, field, &sub);
  BSON_APPEND_ARRAY_BEGIN(&sub, "$in", &arr);
  for (i = 0; i < u->count; i++) {
    bson_uint32_to_string((uint32_t)i, &key, buf, sizeof(buf));
    BSON_APPEND_UTF8(&arr, key, u->uids[i]);
  }
  bson_append_array_end(&sub, &arr);
  bson_append_document_end(doc, &sub);
}

/* Runs find(filter, opts) on coll and calls fn for each document. */
typedef int (*doc_fn)(void *ctx, const bson_t *doc);
static int each_doc(rr_mongo_store *s, const char *coll, const bson_t *filter, const bson_t *opts, doc_fn fn,
                    void *ctx, const char *what, char *err, size_t errsize)
{
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *col = rr_mongo_collection(s, c, coll);
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
  const bson_t *doc;
  bson_error_t e;
  int error = 0;

  while (error == 0 && mongoc_cursor_next(cur, &doc))
    error = fn(ctx, doc);
  if (error == 0 && mongoc_cursor_error(cur, &e))
    error = rr_mongo_fail(err, errsize, &e, what);
  else if (error < 0)
    error = rr_fail(err, errsize, error, "mongodb: %s: %s", what,
                    error == RR_EFULL ? "too many studies match; narrow the query" : "out of memory");
  mongoc_cursor_destroy(cur);
  mongoc_collection_destroy(col);
  rr_mongo_push(s, c);
  return error;
}

static int add_uid(void *ctx, const bson_t *doc)
{
  char uid[RR_UID_SIZE];

  rr_mongo_copy(uid, sizeof(uid), doc, "study_uid");
  return uid_set_add(ctx, uid);
}

/* ------------------------------------------------------------ the list */

typedef struct names_ctx {
  rr_pn_query pq;
  bson_t arr; /* the $in array of the matching values */
  uint32_t n;
} names_ctx;

/* A distinct referring physician of the studies, into the $in array of
 * nc when it matches. */
static int match_name(names_ctx *nc, const char *v)
{
  char buf[16];
  const char *key;

  if (!rr_pn_match(&nc->pq, v))
    return 0;
  bson_uint32_to_string(nc->n++, &key, buf, sizeof(buf));
  BSON_APPEND_UTF8(&nc->arr, key, v);
  return 0;
}

/* {"referring_physician": {"$in": [the matching values]}} into filter. */
static int where_referring(rr_mongo_store *s, bson_t *filter, const char *referring, char *err, size_t errsize)
{
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *col = rr_mongo_collection(s, c, "studies");
  bson_t *cmd = BCON_NEW("distinct", BCON_UTF8("studies"), "key", BCON_UTF8("referring_physician"), "query", "{",
                         "referring_physician", "{", "$ne", BCON_UTF8(""), "}", "}");
  bson_t reply, sub;
  bson_iter_t it, values;
  bson_error_t e;
  names_ctx nc;
  int error = 0;

  memset(&nc, 0, sizeof(nc));
  if (!mongoc_collection_read_command_with_opts(col, cmd, NULL, NULL, &reply, &e))
    error = rr_mongo_fail(err, errsize, &e, "referring physicians");
  else if ((error = rr_pn_query_init(&nc.pq, referring)) < 0)
    error = rr_fail(err, errsize, error, "the referring physician is too long");
  if (error == 0) {
    BSON_APPEND_DOCUMENT_BEGIN(filter, "referring_physician", &sub);
    BSON_APPEND_ARRAY_BEGIN(&sub, "$in", &nc.arr);
    if (bson_iter_init_find(&it, &reply, "values") && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &values))
      while (bson_iter_next(&values))
        if (BSON_ITER_HOLDS_UTF8(&values))
          match_name(&nc, bson_iter_utf8(&values, NULL));
    bson_append_array_end(&sub, &nc.arr);
    bson_append_document_end(filter, &sub);
  }
  rr_pn_query_dispose(&nc.pq);
  bson_destroy(&reply);
  bson_destroy(cmd);
  mongoc_collection_destroy(col);
  rr_mongo_push(s, c);
  return error;
}

/* The $and of the free-text words (folded, each a prefix of a word of the
 * study's text_terms) into filter. */
static int where_words(bson_t *filter, const char *text)
{
  rr_buf folded, re;
  const char *w;
  size_t pos = 0, wl, n = 0, i;
  bson_t arr, elem, sub;
  char buf[16];
  const char *key;
  int error;

  rr_buf_init(&folded, RR_QUERY_VALUE_SIZE * 4);
  rr_buf_init(&re, RR_QUERY_VALUE_SIZE * 8);
  if ((error = rr_text_fold(&folded, text, strlen(text), false)) < 0)
    goto out;
  BSON_APPEND_ARRAY_BEGIN(filter, "$and", &arr);
  while (error == 0 && n < RR_QUERY_MAX_WORDS && rr_text_next_word(folded.ptr ? folded.ptr : "", &pos, &w, &wl)) {
    rr_buf_clear(&re);
    error = rr_buf_putc(&re, '^');
    for (i = 0; i < wl && error == 0; i++)
      if (strchr("\\^$.|?*+()[]{}/-", w[i]) == NULL || (error = rr_buf_putc(&re, '\\')) == 0)
        error = rr_buf_putc(&re, w[i]);
    if (error < 0)
      break;
    bson_uint32_to_string((uint32_t)n++, &key, buf, sizeof(buf));
    BSON_APPEND_DOCUMENT_BEGIN(&arr, key, &elem);
    BSON_APPEND_DOCUMENT_BEGIN(&elem, "text_terms", &sub);
    BSON_APPEND_UTF8(&sub, "$regex", re.ptr);
    BSON_APPEND_UTF8(&sub, "$options", "s");
    bson_append_document_end(&elem, &sub);
    bson_append_document_end(&arr, &elem);
  }
  if (n == 0) { /* no word: an $and must not be empty */
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &elem);
    bson_append_document_end(&arr, &elem);
  }
  bson_append_array_end(filter, &arr);
out:
  rr_buf_dispose(&folded);
  rr_buf_dispose(&re);
  return error;
}

/* The UIDs of the studies the query's study filters select. */
static int study_filter(rr_mongo_store *s, uid_set *out, const rr_report_query *q, char *err, size_t errsize)
{
  bson_t filter = BSON_INITIALIZER;
  bson_t *opts = BCON_NEW("projection", "{", "study_uid", BCON_INT32(1), "}");
  int error = 0;

  if (q->patient_id[0] != '\0')
    BSON_APPEND_UTF8(&filter, "patient_id", q->patient_id);
  if (q->text[0] != '\0' && (error = where_words(&filter, q->text)) < 0)
    error = rr_fail(err, errsize, error == RR_ENOMEM ? RR_ENOMEM : RR_EINVAL, "reports query too complex");
  if (error == 0 && q->referring[0] != '\0')
    error = where_referring(s, &filter, q->referring, err, errsize);
  if (error == 0)
    error = each_doc(s, "studies", &filter, opts, add_uid, out, "reports list", err, errsize);
  bson_destroy(opts);
  bson_destroy(&filter);
  return error;
}

static bool acked_by(const bson_t *doc, const char *username)
{
  bson_iter_t it, child, u;

  if (!bson_iter_init_find(&it, doc, "acks") || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &child))
    return false;
  while (bson_iter_next(&child))
    if (BSON_ITER_HOLDS_DOCUMENT(&child) && bson_iter_recurse(&child, &u) && bson_iter_find(&u, "username") &&
        BSON_ITER_HOLDS_UTF8(&u) && strcasecmp(bson_iter_utf8(&u, NULL), username) == 0)
      return true;
  return false;
}

typedef struct rows_ctx {
  rr_report_row_list *list;
  size_t cap;
  const char *username;
} rows_ctx;

static int add_row(void *ctx, const bson_t *doc)
{
  rows_ctx *rc = ctx;
  rr_report_row *x = rr_store_list_push(&rr_report_row_list_kind, rc->list, &rc->cap, 16);

  if (x == NULL)
    return RR_ENOMEM;
  x->id = rr_mongo_int(doc, "id");
  rr_mongo_copy(x->study_uid, sizeof(x->study_uid), doc, "study_uid");
  rr_mongo_copy(x->state, sizeof(x->state), doc, "state");
  rr_mongo_copy(x->template_id, sizeof(x->template_id), doc, "template_id");
  x->critical = rr_mongo_bool(doc, "critical");
  x->acknowledged = acked_by(doc, rc->username);
  rr_mongo_copy(x->signed_by, sizeof(x->signed_by), doc, "signed_by");
  x->signed_at = rr_mongo_int(doc, "signed_at");
  x->updated_at = rr_mongo_int(doc, "updated_at");
  return 0;
}

/* The filter of one run: the states, the studies, and `first` (the
 * critical results the user has not acknowledged) or the others. */
static bson_t *run_filter(const rr_report_query *q, const uid_set *studies, bool first)
{
  bson_t *f = bson_new(), sub, arr;
  char buf[16], user[RR_USERNAME_SIZE];
  const char *key;
  size_t i;

  rr_mongo_user_key(user, sizeof(user), q->username);
  if (q->state_count > 0) {
    BSON_APPEND_DOCUMENT_BEGIN(f, "state", &sub);
    BSON_APPEND_ARRAY_BEGIN(&sub, "$in", &arr);
    for (i = 0; i < q->state_count; i++) {
      bson_uint32_to_string((uint32_t)i, &key, buf, sizeof(buf));
      BSON_APPEND_UTF8(&arr, key, q->states[i]);
    }
    bson_append_array_end(&sub, &arr);
    bson_append_document_end(f, &sub);
  }
  if (studies != NULL)
    append_in(f, "study_uid", studies);
  if (first) {
    BSON_APPEND_BOOL(f, "critical", true);
    BCON_APPEND(f, "acks.user_key", "{", "$ne", BCON_UTF8(user), "}");
  } else {
    BCON_APPEND(f, "$or", "[", "{", "critical", "{", "$ne", BCON_BOOL(true), "}", "}", "{", "acks.user_key",
                BCON_UTF8(user), "}", "]");
  }
  return f;
}

static int count_docs(rr_mongo_store *s, int64_t *out, const char *coll, const bson_t *filter, char *err,
                      size_t errsize)
{
  return rr_mongo_count(s, out, coll, filter, NULL, "counting", err, errsize);
}

/* One run: its count into *total, its rows from `skip` (at most `limit`). */
static int list_run(rr_mongo_store *s, rows_ctx *rc, int64_t *total, const bson_t *filter, int64_t skip,
                    int64_t limit, char *err, size_t errsize)
{
  bson_t *opts;
  int error;

  if ((error = count_docs(s, total, "reports", filter, err, errsize)) < 0 || limit <= 0 || skip >= *total)
    return error;
  opts = BCON_NEW("sort", "{", "signed_at", BCON_INT32(-1), "updated_at", BCON_INT32(-1), "id", BCON_INT32(-1), "}",
                  "skip", BCON_INT64(skip), "limit", BCON_INT64(limit), "projection", "{", "versions", BCON_INT32(0),
                  "template_json", BCON_INT32(0), "}");
  error = each_doc(s, "reports", filter, opts, add_row, rc, "reports list", err, errsize);
  bson_destroy(opts);
  return error;
}

/* The study fields of a row from the study document (the first one seen
 * per UID: they come most recently updated first). */
static int fill_study(void *ctx, const bson_t *doc)
{
  rr_report_row_list *list = ctx;
  char uid[RR_UID_SIZE];
  size_t i;

  rr_mongo_copy(uid, sizeof(uid), doc, "study_uid");
  for (i = 0; i < list->count; i++) {
    rr_report_row *x = &list->items[i];
    if (strcmp(x->study_uid, uid) != 0 || x->modalities[0] != '\0' || x->patient_id[0] != '\0' ||
        x->patient_name[0] != '\0' || x->study_date[0] != '\0')
      continue;
    rr_mongo_copy(x->patient_name, sizeof(x->patient_name), doc, "patient_name");
    rr_mongo_copy(x->patient_id, sizeof(x->patient_id), doc, "patient_id");
    rr_mongo_copy(x->patient_birth_date, sizeof(x->patient_birth_date), doc, "patient_birth_date");
    rr_mongo_copy(x->study_date, sizeof(x->study_date), doc, "study_date");
    rr_mongo_copy(x->study_description, sizeof(x->study_description), doc, "study_description");
    rr_mongo_copy(x->accession_number, sizeof(x->accession_number), doc, "accession_number");
    rr_mongo_copy(x->referring_physician, sizeof(x->referring_physician), doc, "referring_physician");
    rr_mongo_copy(x->modalities, sizeof(x->modalities), doc, "modalities");
  }
  return 0;
}

static int fill_studies(rr_mongo_store *s, rr_report_row_list *list, char *err, size_t errsize)
{
  uid_set page = {NULL, 0, 0};
  bson_t filter = BSON_INITIALIZER;
  bson_t *opts = BCON_NEW("sort", "{", "updated_at", BCON_INT32(-1), "_id", BCON_INT32(-1), "}", "projection", "{",
                          "name_terms", BCON_INT32(0), "desc_terms", BCON_INT32(0), "text_terms", BCON_INT32(0), "}");
  size_t i;
  int error = 0;

  for (i = 0; i < list->count && error == 0; i++)
    error = uid_set_add(&page, list->items[i].study_uid);
  if (error < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else if (page.count > 0) {
    append_in(&filter, "study_uid", &page);
    error = each_doc(s, "studies", &filter, opts, fill_study, list, "reports list", err, errsize);
  }
  uid_set_dispose(&page);
  bson_destroy(opts);
  bson_destroy(&filter);
  return error;
}

int rr_mongo_report_list(void *impl, rr_report_row_list **out, const rr_report_query *q, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  uid_set studies = {NULL, 0, 0};
  bool by_study = q->text[0] != '\0' || q->patient_id[0] != '\0' || q->referring[0] != '\0';
  int64_t limit, first_total = 0, rest_total = 0, skip = (int64_t)q->offset;
  bson_t *first = NULL, *rest = NULL;
  rows_ctx rc = {NULL, 0, q->username};
  int error;

  *out = NULL;
  if ((error = rr_report_check_query(q, err, errsize)) < 0)
    return error;
  limit = (int64_t)rr_report_query_limit(q);
  if ((rc.list = rr_store_list_new(&rr_report_row_list_kind)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if (by_study && (error = study_filter(s, &studies, q, err, errsize)) < 0)
    goto out;
  if (by_study && studies.count == 0)
    goto done;
  first = run_filter(q, by_study ? &studies : NULL, true);
  rest = run_filter(q, by_study ? &studies : NULL, false);
  if ((error = list_run(s, &rc, &first_total, first, skip, limit, err, errsize)) < 0)
    goto out;
  skip = skip > first_total ? skip - first_total : 0;
  if ((error = list_run(s, &rc, &rest_total, rest, skip, limit - (int64_t)rc.list->count, err, errsize)) < 0 ||
      (error = fill_studies(s, rc.list, err, errsize)) < 0)
    goto out;
done:
  rc.list->total = first_total + rest_total;
  *out = rc.list;
  rc.list = NULL;
out:
  rr_report_row_list_free(rc.list);
  uid_set_dispose(&studies);
  bson_destroy(first);
  bson_destroy(rest);
  return error;
}

/* ------------------------------------------------------------ has_final */

typedef struct final_ctx {
  uid_set uids;
  rr_pn_query pq;
  bool pq_ready, found;
} final_ctx;

static int final_referring(void *ctx, const bson_t *doc)
{
  final_ctx *f = ctx;
  char v[RR_PN_SIZE];

  rr_mongo_copy(v, sizeof(v), doc, "referring_physician");
  f->found = f->found || rr_pn_match(&f->pq, v);
  return 0;
}

int rr_mongo_report_has_final(void *impl, bool *out, const char *study_uid_or_orthanc_id, const char *referring,
                              char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  final_ctx f;
  bson_t *by_oid = NULL, *finals = NULL, filter = BSON_INITIALIZER, *opts;
  int64_t n = 0;
  int error;

  if (study_uid_or_orthanc_id == NULL || study_uid_or_orthanc_id[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a study is required");
  memset(&f, 0, sizeof(f));
  opts = BCON_NEW("projection", "{", "study_uid", BCON_INT32(1), "referring_physician", BCON_INT32(1), "}");
  by_oid = BCON_NEW("orthanc_id", BCON_UTF8(study_uid_or_orthanc_id));
  if ((error = uid_set_add(&f.uids, study_uid_or_orthanc_id)) < 0 ||
      (error = each_doc(s, "studies", by_oid, opts, add_uid, &f.uids, "read final report", err, errsize)) < 0)
    goto out;
  finals = BCON_NEW("state", "{", "$in", "[", BCON_UTF8("final"), BCON_UTF8("appended"), BCON_UTF8("corrected"), "]",
                    "}");
  append_in(finals, "study_uid", &f.uids);
  if ((error = count_docs(s, &n, "reports", finals, err, errsize)) < 0 || n == 0 || referring == NULL ||
      referring[0] == '\0')
    goto out;
  /* the referring physicians of the studies with a final report */
  if ((error = rr_pn_query_init(&f.pq, referring)) < 0) {
    error = rr_fail(err, errsize, error, "the referring physician is too long");
    goto out;
  }
  f.pq_ready = true;
  append_in(&filter, "study_uid", &f.uids);
  error = each_doc(s, "studies", &filter, opts, final_referring, &f, "read final report", err, errsize);
out:
  if (error == 0)
    *out = n > 0 && (referring == NULL || referring[0] == '\0' || f.found);
  rr_pn_query_dispose(&f.pq);
  uid_set_dispose(&f.uids);
  bson_destroy(by_oid);
  bson_destroy(finals);
  bson_destroy(&filter);
  bson_destroy(opts);
  return error;
}

/* ------------------------------------------------------------ timeline */

int rr_mongo_report_opened(void *impl, const char *study_uid, int64_t now, char *err, size_t errsize)
{
  bool found = false;
  int error;

  if (study_uid == NULL || study_uid[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a study is required");
  if ((error = rr_mongo_report_study_exists(impl, &found, study_uid, err, errsize)) < 0)
    return error;
  if (!found)
    return rr_fail(err, errsize, RR_ENOTFOUND, "no such study");
  return rr_mongo_report_timeline_mark(impl, study_uid, "opened_at", now, err, errsize);
}

typedef struct timeline_ctx {
  rr_report_timeline_list *list;
  size_t cap;
} timeline_ctx;

static int timeline_find(const rr_report_timeline_list *list, const char *uid)
{
  size_t i;

  for (i = list->count; i > 0; i--)
    if (strcmp(list->items[i - 1].study_uid, uid) == 0)
      return (int)(i - 1);
  return -1;
}

/* A study document (they come by received_at): a new timeline per UID; a
 * later document of the same UID only adds a modality when it had none. */
static int timeline_study(void *ctx, const bson_t *doc)
{
  timeline_ctx *tc = ctx;
  char uid[RR_UID_SIZE], mods[RR_MODS_SIZE];
  rr_report_timeline *t;
  int at;

  rr_mongo_copy(uid, sizeof(uid), doc, "study_uid");
  rr_mongo_copy(mods, sizeof(mods), doc, "modalities");
  if ((at = timeline_find(tc->list, uid)) >= 0) {
    if (tc->list->items[at].modality[0] == '\0')
      rr_report_first_modality(tc->list->items[at].modality, sizeof(tc->list->items[at].modality), mods);
    return 0;
  }
  if (tc->list->count >= TIMELINE_MAX)
    return 0;
  if ((t = rr_store_list_push(&rr_report_timeline_list_kind, tc->list, &tc->cap, 64)) == NULL)
    return RR_ENOMEM;
  rr_str_copy(t->study_uid, sizeof(t->study_uid), uid);
  t->received_at = rr_mongo_int(doc, "received_at") * 1000;
  rr_report_first_modality(t->modality, sizeof(t->modality), mods);
  return 0;
}

static int timeline_marks(void *ctx, const bson_t *doc)
{
  rr_report_timeline_list *list = ctx;
  char uid[RR_UID_SIZE];
  int at;

  rr_mongo_copy(uid, sizeof(uid), doc, "study_uid");
  if ((at = timeline_find(list, uid)) < 0)
    return 0;
  list->items[at].opened_at = rr_mongo_int(doc, "opened_at");
  list->items[at].preliminary_at = rr_mongo_int(doc, "preliminary_at");
  list->items[at].final_at = rr_mongo_int(doc, "final_at");
  return 0;
}

static int by_received(const void *a, const void *b)
{
  const rr_report_timeline *x = a, *y = b;

  if (x->received_at != y->received_at)
    return x->received_at < y->received_at ? -1 : 1;
  return strcmp(x->study_uid, y->study_uid);
}

/* studies.received_at is in seconds: s*1000 >= since <=> s >= ceil(since/1000). */
static int64_t ceil_seconds(int64_t ms)
{
  return ms >= 0 ? (ms + 999) / 1000 : -((-ms) / 1000);
}

/* The study_reports documents of the timelines, 1000 UIDs per query. */
static int timeline_fill(rr_mongo_store *s, rr_report_timeline_list *list, char *err, size_t errsize)
{
  size_t from, i;
  int error = 0;

  for (from = 0; from < list->count && error == 0; from += 1000) {
    uid_set batch = {NULL, 0, 0};
    bson_t filter = BSON_INITIALIZER;
    for (i = from; i < list->count && i < from + 1000 && error == 0; i++)
      error = uid_set_add(&batch, list->items[i].study_uid);
    if (error == 0) {
      append_in(&filter, "study_uid", &batch);
      error = each_doc(s, "study_reports", &filter, NULL, timeline_marks, list, "timeline", err, errsize);
    } else {
      error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    }
    bson_destroy(&filter);
    uid_set_dispose(&batch);
  }
  return error;
}

int rr_mongo_report_timeline(void *impl, rr_report_timeline_list **out, int64_t since, int64_t until, char *err,
                             size_t errsize)
{
  rr_mongo_store *s = impl;
  timeline_ctx tc = {NULL, 0};
  bson_t *filter = BCON_NEW("received_at", "{", "$gte", BCON_INT64(ceil_seconds(since)), "$lt",
                            BCON_INT64(ceil_seconds(until)), "}");
  bson_t *opts = BCON_NEW("sort", "{", "received_at", BCON_INT32(1), "_id", BCON_INT32(1), "}", "projection", "{",
                          "study_uid", BCON_INT32(1), "received_at", BCON_INT32(1), "modalities", BCON_INT32(1), "}");
  int error;

  *out = NULL;
  if ((tc.list = rr_store_list_new(&rr_report_timeline_list_kind)) == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else if ((error = each_doc(s, "studies", filter, opts, timeline_study, &tc, "timeline", err, errsize)) == 0 &&
           (error = timeline_fill(s, tc.list, err, errsize)) == 0) {
    if (tc.list->count > 1)
      qsort(tc.list->items, tc.list->count, sizeof(tc.list->items[0]), by_received);
    *out = tc.list;
    tc.list = NULL;
  }
  rr_report_timeline_list_free(tc.list);
  bson_destroy(filter);
  bson_destroy(opts);
  return error;
}

/* ------------------------------------------------------------ macros */

/* The macros of a user are sorted here, not by the server: the first 500
 * by the server's order, then byte for byte. */


static int read_macro(void *elem, const bson_t *doc, void *ctx)
{
  rr_macro *m = elem;

  (void)ctx;
  rr_mongo_copy(m->name, sizeof(m->name), doc, "name");
  m->updated_at = rr_mongo_int(doc, "updated_at");
  return (m->text = rr_mongo_strdup(doc, "text")) == NULL ? RR_ENOMEM : 0;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(((const rr_macro *)a)->name, ((const rr_macro *)b)->name);
}

int rr_mongo_macro_list(void *impl, rr_macro_list **out, const char *username, char *err, size_t errsize)
{
  char key[RR_USERNAME_SIZE];
  bson_t *filter, *opts;
  rr_macro_list *list;
  int error;

  *out = NULL;
  rr_mongo_user_key(key, sizeof(key), username);
  if ((list = rr_store_list_new(&rr_macro_list_kind)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  filter = BCON_NEW("user_key", BCON_UTF8(key));
  opts = BCON_NEW("sort", "{", "name", BCON_INT32(1), "}", "limit", BCON_INT64(MACROS_PER_USER));
  error = rr_mongo_find_list(impl, list, &rr_macro_list_kind, 8, MACROS, filter, opts, read_macro, NULL, "macros", err,
                             errsize);
  /* by name, byte for byte as the other backends (a server may collate) */
  if (error == 0 && list->count > 1)
    qsort(list->items, list->count, sizeof(list->items[0]), by_name);
  if (error == 0)
    *out = list;
  else
    rr_macro_list_free(list);
  bson_destroy(filter);
  bson_destroy(opts);
  return error;
}

int rr_mongo_macro_put(void *impl, const char *username, const char *name, const char *text, int64_t now, char *err,
                       size_t errsize)
{
  rr_mongo_store *s = impl;
  char key[RR_USERNAME_SIZE];
  bson_t *mine, *one = NULL, *upd = NULL;
  int64_t count = 0, exists = 0;
  int error;

  if ((error = rr_report_check_macro(username, name, text ? text : "", err, errsize)) < 0)
    return error;
  rr_mongo_user_key(key, sizeof(key), username);
  mine = BCON_NEW("user_key", BCON_UTF8(key));
  one = BCON_NEW("user_key", BCON_UTF8(key), "name", BCON_UTF8(name));
  if ((error = count_docs(s, &count, MACROS, mine, err, errsize)) < 0 ||
      (error = count_docs(s, &exists, MACROS, one, err, errsize)) < 0)
    goto out;
  if (exists == 0 && count >= MACROS_PER_USER) {
    error = rr_fail(err, errsize, RR_EFULL, "a user has at most %d macros", MACROS_PER_USER);
    goto out;
  }
  upd = BCON_NEW("$set", "{", "username", BCON_UTF8(username), "text", BCON_UTF8(text ? text : ""), "updated_at",
                 BCON_INT64(now), "}");
  error = rr_mongo_write(s, NULL, MACROS, RR_MONGO_UPDATE_ONE, one, upd, true, "write macro", err, errsize);
out:
  bson_destroy(mine);
  bson_destroy(one);
  bson_destroy(upd);
  return error;
}

int rr_mongo_macro_remove(void *impl, const char *username, const char *name, char *err, size_t errsize)
{
  char key[RR_USERNAME_SIZE];
  rr_mongo_write_counts n = {0, 0, 0};
  bson_t *filter;
  int error;

  rr_mongo_user_key(key, sizeof(key), username);
  filter = BCON_NEW("user_key", BCON_UTF8(key), "name", BCON_UTF8(name ? name : ""));
  error = rr_mongo_write(impl, &n, MACROS, RR_MONGO_DELETE_ONE, filter, NULL, false, "remove macro", err, errsize);
  bson_destroy(filter);
  if (error == 0 && n.deleted == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such macro");
  return error;
}

int rr_mongo_report_reads_indexes(rr_mongo_store *s, char *err, size_t errsize)
{
  int error;

  if ((error = rr_mongo_index(s, MACROS, "report_macros_key", BCON_NEW("user_key", BCON_INT32(1), "name",
                                                                       BCON_INT32(1)), true, NULL, err, errsize)) < 0)
    return error;
  return rr_mongo_index(s, "studies", "studies_referring", BCON_NEW("referring_physician", BCON_INT32(1)), false, NULL,
                        err, errsize);
}
