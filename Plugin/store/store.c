#include "store.h"

#include <stdlib.h>
#include <string.h>

void rr_store_free(rr_store *store)
{
  if (store == NULL)
    return;
  if (store->ops != NULL && store->ops->close != NULL)
    store->ops->close(store->impl);
  free(store);
}

void rr_study_list_free(rr_study_list *list)
{
  if (list == NULL)
    return;
  free(list->items);
  free(list);
}

void rr_study_detail_free(rr_study_detail *detail)
{
  size_t i;

  if (detail == NULL)
    return;
  for (i = 0; i < detail->series_count; i++)
    free(detail->series[i].instances);
  free(detail->series);
  free(detail);
}

void rr_series_count_list_free(rr_series_count_list *list)
{
  if (list == NULL)
    return;
  free(list->items);
  free(list);
}

void rr_id_list_free(rr_id_list *list)
{
  if (list == NULL)
    return;
  free(list->ids);
  free(list);
}

void rr_user_list_free(rr_user_list *list)
{
  if (list == NULL)
    return;
  free(list->items);
  free(list);
}

void rr_audit_list_free(rr_audit_list *list)
{
  if (list == NULL)
    return;
  free(list->items);
  free(list);
}

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

void rr_ai_list_free(rr_ai_list *list)
{
  size_t i;

  if (list == NULL)
    return;
  for (i = 0; i < list->count; i++)
    rr_ai_analysis_dispose(&list->items[i]);
  free(list->items);
  free(list);
}

void rr_ai_review_list_free(rr_ai_review_list *list)
{
  size_t i;

  if (list == NULL)
    return;
  for (i = 0; i < list->count; i++) {
    free(list->items[i].notes);
    free(list->items[i].feedback_json);
  }
  free(list->items);
  free(list);
}

int rr_store_schema_version(rr_store *s, int *out, char *err, size_t errsize)
{
  return s->ops->schema_version(s->impl, out, err, errsize);
}

int rr_store_apply_batch(rr_store *s, const rr_ingest_batch *batch, char *err, size_t errsize)
{
  return s->ops->apply_batch(s->impl, batch, err, errsize);
}

int rr_store_delete(rr_store *s, rr_level level, const char *orthanc_id, char *err, size_t errsize)
{
  return s->ops->delete_resource(s->impl, level, orthanc_id, err, errsize);
}

int rr_store_query_worklist(rr_store *s, rr_study_list **out, const rr_worklist_query *q, char *err, size_t errsize)
{
  return s->ops->query_worklist(s->impl, out, q, err, errsize);
}

int rr_store_get_study(rr_store *s, rr_study_detail **out, const char *study_uid, char *err, size_t errsize)
{
  return s->ops->get_study(s->impl, out, study_uid, err, errsize);
}

int rr_store_kv_get(rr_store *s, char *out, size_t outsize, const char *key, char *err, size_t errsize)
{
  return s->ops->kv_get(s->impl, out, outsize, key, err, errsize);
}

int rr_store_kv_set(rr_store *s, const char *key, const char *value, char *err, size_t errsize)
{
  return s->ops->kv_set(s->impl, key, value, err, errsize);
}

int rr_store_list_series(rr_store *s, rr_series_count_list **out, const char *after, size_t limit, char *err, size_t errsize)
{
  return s->ops->list_series(s->impl, out, after, limit, err, errsize);
}

int rr_store_list_instances(rr_store *s, rr_id_list **out, const char *series_orthanc_id, char *err, size_t errsize)
{
  return s->ops->list_instances(s->impl, out, series_orthanc_id, err, errsize);
}

int rr_store_get_stats(rr_store *s, rr_store_stats *out, char *err, size_t errsize)
{
  return s->ops->stats(s->impl, out, err, errsize);
}

int rr_store_user_create(rr_store *s, const rr_user_rec *user, char *err, size_t errsize)
{
  return s->ops->user_create(s->impl, user, err, errsize);
}

int rr_store_user_get(rr_store *s, rr_user_rec *out, const char *username, char *err, size_t errsize)
{
  return s->ops->user_get(s->impl, out, username, err, errsize);
}

int rr_store_user_update(rr_store *s, const rr_user_rec *user, char *err, size_t errsize)
{
  return s->ops->user_update(s->impl, user, err, errsize);
}

int rr_store_user_list(rr_store *s, rr_user_list **out, char *err, size_t errsize)
{
  return s->ops->user_list(s->impl, out, err, errsize);
}

int rr_store_user_count(rr_store *s, int64_t *out, char *err, size_t errsize)
{
  return s->ops->user_count(s->impl, out, err, errsize);
}

int rr_store_token_revoke(rr_store *s, const char *token_hash, int64_t expires_at, char *err, size_t errsize)
{
  return s->ops->token_revoke(s->impl, token_hash, expires_at, err, errsize);
}

int rr_store_token_is_revoked(rr_store *s, bool *out, const char *token_hash, char *err, size_t errsize)
{
  return s->ops->token_is_revoked(s->impl, out, token_hash, err, errsize);
}

int rr_store_token_purge(rr_store *s, int64_t now, char *err, size_t errsize)
{
  return s->ops->token_purge(s->impl, now, err, errsize);
}

int rr_store_audit_append(rr_store *s, rr_audit_rec *rec, rr_audit_hash_fn hash, char *err, size_t errsize)
{
  return s->ops->audit_append(s->impl, rec, hash, err, errsize);
}

int rr_store_audit_query(rr_store *s, rr_audit_list **out, const rr_audit_filter *filter, char *err, size_t errsize)
{
  return s->ops->audit_query(s->impl, out, filter, err, errsize);
}

int rr_store_ai_create(rr_store *s, const rr_ai_analysis *a, char *err, size_t errsize)
{
  return s->ops->ai_create(s->impl, a, err, errsize);
}

int rr_store_ai_get(rr_store *s, rr_ai_analysis *out, const char *id, char *err, size_t errsize)
{
  return s->ops->ai_get(s->impl, out, id, err, errsize);
}

int rr_store_ai_update(rr_store *s, const rr_ai_analysis *a, char *err, size_t errsize)
{
  return s->ops->ai_update(s->impl, a, err, errsize);
}

int rr_store_ai_list_study(rr_store *s, rr_ai_list **out, const char *study_uid, char *err, size_t errsize)
{
  return s->ops->ai_list_study(s->impl, out, study_uid, err, errsize);
}

int rr_store_ai_claim_next(rr_store *s, rr_ai_analysis *out, int64_t now, char *err, size_t errsize)
{
  return s->ops->ai_claim_next(s->impl, out, now, err, errsize);
}

int rr_store_ai_recover(rr_store *s, int64_t *requeued, int64_t now, char *err, size_t errsize)
{
  return s->ops->ai_recover(s->impl, requeued, now, err, errsize);
}

int rr_store_ai_abandon(rr_store *s, int64_t *count, int64_t now, const char *reason, char *err, size_t errsize)
{
  return s->ops->ai_abandon(s->impl, count, now, reason, err, errsize);
}

int rr_store_ai_review_add(rr_store *s, const rr_ai_review *r, const char *notes_for_analysis, char *err, size_t errsize)
{
  return s->ops->ai_review_add(s->impl, r, notes_for_analysis, err, errsize);
}

int rr_store_ai_review_history(rr_store *s, rr_ai_review_list **out, const char *analysis_id, char *err, size_t errsize)
{
  return s->ops->ai_review_history(s->impl, out, analysis_id, err, errsize);
}

int rr_store_ai_counts(rr_store *s, rr_ai_counts *out, int64_t since, char *err, size_t errsize)
{
  return s->ops->ai_counts(s->impl, out, since, err, errsize);
}
