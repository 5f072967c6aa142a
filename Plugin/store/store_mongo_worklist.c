/*
 * store_mongo_worklist.c - the MongoDB backend's worklist reads: the
 * worklist page (a filter document built from the validated query, values
 * always as values: a $regex is built from escaped text) and one study with
 * its series and instances; as store_sqlite_worklist.c.
 *
 * Filters: folded words each prefix an element of the study's word array
 * (name_terms, desc_terms, text_terms: a multikey index answers "^WORD"),
 * GLOB patterns become anchored regular expressions, modalities match the
 * array `mods`, AI/review/report states the fields the AI and reports
 * concerns keep on the study (see store_mongo_index.c). The page is one
 * find with sort (the sort keys, then _id, so pages never overlap), skip
 * and limit; the total one count with the same filter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_mongo_internal.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"
#include "worklist_filter.h"

/* ------------------------------------------------------------ regexes */

static int put_escaped(rr_buf *re, const char *s, size_t len)
{
  size_t i;
  int error = 0;

  for (i = 0; i < len && error == 0; i++) {
    if (strchr("\\^$.|?*+()[]{}/-", s[i]) != NULL && (error = rr_buf_putc(re, '\\')) < 0)
      return error;
    error = rr_buf_putc(re, s[i]);
  }
  return error;
}

/* An SQLite GLOB pattern as an anchored regular expression: * ? [...]
 * ([^...] for [!...]), every other character literal. */
static int glob_regex(rr_buf *re, const char *glob)
{
  const char *p = glob, *end;
  int error;

  if ((error = rr_buf_putc(re, '^')) < 0)
    return error;
  for (; *p && error == 0; p++) {
    if (*p == '*')
      error = rr_buf_puts(re, ".*");
    else if (*p == '?')
      error = rr_buf_putc(re, '.');
    else if (*p == '[' && (end = strchr(p + (p[1] == '!' || p[1] == '^' ? 3 : 2), ']')) != NULL) {
      const char *q = p + 1;
      error = rr_buf_putc(re, '[');
      if (error == 0 && (*q == '!' || *q == '^')) {
        error = rr_buf_putc(re, '^');
        q++;
      }
      for (; q < end && error == 0; q++)
        error = (*q == '\\' || *q == '[' || *q == '^' || *q == ']') ? rr_buf_printf(re, "\\%c", *q)
                                                                     : rr_buf_putc(re, *q);
      if (error == 0)
        error = rr_buf_putc(re, ']');
      p = end;
    } else
      error = put_escaped(re, p, 1);
  }
  return error == 0 ? rr_buf_putc(re, '$') : error;
}

static void append_regex(bson_t *doc, const char *field, const char *re)
{
  bson_t sub;

  BSON_APPEND_DOCUMENT_BEGIN(doc, field, &sub);
  BSON_APPEND_UTF8(&sub, "$regex", re);
  BSON_APPEND_UTF8(&sub, "$options", "s");
  bson_append_document_end(doc, &sub);
}

/* ------------------------------------------------------------ filter */

typedef struct filter_ctx {
  bson_t and_;   /* the $and array being filled */
  uint32_t n;    /* its elements */
  rr_buf re;
} filter_ctx;

/* Begin the next element of the $and array. */
static void and_begin(filter_ctx *f, bson_t *elem)
{
  char key[24];

  snprintf(key, sizeof(key), "%u", f->n++);
  BSON_APPEND_DOCUMENT_BEGIN(&f->and_, key, elem);
}

static int where_words(filter_ctx *f, const char *field, const char *words)
{
  const char *w;
  size_t pos = 0, wl, n = 0;
  bson_t elem;
  int error = 0;

  while (error == 0 && n < RR_QUERY_MAX_WORDS && rr_text_next_word(words, &pos, &w, &wl)) {
    if (wl > RR_QUERY_VALUE_SIZE - 1)
      return RR_EINVAL;
    rr_buf_clear(&f->re);
    if ((error = rr_buf_putc(&f->re, '^')) < 0 || (error = put_escaped(&f->re, w, wl)) < 0)
      return error;
    and_begin(f, &elem);
    append_regex(&elem, field, f->re.ptr);
    bson_append_document_end(&f->and_, &elem);
    n++;
  }
  return error;
}

static int where_match(filter_ctx *f, const rr_match *m, const char *field, const char *terms)
{
  bson_t elem;
  int error;

  switch (m->mode) {
  case RR_MATCH_NONE:
    return 0;
  case RR_MATCH_EXACT:
    and_begin(f, &elem);
    BSON_APPEND_UTF8(&elem, field, m->value);
    bson_append_document_end(&f->and_, &elem);
    return 0;
  case RR_MATCH_GLOB:
    rr_buf_clear(&f->re);
    if ((error = glob_regex(&f->re, m->value)) < 0)
      return error;
    and_begin(f, &elem);
    append_regex(&elem, field, f->re.ptr);
    bson_append_document_end(&f->and_, &elem);
    return 0;
  case RR_MATCH_WORDS:
    return where_words(f, terms, m->value);
  }
  return RR_EINVAL;
}

/* An array value of strings (appended as `key` to parent). */
static void append_strings(bson_t *parent, const char *key, const char *const *values, size_t count, bool with_null)
{
  bson_t arr;
  char index[24];
  size_t i;

  BSON_APPEND_ARRAY_BEGIN(parent, key, &arr);
  for (i = 0; i < count; i++) {
    snprintf(index, sizeof(index), "%zu", i);
    BSON_APPEND_UTF8(&arr, index, values[i]);
  }
  if (with_null) {
    snprintf(index, sizeof(index), "%zu", count);
    BSON_APPEND_NULL(&arr, index);
  }
  bson_append_array_end(parent, &arr);
}

/* field in the named states; "" (no analysis) also matches "" and absent. */
static void where_states(filter_ctx *f, const char *field, const char (*values)[RR_STATE_SIZE], size_t count)
{
  const char *list[RR_QUERY_MAX_STATES + 1];
  rr_wfilter_states st;
  bson_t elem, in;
  size_t n;

  if (count == 0)
    return;
  rr_wfilter_states_split(&st, values, count);
  memcpy(list, st.named, st.named_count * sizeof(list[0]));
  n = st.named_count;
  if (st.none)
    list[n++] = "";
  and_begin(f, &elem);
  BSON_APPEND_DOCUMENT_BEGIN(&elem, field, &in);
  append_strings(&in, "$in", list, n, st.none);
  bson_append_document_end(&elem, &in);
  bson_append_document_end(&f->and_, &elem);
}

/* field: the user name in ASCII lower case (user names compare so). */
static void append_user_key(bson_t *doc, const char *field, const char *username)
{
  char key[RR_USERNAME_SIZE];

  rr_mongo_user_key(key, sizeof(key), username);
  BSON_APPEND_UTF8(doc, field, key);
}

/* field: {$ne: the user name in ASCII lower case}. */
static void append_user_ne(bson_t *doc, const char *field, const char *username)
{
  char key[RR_USERNAME_SIZE];

  rr_mongo_user_key(key, sizeof(key), username);
  BCON_APPEND(doc, field, "{", "$ne", BCON_UTF8(key), "}");
}

/* The report filter (parsed): the states of worklist_filter.h on the
 * study's report_state; critical from the flag and the acknowledgements
 * the reports concern keeps on the study. */
static void where_report(filter_ctx *f, const rr_worklist_query *q, rr_wfilter_report report)
{
  const char *const *states;
  size_t n = rr_wfilter_report_states(&states, report);
  bson_t elem, op;

  if (report == RR_WFILTER_REPORT_ANY)
    return;
  and_begin(f, &elem);
  if (report == RR_WFILTER_REPORT_CRITICAL) {
    BSON_APPEND_BOOL(&elem, "report_flagged", true);
    if (q->report_ack_user[0] == '\0')
      BCON_APPEND(&elem, "report_acks.0", "{", "$exists", BCON_BOOL(false), "}");
    else
      append_user_ne(&elem, "report_acks", q->report_ack_user);
  } else {
    BSON_APPEND_DOCUMENT_BEGIN(&elem, "report_state", &op);
    append_strings(&op, report == RR_WFILTER_REPORT_UNREPORTED ? "$nin" : "$in", states, n, false);
    bson_append_document_end(&elem, &op);
    if (report == RR_WFILTER_REPORT_MINE)
      append_user_key(&elem, "report_author_key", q->report_user);
  }
  bson_append_document_end(&f->and_, &elem);
}

static void where_modalities(filter_ctx *f, const rr_worklist_query *q)
{
  bson_t elem, in, arr;
  char key[24];
  size_t i;

  if (q->modality_count == 0)
    return;
  and_begin(f, &elem);
  BSON_APPEND_DOCUMENT_BEGIN(&elem, "mods", &in);
  BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
  for (i = 0; i < q->modality_count && i < RR_QUERY_MAX_MODALITIES; i++) {
    snprintf(key, sizeof(key), "%zu", i);
    BSON_APPEND_UTF8(&arr, key, q->modalities[i]);
  }
  bson_append_array_end(&in, &arr);
  bson_append_document_end(&elem, &in);
  bson_append_document_end(&f->and_, &elem);
}

static void where_dates(filter_ctx *f, const rr_worklist_query *q)
{
  bson_t elem, range;

  if (q->date_from[0] == '\0' && q->date_to[0] == '\0')
    return;
  and_begin(f, &elem);
  BSON_APPEND_DOCUMENT_BEGIN(&elem, "study_date", &range);
  if (q->date_from[0] != '\0')
    BSON_APPEND_UTF8(&range, "$gte", q->date_from);
  if (q->date_to[0] != '\0') {
    BSON_APPEND_UTF8(&range, "$lte", q->date_to);
    BSON_APPEND_UTF8(&range, "$ne", "");
  }
  bson_append_document_end(&elem, &range);
  bson_append_document_end(&f->and_, &elem);
}

/* The filter document of q into out (an empty document matches all). */
static int build_filter(bson_t *out, const rr_worklist_query *q, rr_wfilter_report report)
{
  filter_ctx f;
  int error;

  memset(&f, 0, sizeof(f));
  rr_buf_init(&f.re, 8192);
  bson_init(out);
  BSON_APPEND_ARRAY_BEGIN(out, "$and", &f.and_);
  if ((error = where_match(&f, &q->patient_name, "name_norm", "name_terms")) == 0 &&
      (error = where_match(&f, &q->description, "desc_norm", "desc_terms")) == 0 &&
      (error = where_match(&f, &q->text, "", "text_terms")) == 0 &&
      (error = where_match(&f, &q->patient_id, "patient_id", "")) == 0)
    error = where_match(&f, &q->accession, "accession_number", "");
  if (error == 0) {
    where_modalities(&f, q);
    where_states(&f, "ai_status", q->ai_statuses, q->ai_status_count);
    where_states(&f, "review_status", q->review_statuses, q->review_status_count);
    where_report(&f, q, report);
    where_dates(&f, q);
  }
  if (f.n == 0) { /* $and takes no empty array */
    bson_t elem;
    and_begin(&f, &elem);
    bson_append_document_end(&f.and_, &elem);
  }
  bson_append_array_end(out, &f.and_);
  rr_buf_dispose(&f.re);
  return error;
}

/* ------------------------------------------------------------ rows */

typedef struct row_ctx {
  const char *ack_user;
} row_ctx;

static bool has_value(const bson_t *doc, const char *field, const char *value)
{
  bson_iter_t it, a;
  const char *v;

  if (!bson_iter_init_find(&it, doc, field) || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &a))
    return false;
  while (bson_iter_next(&a))
    if (BSON_ITER_HOLDS_UTF8(&a) && (v = bson_iter_utf8(&a, NULL)) != NULL && (value == NULL || strcmp(v, value) == 0))
      return true;
  return false;
}

static void read_study(rr_study_rec *r, const bson_t *doc, const char *ack_user)
{
  char ack_key[RR_USERNAME_SIZE];

  rr_mongo_user_key(ack_key, sizeof(ack_key), ack_user);
  rr_mongo_copy(r->orthanc_id, sizeof(r->orthanc_id), doc, "orthanc_id");
  rr_mongo_copy(r->patient_orthanc_id, sizeof(r->patient_orthanc_id), doc, "patient_orthanc_id");
  rr_mongo_copy(r->study_uid, sizeof(r->study_uid), doc, "study_uid");
  rr_mongo_copy(r->patient_name, sizeof(r->patient_name), doc, "patient_name");
  rr_mongo_copy(r->patient_id, sizeof(r->patient_id), doc, "patient_id");
  rr_mongo_copy(r->patient_birth_date, sizeof(r->patient_birth_date), doc, "patient_birth_date");
  rr_mongo_copy(r->patient_sex, sizeof(r->patient_sex), doc, "patient_sex");
  rr_mongo_copy(r->study_date, sizeof(r->study_date), doc, "study_date");
  rr_mongo_copy(r->study_time, sizeof(r->study_time), doc, "study_time");
  rr_mongo_copy(r->study_description, sizeof(r->study_description), doc, "study_description");
  rr_mongo_copy(r->accession_number, sizeof(r->accession_number), doc, "accession_number");
  rr_mongo_copy(r->referring_physician, sizeof(r->referring_physician), doc, "referring_physician");
  rr_mongo_copy(r->institution_name, sizeof(r->institution_name), doc, "institution_name");
  rr_mongo_copy(r->modalities, sizeof(r->modalities), doc, "modalities");
  r->series_count = rr_mongo_int(doc, "series_count");
  r->instance_count = rr_mongo_int(doc, "instance_count");
  r->received_at = rr_mongo_int(doc, "received_at");
  r->updated_at = rr_mongo_int(doc, "updated_at");
  rr_mongo_copy(r->ai_status, sizeof(r->ai_status), doc, "ai_status");
  rr_mongo_copy(r->review_status, sizeof(r->review_status), doc, "review_status");
  rr_mongo_copy(r->report_state, sizeof(r->report_state), doc, "report_state");
  r->report_id = rr_mongo_int(doc, "report_id");
  rr_mongo_copy(r->report_author, sizeof(r->report_author), doc, "report_author");
  r->report_critical = rr_mongo_bool(doc, "report_flagged") &&
                       (ack_user == NULL || ack_user[0] == '\0' ? !has_value(doc, "report_acks", NULL)
                                                                 : !has_value(doc, "report_acks", ack_key));
}

static int read_row(void *elem, const bson_t *doc, void *ctx)
{
  read_study(elem, doc, ((row_ctx *)ctx)->ack_user);
  return 0;
}

/* The sort document: the sort keys, then _id (pages never overlap). */
static bson_t *sort_doc(const rr_worklist_query *q)
{
  int32_t d = q->descending ? -1 : 1;

  switch (q->sort) {
  case RR_SORT_PATIENT_NAME:
    return BCON_NEW("name_norm", BCON_INT32(d), "_id", BCON_INT32(d));
  case RR_SORT_RECEIVED_AT:
    return BCON_NEW("received_at", BCON_INT32(d), "_id", BCON_INT32(d));
  case RR_SORT_STUDY_DATE:
  default:
    return BCON_NEW("study_date", BCON_INT32(d), "study_time", BCON_INT32(d), "_id", BCON_INT32(d));
  }
}

static int count_matches(rr_mongo_store *s, int64_t *total, const bson_t *filter, char *err, size_t errsize)
{
  return rr_mongo_count(s, total, "studies", filter, NULL, "counting the worklist", err, errsize);
}

int rr_mongo_query_worklist(void *impl, rr_study_list **out, const rr_worklist_query *q, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  rr_study_list *list = NULL;
  bson_t filter, opts = BSON_INITIALIZER;
  bson_t *sort = NULL;
  row_ctx row = {q->report_ack_user};
  rr_wfilter_report report;
  int error;

  *out = NULL;
  if ((error = rr_wfilter_report_parse(&report, q, err, errsize)) < 0)
    return error;
  if ((error = build_filter(&filter, q, report)) < 0) {
    bson_destroy(&filter);
    return rr_fail(err, errsize, error, "query too complex");
  }
  if ((list = rr_store_list_new(&rr_study_list_kind)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  sort = sort_doc(q);
  BSON_APPEND_DOCUMENT(&opts, "sort", sort);
  BSON_APPEND_INT64(&opts, "skip", (int64_t)q->offset);
  BSON_APPEND_INT64(&opts, "limit", (int64_t)q->limit);
  BCON_APPEND(&opts, "projection", "{", "name_terms", BCON_INT32(0), "desc_terms", BCON_INT32(0), "text_terms",
              BCON_INT32(0), "}");
  if (q->limit > 0 && (error = rr_mongo_find_list(s, list, &rr_study_list_kind, q->limit < 64 ? q->limit : 64,
                                                  "studies", &filter, &opts, read_row, &row, "worklist", err,
                                                  errsize)) < 0)
    goto out;
  if ((error = count_matches(s, &list->total, &filter, err, errsize)) < 0)
    goto out;
  *out = list;
  list = NULL;
out:
  rr_study_list_free(list);
  if (sort != NULL)
    bson_destroy(sort);
  bson_destroy(&opts);
  bson_destroy(&filter);
  return error;
}

/* ------------------------------------------------------------ one study */

static int read_instance(void *elem, const bson_t *doc, void *ctx)
{
  rr_instance_rec *r = elem;
  bson_iter_t it;

  (void)ctx;
  rr_mongo_copy(r->orthanc_id, sizeof(r->orthanc_id), doc, "orthanc_id");
  rr_mongo_copy(r->series_orthanc_id, sizeof(r->series_orthanc_id), doc, "series_orthanc_id");
  rr_mongo_copy(r->sop_instance_uid, sizeof(r->sop_instance_uid), doc, "sop_instance_uid");
  rr_mongo_copy(r->sop_class_uid, sizeof(r->sop_class_uid), doc, "sop_class_uid");
  rr_mongo_copy(r->transfer_syntax, sizeof(r->transfer_syntax), doc, "transfer_syntax");
  r->has_instance_number = bson_iter_init_find(&it, doc, "instance_number");
  r->instance_number = rr_mongo_int(doc, "instance_number");
  r->number_of_frames = rr_mongo_int(doc, "number_of_frames");
  rr_mongo_copy(r->image_position, sizeof(r->image_position), doc, "image_position");
  rr_mongo_copy(r->image_orientation, sizeof(r->image_orientation), doc, "image_orientation");
  return 0;
}

static int read_series(void *elem, const bson_t *doc, void *ctx)
{
  rr_series_detail *d = elem;
  rr_series_rec *r = &d->series;
  bson_iter_t it;

  (void)ctx;
  rr_mongo_copy(r->orthanc_id, sizeof(r->orthanc_id), doc, "orthanc_id");
  rr_mongo_copy(r->study_orthanc_id, sizeof(r->study_orthanc_id), doc, "study_orthanc_id");
  rr_mongo_copy(r->series_uid, sizeof(r->series_uid), doc, "series_uid");
  r->has_series_number = bson_iter_init_find(&it, doc, "series_number");
  r->series_number = rr_mongo_int(doc, "series_number");
  rr_mongo_copy(r->modality, sizeof(r->modality), doc, "modality");
  rr_mongo_copy(r->series_description, sizeof(r->series_description), doc, "series_description");
  rr_mongo_copy(r->body_part, sizeof(r->body_part), doc, "body_part");
  r->instance_count = rr_mongo_int(doc, "instance_count");
  return 0;
}

/* The newest study document of the UID into d->study; RR_ENOTFOUND. */
static int find_study(rr_mongo_store *s, rr_study_detail *d, const char *study_uid, char *err, size_t errsize)
{
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *col = rr_mongo_collection(s, c, "studies");
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(study_uid));
  bson_t *opts = BCON_NEW("sort", "{", "updated_at", BCON_INT32(-1), "_id", BCON_INT32(-1), "}", "limit",
                          BCON_INT64(1));
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
  const bson_t *doc;
  bson_error_t e;
  int error = RR_ENOTFOUND;

  if (mongoc_cursor_next(cur, &doc)) {
    read_study(&d->study, doc, "");
    error = 0;
  } else if (mongoc_cursor_error(cur, &e)) {
    error = rr_mongo_fail(err, errsize, &e, "reading a study");
  }
  mongoc_cursor_destroy(cur);
  bson_destroy(filter);
  bson_destroy(opts);
  mongoc_collection_destroy(col);
  rr_mongo_push(s, c);
  return error;
}

int rr_mongo_get_study(void *impl, rr_study_detail **out, const char *study_uid, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  rr_study_detail *d = rr_store_list_new(&rr_study_detail_kind);
  bson_t *filter = NULL, *opts = NULL, *ifilter, *iopts;
  size_t i;
  int error;

  *out = NULL;
  if (d == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if ((error = find_study(s, d, study_uid, err, errsize)) < 0) {
    if (error == RR_ENOTFOUND)
      rr_fail(err, errsize, RR_ENOTFOUND, "study not found");
    goto out;
  }
  /* by series number (no number last), then UID, then arrival */
  filter = BCON_NEW("study_orthanc_id", BCON_UTF8(d->study.orthanc_id));
  opts = BCON_NEW("sort", "{", "no_number", BCON_INT32(1), "series_number", BCON_INT32(1), "series_uid",
                  BCON_INT32(1), "_id", BCON_INT32(1), "}");
  if ((error = rr_mongo_find_list(s, d, &rr_study_detail_kind, 8, "series", filter, opts, read_series, NULL,
                                  "reading series", err, errsize)) < 0)
    goto out;
  iopts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}");
  for (i = 0; i < d->series_count && error == 0; i++) {
    ifilter = BCON_NEW("series_orthanc_id", BCON_UTF8(d->series[i].series.orthanc_id));
    error = rr_mongo_find_list(s, &d->series[i], &rr_series_detail_kind, 64, "instances", ifilter, iopts,
                               read_instance, NULL, "reading instances", err, errsize);
    bson_destroy(ifilter);
  }
  bson_destroy(iopts);
  if (error < 0)
    goto out;
  *out = d;
  d = NULL;
out:
  rr_study_detail_free(d);
  if (filter != NULL)
    bson_destroy(filter);
  if (opts != NULL)
    bson_destroy(opts);
  return error;
}
