#include "store.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/errors.h"
#include "util/str.h"

void rr_store_free(rr_store *store)
{
  if (store == NULL)
    return;
  if (store->close != NULL)
    store->close(store->impl);
  free(store);
}

/* ------------------------------------------------------------ wrappers */

#define INDEX "the worklist index"
#define IDENTITY "users and tokens"
#define AUDIT "the audit trail"
#define AI "AI analyses"
#define ANNOTATIONS "annotations and key images"
#define REPORT_TEMPLATES "report templates"

/* A concern (or one operation of it) the backend does not implement. */
static int not_implemented(const rr_store *s, const char *concern, char *err, size_t errsize)
{
  return rr_fail(err, errsize, RR_ESTORE, "the %s store does not implement %s", s->name ? s->name : "unnamed", concern);
}

/* Call operation `op` of the concern table `table` (named `concern` in the
 * error) with the backend's handle and the remaining arguments. */
#define CALL(table, op, concern, ...)                                                                          \
  (s->table == NULL || s->table->op == NULL ? not_implemented(s, concern, err, errsize)                      \
                                            : s->table->op(s->impl, __VA_ARGS__))

int rr_store_schema_version(rr_store *s, int *out, char *err, size_t errsize)
{
  return CALL(index, schema_version, INDEX, out, err, errsize);
}

int rr_store_apply_batch(rr_store *s, const rr_ingest_batch *batch, char *err, size_t errsize)
{
  return CALL(index, apply_batch, INDEX, batch, err, errsize);
}

int rr_store_delete(rr_store *s, rr_level level, const char *orthanc_id, char *err, size_t errsize)
{
  return CALL(index, delete_resource, INDEX, level, orthanc_id, err, errsize);
}

int rr_store_query_worklist(rr_store *s, rr_study_list **out, const rr_worklist_query *q, char *err, size_t errsize)
{
  return CALL(index, query_worklist, INDEX, out, q, err, errsize);
}

int rr_store_get_study(rr_store *s, rr_study_detail **out, const char *study_uid, char *err, size_t errsize)
{
  return CALL(index, get_study, INDEX, out, study_uid, err, errsize);
}

int rr_store_kv_get(rr_store *s, char *out, size_t outsize, const char *key, char *err, size_t errsize)
{
  return CALL(index, kv_get, INDEX, out, outsize, key, err, errsize);
}

int rr_store_kv_set(rr_store *s, const char *key, const char *value, char *err, size_t errsize)
{
  return CALL(index, kv_set, INDEX, key, value, err, errsize);
}

int rr_store_list_series(rr_store *s, rr_series_count_list **out, const char *after, size_t limit, char *err, size_t errsize)
{
  return CALL(index, list_series, INDEX, out, after, limit, err, errsize);
}

int rr_store_list_instances(rr_store *s, rr_id_list **out, const char *series_orthanc_id, char *err, size_t errsize)
{
  return CALL(index, list_instances, INDEX, out, series_orthanc_id, err, errsize);
}

int rr_store_get_stats(rr_store *s, rr_store_stats *out, char *err, size_t errsize)
{
  return CALL(index, stats, INDEX, out, err, errsize);
}

int rr_store_user_create(rr_store *s, const rr_user_rec *user, char *err, size_t errsize)
{
  return CALL(identity, user_create, IDENTITY, user, err, errsize);
}

int rr_store_user_get(rr_store *s, rr_user_rec *out, const char *username, char *err, size_t errsize)
{
  return CALL(identity, user_get, IDENTITY, out, username, err, errsize);
}

int rr_store_user_update(rr_store *s, const rr_user_rec *user, char *err, size_t errsize)
{
  return CALL(identity, user_update, IDENTITY, user, err, errsize);
}

int rr_store_user_list(rr_store *s, rr_user_list **out, char *err, size_t errsize)
{
  return CALL(identity, user_list, IDENTITY, out, err, errsize);
}

int rr_store_user_count(rr_store *s, int64_t *out, char *err, size_t errsize)
{
  return CALL(identity, user_count, IDENTITY, out, err, errsize);
}

int rr_store_token_revoke(rr_store *s, const char *token_hash, int64_t expires_at, char *err, size_t errsize)
{
  return CALL(identity, token_revoke, IDENTITY, token_hash, expires_at, err, errsize);
}

int rr_store_token_is_revoked(rr_store *s, bool *out, const char *token_hash, char *err, size_t errsize)
{
  return CALL(identity, token_is_revoked, IDENTITY, out, token_hash, err, errsize);
}

int rr_store_token_purge(rr_store *s, int64_t now, char *err, size_t errsize)
{
  return CALL(identity, token_purge, IDENTITY, now, err, errsize);
}

int rr_store_audit_append(rr_store *s, rr_audit_rec *rec, rr_audit_hash_fn hash, char *err, size_t errsize)
{
  return CALL(audit, append, AUDIT, rec, hash, err, errsize);
}

int rr_store_audit_query(rr_store *s, rr_audit_list **out, const rr_audit_filter *filter, char *err, size_t errsize)
{
  return CALL(audit, query, AUDIT, out, filter, err, errsize);
}

int rr_store_ai_create(rr_store *s, const rr_ai_analysis *a, char *err, size_t errsize)
{
  return CALL(ai, create, AI, a, err, errsize);
}

int rr_store_ai_get(rr_store *s, rr_ai_analysis *out, const char *id, char *err, size_t errsize)
{
  return CALL(ai, get, AI, out, id, err, errsize);
}

int rr_store_ai_update(rr_store *s, const rr_ai_analysis *a, char *err, size_t errsize)
{
  return CALL(ai, update, AI, a, err, errsize);
}

int rr_store_ai_list_study(rr_store *s, rr_ai_list **out, const char *study_uid, char *err, size_t errsize)
{
  return CALL(ai, list_study, AI, out, study_uid, err, errsize);
}

int rr_store_ai_claim_next(rr_store *s, rr_ai_analysis *out, int64_t now, char *err, size_t errsize)
{
  return CALL(ai, claim_next, AI, out, now, err, errsize);
}

int rr_store_ai_recover(rr_store *s, int64_t *requeued, int64_t now, char *err, size_t errsize)
{
  return CALL(ai, recover, AI, requeued, now, err, errsize);
}

int rr_store_ai_sweep(rr_store *s, int64_t *requeued, int64_t now, char *err, size_t errsize)
{
  *requeued = 0;
  if (s->ai != NULL && s->ai->sweep == NULL)
    return 0; /* one node: nothing of another to requeue */
  return CALL(ai, sweep, AI, requeued, now, err, errsize);
}

int rr_store_ai_abandon(rr_store *s, int64_t *count, int64_t now, const char *reason, char *err, size_t errsize)
{
  return CALL(ai, abandon, AI, count, now, reason, err, errsize);
}

int rr_store_ai_review_add(rr_store *s, const rr_ai_review *r, const char *notes_for_analysis, char *err, size_t errsize)
{
  return CALL(ai, review_add, AI, r, notes_for_analysis, err, errsize);
}

int rr_store_ai_review_history(rr_store *s, rr_ai_review_list **out, const char *analysis_id, char *err, size_t errsize)
{
  return CALL(ai, review_history, AI, out, analysis_id, err, errsize);
}

int rr_store_ai_counts(rr_store *s, rr_ai_counts *out, int64_t since, char *err, size_t errsize)
{
  return CALL(ai, counts, AI, out, since, err, errsize);
}

/* ------------------------------------------------------------ annotations */

int rr_store_annotation_put(rr_store *s, rr_annotation *out, bool *created, const rr_annotation *a,
                            int64_t expected_version, int64_t now, char *err, size_t errsize)
{
  return CALL(annotations, put, ANNOTATIONS, out, created, a, expected_version, now, err, errsize);
}

int rr_store_annotation_remove(rr_store *s, const char *study_uid, const char *annotation_uid, const char *author,
                               int64_t expected_version, char *err, size_t errsize)
{
  return CALL(annotations, remove, ANNOTATIONS, study_uid, annotation_uid, author, expected_version, err, errsize);
}

int rr_store_annotation_list(rr_store *s, rr_annotation_list **out, const char *study_uid, char *err,
                             size_t errsize)
{
  return CALL(annotations, list, ANNOTATIONS, out, study_uid, err, errsize);
}

int rr_store_key_image_mark(rr_store *s, bool *created, const rr_key_image *k, int64_t now, char *err,
                            size_t errsize)
{
  return CALL(annotations, key_mark, ANNOTATIONS, created, k, now, err, errsize);
}

int rr_store_key_image_unmark(rr_store *s, const char *study_uid, const char *sop_uid, int64_t frame, char *err,
                              size_t errsize)
{
  return CALL(annotations, key_unmark, ANNOTATIONS, study_uid, sop_uid, frame, err, errsize);
}

int rr_store_key_image_list(rr_store *s, rr_key_image_list **out, const char *study_uid, char *err,
                            size_t errsize)
{
  return CALL(annotations, key_list, ANNOTATIONS, out, study_uid, err, errsize);
}

/* ------------------------------------------------------- report templates */

bool rr_report_template_id_ok(const char *id)
{
  size_t n = 0;

  if (id == NULL)
    return false;
  for (; id[n] != '\0'; n++)
    if (!(isalnum((unsigned char)id[n]) || id[n] == '.' || id[n] == '_' || id[n] == '-'))
      return false;
  return n >= 1 && n <= 64;
}

int rr_report_template_rec_check(const rr_report_template_rec *rec, char *err, size_t errsize)
{
  if (!rr_report_template_id_ok(rec->id))
    return rr_fail(err, errsize, RR_EINVAL, "a template id is 1 to 64 of letters, digits, '.', '_' and '-'");
  if (rec->json == NULL || strlen(rec->json) < 2 || strlen(rec->json) > RR_REPORT_TEMPLATE_JSON_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "a template's JSON is 2 to %d bytes", RR_REPORT_TEMPLATE_JSON_MAX);
  return 0;
}

int rr_store_report_template_get(rr_store *s, rr_report_template_rec *out, const char *id, char *err,
                                 size_t errsize)
{
  return CALL(report_templates, get, REPORT_TEMPLATES, out, id, err, errsize);
}

int rr_store_report_template_list(rr_store *s, rr_report_template_list **out, char *err, size_t errsize)
{
  return CALL(report_templates, list, REPORT_TEMPLATES, out, err, errsize);
}

int rr_store_report_template_create(rr_store *s, const rr_report_template_rec *rec, char *err, size_t errsize)
{
  return CALL(report_templates, create, REPORT_TEMPLATES, rec, err, errsize);
}

int rr_store_report_template_update(rr_store *s, rr_report_template_rec *out, const rr_report_template_rec *rec,
                                    int64_t expected_revision, char *err, size_t errsize)
{
  return CALL(report_templates, update, REPORT_TEMPLATES, out, rec, expected_revision, err, errsize);
}

/* ------------------------------------------------------- report outputs */

#define REPORT_OUTPUTS "the report outputs queue"

void rr_report_output_list_free(rr_report_output_list *list)
{
  if (list == NULL)
    return;
  free(list->items);
  free(list);
}

int rr_store_report_output_enqueue(rr_store *s, bool *created, int64_t report_id, int64_t version, const char *kind,
                                   int64_t now, char *err, size_t errsize)
{
  return CALL(report_outputs, enqueue, REPORT_OUTPUTS, created, report_id, version, kind, now, err, errsize);
}

int rr_store_report_output_claim(rr_store *s, rr_report_output *out, const char *claimer, int64_t now, char *err,
                                 size_t errsize)
{
  return CALL(report_outputs, claim, REPORT_OUTPUTS, out, claimer, now, err, errsize);
}

int rr_store_report_output_done(rr_store *s, int64_t report_id, int64_t version, const char *kind,
                                const char *orthanc_id, const char *sop_instance_uid, int64_t now, char *err,
                                size_t errsize)
{
  return CALL(report_outputs, done, REPORT_OUTPUTS, report_id, version, kind, orthanc_id, sop_instance_uid, now, err,
              errsize);
}

int rr_store_report_output_fail(rr_store *s, rr_report_output *out, int64_t report_id, int64_t version,
                                const char *kind, const char *error, int64_t max_attempts, int64_t now, char *err,
                                size_t errsize)
{
  return CALL(report_outputs, fail, REPORT_OUTPUTS, out, report_id, version, kind, error, max_attempts, now, err,
              errsize);
}

int rr_store_report_output_requeue(rr_store *s, int64_t *requeued, int64_t *failed, const char *claimer,
                                   int64_t stale_before, int64_t max_attempts, int64_t now, char *err,
                                   size_t errsize)
{
  return CALL(report_outputs, requeue, REPORT_OUTPUTS, requeued, failed, claimer, stale_before, max_attempts, now, err,
              errsize);
}

int rr_store_report_output_list(rr_store *s, rr_report_output_list **out, int64_t report_id, char *err,
                                size_t errsize)
{
  return CALL(report_outputs, list, REPORT_OUTPUTS, out, report_id, err, errsize);
}

int rr_store_report_output_retry(rr_store *s, int64_t report_id, int64_t version, const char *kind, int64_t now,
                                 char *err, size_t errsize)
{
  return CALL(report_outputs, retry, REPORT_OUTPUTS, report_id, version, kind, now, err, errsize);
}

int rr_store_report_output_counts(rr_store *s, rr_report_output_counts *out, char *err, size_t errsize)
{
  return CALL(report_outputs, counts, REPORT_OUTPUTS, out, err, errsize);
}

/* ------------------------------------------------------------ reports */

#define REPORTS "reports"

int rr_store_report_create(rr_store *s, int64_t *out_id, const char *study_uid, const char *template_id,
                           const char *template_json, const char *author, int64_t now, char *err, size_t errsize)
{
  return CALL(reports, create, REPORTS, out_id, study_uid, template_id, template_json, author, now, err, errsize);
}

int rr_store_report_get(rr_store *s, rr_report **out, int64_t id, char *err, size_t errsize)
{
  return CALL(reports, get, REPORTS, out, id, err, errsize);
}

int rr_store_report_for_study(rr_store *s, rr_report_list **out, const char *study_uid, char *err, size_t errsize)
{
  return CALL(reports, for_study, REPORTS, out, study_uid, err, errsize);
}

int rr_store_report_open_for_study(rr_store *s, int64_t *out_id, const char *study_uid, char *err, size_t errsize)
{
  return CALL(reports, open_for_study, REPORTS, out_id, study_uid, err, errsize);
}

int rr_store_report_save_draft(rr_store *s, rr_report_version *out, int64_t id, const rr_report_expect *expect,
                               const char *fields_json, const char *inserts_json, int critical, const char *by,
                               int64_t now, char *err, size_t errsize)
{
  return CALL(reports, save_draft, REPORTS, out, id, expect, fields_json, inserts_json, critical, by, now, err,
              errsize);
}

int rr_store_report_next_version(rr_store *s, int64_t *out_version, rr_report_expect *out_expect, int64_t id,
                                 char *err, size_t errsize)
{
  return CALL(reports, next_version, REPORTS, out_version, out_expect, id, err, errsize);
}

int rr_store_report_sign(rr_store *s, int64_t *out_version, int64_t id, const rr_report_expect *expect,
                         const char *status, const rr_report_signature *sig, char *err, size_t errsize)
{
  return CALL(reports, sign, REPORTS, out_version, id, expect, status, sig, err, errsize);
}

int rr_store_report_add_version(rr_store *s, int64_t *out_version, int64_t id, int64_t expected_prevailing,
                                const char *kind, const char *fields_json, const char *text,
                                const rr_report_signature *sig, char *err, size_t errsize)
{
  return CALL(reports, add_version, REPORTS, out_version, id, expected_prevailing, kind, fields_json, text, sig, err,
              errsize);
}

int rr_store_report_cancel(rr_store *s, int64_t id, const char *by, const char *reason, int64_t now, char *err,
                           size_t errsize)
{
  return CALL(reports, cancel, REPORTS, id, by, reason, now, err, errsize);
}

int rr_store_report_entered_in_error(rr_store *s, int64_t id, const char *by, const char *reason, int64_t now,
                                     char *err, size_t errsize)
{
  return CALL(reports, entered_in_error, REPORTS, id, by, reason, now, err, errsize);
}

int rr_store_report_acknowledge(rr_store *s, int64_t id, const char *username, int64_t now, char *err,
                                size_t errsize)
{
  return CALL(reports, acknowledge, REPORTS, id, username, now, err, errsize);
}

int rr_store_report_pdf(rr_store *s, rr_report_version *out, int64_t id, int64_t version, char *err,
                        size_t errsize)
{
  return CALL(reports, pdf, REPORTS, out, id, version, err, errsize);
}

int rr_store_report_list(rr_store *s, rr_report_row_list **out, const rr_report_query *q, char *err, size_t errsize)
{
  return CALL(reports, list, REPORTS, out, q, err, errsize);
}

int rr_store_report_has_final(rr_store *s, bool *out, const char *study_uid_or_orthanc_id, const char *referring,
                              char *err, size_t errsize)
{
  return CALL(reports, has_final, REPORTS, out, study_uid_or_orthanc_id, referring, err, errsize);
}

int rr_store_report_opened(rr_store *s, const char *study_uid, int64_t now, char *err, size_t errsize)
{
  return CALL(reports, opened, REPORTS, study_uid, now, err, errsize);
}

int rr_store_report_timeline(rr_store *s, rr_report_timeline_list **out, int64_t since, int64_t until, char *err,
                             size_t errsize)
{
  return CALL(reports, timeline, REPORTS, out, since, until, err, errsize);
}

int rr_store_macro_list(rr_store *s, rr_macro_list **out, const char *username, char *err, size_t errsize)
{
  return CALL(reports, macro_list, REPORTS, out, username, err, errsize);
}

int rr_store_macro_put(rr_store *s, const char *username, const char *name, const char *text, int64_t now, char *err,
                       size_t errsize)
{
  return CALL(reports, macro_put, REPORTS, username, name, text, now, err, errsize);
}

int rr_store_macro_remove(rr_store *s, const char *username, const char *name, char *err, size_t errsize)
{
  return CALL(reports, macro_remove, REPORTS, username, name, err, errsize);
}

/* ------------------------------------------------------------ the cluster */

/* One lock for every handle's subscribers: backends calloc their handle,
 * so it cannot carry an initialised mutex of its own. Held while a signal is
 * delivered, which is what lets rr_store_unsubscribe promise that its
 * subscriber is not running once it returns. */
static pthread_mutex_t subscribers_lock = PTHREAD_MUTEX_INITIALIZER;

int rr_store_lease_try(rr_store *s, bool *held, const char *name, char *err, size_t errsize)
{
  *held = false;
  if (s->cluster == NULL) {
    *held = true; /* one node: the lease is always this one's */
    return 0;
  }
  return s->cluster->lease_try(s->impl, held, name, err, errsize);
}

void rr_store_lease_release(rr_store *s, const char *name)
{
  if (s != NULL && s->cluster != NULL)
    s->cluster->lease_release(s->impl, name);
}

int rr_store_subscribe(rr_store *s, const char *channel, rr_store_signal_fn fn, void *arg, char *err, size_t errsize)
{
  struct rr_store_subscriber *sub;
  int error = 0;

  if (strlen(channel) >= sizeof(sub->channel) || channel[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a signal channel's name has 1 to 63 bytes");
  pthread_mutex_lock(&subscribers_lock);
  if (s->subscriber_count >= RR_STORE_MAX_SUBSCRIBERS) {
    pthread_mutex_unlock(&subscribers_lock);
    return rr_fail(err, errsize, RR_EFULL, "too many signal subscribers (at most %d)", RR_STORE_MAX_SUBSCRIBERS);
  }
  sub = &s->subscribers[s->subscriber_count++];
  rr_str_copy(sub->channel, sizeof(sub->channel), channel);
  sub->fn = fn;
  sub->arg = arg;
  pthread_mutex_unlock(&subscribers_lock);
  if (s->cluster != NULL && (error = s->cluster->listen(s->impl, s, channel, err, errsize)) < 0)
    rr_store_unsubscribe(s, fn, arg);
  return error;
}

void rr_store_unsubscribe(rr_store *s, rr_store_signal_fn fn, void *arg)
{
  size_t i;

  if (s == NULL)
    return;
  pthread_mutex_lock(&subscribers_lock);
  for (i = 0; i < s->subscriber_count;) {
    if (s->subscribers[i].fn == fn && s->subscribers[i].arg == arg) {
      memmove(&s->subscribers[i], &s->subscribers[i + 1], (s->subscriber_count - i - 1) * sizeof(s->subscribers[0]));
      s->subscriber_count--;
    } else {
      i++;
    }
  }
  pthread_mutex_unlock(&subscribers_lock);
}

void rr_store_deliver(rr_store *s, const char *channel, const char *payload)
{
  size_t i;

  pthread_mutex_lock(&subscribers_lock);
  for (i = 0; i < s->subscriber_count; i++)
    if (strcmp(s->subscribers[i].channel, channel) == 0)
      s->subscribers[i].fn(s->subscribers[i].arg, channel, payload);
  pthread_mutex_unlock(&subscribers_lock);
}

int rr_store_signal(rr_store *s, const char *channel, const char *payload, char *err, size_t errsize)
{
  if (strlen(channel) >= 64 || strlen(payload) >= RR_STORE_SIGNAL_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "a signal's channel has at most 63 bytes and its payload %d",
                   RR_STORE_SIGNAL_MAX - 1);
  if (s->cluster == NULL) {
    rr_store_deliver(s, channel, payload); /* one node: straight to this handle's subscribers */
    return 0;
  }
  return s->cluster->signal(s->impl, channel, payload, err, errsize);
}
