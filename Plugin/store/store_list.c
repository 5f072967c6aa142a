#include "store_list.h"

#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util/errors.h"

/* The array pointer of a list, read and written as bytes: the member is a
 * pointer to the element type, not a void pointer. */
static void *items_get(const rr_store_list_kind *kind, const void *list)
{
  void *items;

  memcpy(&items, (const char *)list + kind->items_at, sizeof(items));
  return items;
}

static void items_set(const rr_store_list_kind *kind, void *list, void *items)
{
  memcpy((char *)list + kind->items_at, &items, sizeof(items));
}

static size_t *count_of(const rr_store_list_kind *kind, void *list)
{
  return (size_t *)(void *)((char *)list + kind->count_at);
}

int rr_store_grow(void **items, size_t *cap, size_t count, size_t elem_size, size_t first)
{
  size_t ncap;
  void *p;

  if (count < *cap)
    return 0;
  ncap = *cap ? *cap * 2 : (first ? first : 1);
  if ((p = realloc(*items, ncap * elem_size)) == NULL)
    return RR_ENOMEM;
  *items = p;
  *cap = ncap;
  return 0;
}

void *rr_store_list_new(const rr_store_list_kind *kind)
{
  return calloc(1, kind->size);
}

int rr_store_list_reserve(const rr_store_list_kind *kind, void *list, size_t *cap, size_t n)
{
  void *items;

  if (n <= *cap)
    return 0;
  if ((items = realloc(items_get(kind, list), n * kind->elem_size)) == NULL)
    return RR_ENOMEM;
  items_set(kind, list, items);
  *cap = n;
  return 0;
}

void *rr_store_list_push(const rr_store_list_kind *kind, void *list, size_t *cap, size_t first)
{
  void *items = items_get(kind, list);
  size_t *count = count_of(kind, list);
  char *elem;

  if (rr_store_grow(&items, cap, *count, kind->elem_size, first) < 0)
    return NULL;
  items_set(kind, list, items);
  elem = (char *)items + *count * kind->elem_size;
  memset(elem, 0, kind->elem_size);
  (*count)++;
  return elem;
}

void rr_store_list_dispose(const rr_store_list_kind *kind, void *list)
{
  char *items;
  size_t i, count;

  if (list == NULL)
    return;
  items = items_get(kind, list);
  count = *count_of(kind, list);
  if (kind->dispose != NULL)
    for (i = 0; i < count; i++)
      kind->dispose(items + i * kind->elem_size);
  free(items);
  memset(list, 0, kind->size);
}

void rr_store_list_free(const rr_store_list_kind *kind, void *list)
{
  rr_store_list_dispose(kind, list);
  free(list);
}

/* ------------------------------------------------------------ the kinds */

#define KIND(type, items, count, dispose) \
  {sizeof(type), offsetof(type, items), offsetof(type, count), sizeof(*((type *)0)->items), dispose}

void rr_ai_analysis_dispose(rr_ai_analysis *a)
{
  if (a == NULL)
    return;
  free(a->summary);
  free(a->findings_json);
  free(a->images_json);
  free(a->error);
  free(a->raw_text);
  free(a->radiologist_notes);
  memset(a, 0, sizeof(*a));
}

static void analysis_dispose(void *elem)
{
  rr_ai_analysis_dispose(elem);
}

static void review_dispose(void *elem)
{
  rr_ai_review *r = elem;

  free(r->notes);
  free(r->feedback_json);
}

static void annotation_dispose(void *elem)
{
  rr_annotation_dispose(elem);
}

void rr_annotation_dispose(rr_annotation *a)
{
  if (a == NULL)
    return;
  free(a->data_json);
  memset(a, 0, sizeof(*a));
}

void rr_report_template_rec_dispose(rr_report_template_rec *r)
{
  if (r == NULL)
    return;
  free(r->json);
  memset(r, 0, sizeof(*r));
}

static void report_template_dispose(void *elem)
{
  rr_report_template_rec_dispose(elem);
}

void rr_report_version_dispose(rr_report_version *v)
{
  if (v == NULL)
    return;
  free(v->fields_json);
  free(v->inserts_json);
  free(v->text);
  free(v->pdf);
  memset(v, 0, sizeof(*v));
}

static void version_dispose(void *elem)
{
  rr_report_version_dispose(elem);
}

/* What a report owns (the report itself is an element of a list or freed by
 * rr_report_free). */
static void report_dispose(void *elem)
{
  rr_report *r = elem;

  free(r->template_json);
  free(r->state_reason);
  free(r->critical_json);
  free(r->acks);
  /* disposes the versions and zeroes the whole report */
  rr_store_list_dispose(&rr_report_versions_kind, r);
}

void rr_report_free(rr_report *r)
{
  if (r == NULL)
    return;
  report_dispose(r);
  free(r);
}

static void macro_dispose(void *elem)
{
  rr_macro *m = elem;

  free(m->text);
}

static void series_dispose(void *elem)
{
  rr_store_list_dispose(&rr_series_detail_kind, elem);
}

const rr_store_list_kind rr_study_list_kind = KIND(rr_study_list, items, count, NULL);
const rr_store_list_kind rr_study_detail_kind = KIND(rr_study_detail, series, series_count, series_dispose);
const rr_store_list_kind rr_series_detail_kind = KIND(rr_series_detail, instances, instance_count, NULL);
const rr_store_list_kind rr_series_count_list_kind = KIND(rr_series_count_list, items, count, NULL);
const rr_store_list_kind rr_id_list_kind = KIND(rr_id_list, ids, count, NULL);
const rr_store_list_kind rr_user_list_kind = KIND(rr_user_list, items, count, NULL);
const rr_store_list_kind rr_audit_list_kind = KIND(rr_audit_list, items, count, NULL);
const rr_store_list_kind rr_ai_list_kind = KIND(rr_ai_list, items, count, analysis_dispose);
const rr_store_list_kind rr_ai_review_list_kind = KIND(rr_ai_review_list, items, count, review_dispose);
const rr_store_list_kind rr_annotation_list_kind = KIND(rr_annotation_list, items, count, annotation_dispose);
const rr_store_list_kind rr_key_image_list_kind = KIND(rr_key_image_list, items, count, NULL);
const rr_store_list_kind rr_report_template_list_kind =
  KIND(rr_report_template_list, items, count, report_template_dispose);
const rr_store_list_kind rr_report_list_kind = KIND(rr_report_list, items, count, report_dispose);
const rr_store_list_kind rr_report_versions_kind = KIND(rr_report, versions, version_count, version_dispose);
const rr_store_list_kind rr_report_acks_kind = KIND(rr_report, acks, ack_count, NULL);
const rr_store_list_kind rr_report_row_list_kind = KIND(rr_report_row_list, items, count, NULL);
const rr_store_list_kind rr_report_timeline_list_kind = KIND(rr_report_timeline_list, items, count, NULL);
const rr_store_list_kind rr_macro_list_kind = KIND(rr_macro_list, items, count, macro_dispose);

/* ------------------------------------------- the public *_free functions */

#define LIST_FREE(fn, type, kind) \
  void fn(type *list)             \
  {                               \
    rr_store_list_free(&kind, list); \
  }

LIST_FREE(rr_study_list_free, rr_study_list, rr_study_list_kind)
LIST_FREE(rr_study_detail_free, rr_study_detail, rr_study_detail_kind)
LIST_FREE(rr_series_count_list_free, rr_series_count_list, rr_series_count_list_kind)
LIST_FREE(rr_id_list_free, rr_id_list, rr_id_list_kind)
LIST_FREE(rr_user_list_free, rr_user_list, rr_user_list_kind)
LIST_FREE(rr_audit_list_free, rr_audit_list, rr_audit_list_kind)
LIST_FREE(rr_ai_list_free, rr_ai_list, rr_ai_list_kind)
LIST_FREE(rr_ai_review_list_free, rr_ai_review_list, rr_ai_review_list_kind)
LIST_FREE(rr_annotation_list_free, rr_annotation_list, rr_annotation_list_kind)
LIST_FREE(rr_key_image_list_free, rr_key_image_list, rr_key_image_list_kind)
LIST_FREE(rr_report_template_list_free, rr_report_template_list, rr_report_template_list_kind)
LIST_FREE(rr_report_list_free, rr_report_list, rr_report_list_kind)
LIST_FREE(rr_report_row_list_free, rr_report_row_list, rr_report_row_list_kind)
LIST_FREE(rr_report_timeline_list_free, rr_report_timeline_list, rr_report_timeline_list_kind)
LIST_FREE(rr_macro_list_free, rr_macro_list, rr_macro_list_kind)
