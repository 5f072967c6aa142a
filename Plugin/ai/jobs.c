#include "ai/jobs.h"

#include <json-c/json.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/findings.h"
#include "ai/prompt.h"
#include "image/orthanc_frame.h"
#include "store/ai_state.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/orthanc_rest.h"
#include "util/sha256.h"
#include "util/str.h"
#include "util/worker.h"

#define MAX_WORKERS RR_WORKERS_MAX
#define STABLE_QUEUE 256
#define RAW_TEXT_KEEP (256 * 1024)
#define SELECT_ROUNDS 4
#define IDLE_WAIT_MS 5000
#define SWEEP_MS 15000 /* how often a worker requeues the analyses of nodes that are gone */
#define STABLE_RETRY_MS 2000
#define STABLE_RETRIES 60 /* two minutes for the worklist to catch up */

struct rr_ai_jobs;

typedef struct slot {
  char id[RR_AI_ID_SIZE]; /* "" when idle */
  atomic_int cancel;
  bool shutdown;          /* the cancel comes from a stop, not a user */
} slot;

/* A study Orthanc called stable, waiting for the automatic-analysis rules. */
typedef struct stable_entry {
  char orthanc_id[RR_OID_SIZE];
  unsigned attempts;   /* tries while the worklist had not caught up */
  int64_t not_before;  /* monotonic ms */
} stable_entry;

struct rr_ai_jobs {
  rr_ai_jobs_options o;
  char destination[256];
  char **auto_modalities;
  char **auto_words;

  pthread_mutex_t lock;
  pthread_cond_t wake;
  rr_workers workers;     /* their stop flag is under lock */
  slot slots[MAX_WORKERS]; /* slots[i] belongs to worker i */

  stable_entry stable[STABLE_QUEUE];
  size_t stable_head, stable_count;
  int64_t next_sweep; /* monotonic ms, under lock */

  /* stats, under lock */
  int reachable;
  char last_error[256];
  int64_t auto_submitted, auto_dropped;
};

static char **copy_words(const char *const *words, size_t n)
{
  char **out;
  size_t i;

  if (n == 0)
    return NULL;
  if ((out = calloc(n, sizeof(*out))) == NULL)
    return NULL;
  for (i = 0; i < n; i++)
    if ((out[i] = strdup(words[i])) == NULL)
      return out; /* partial: freed by the caller's free path */
  return out;
}

static void free_words(char **words, size_t n)
{
  size_t i;

  if (words == NULL)
    return;
  for (i = 0; i < n; i++)
    free(words[i]);
  free(words);
}

int rr_ai_jobs_new(rr_ai_jobs **out, const rr_ai_jobs_options *options, char *err, size_t errsize)
{
  rr_ai_jobs *j;
  unsigned i;

  *out = NULL;
  if (options == NULL || options->store == NULL) {
    rr_ai_provider_free(options ? options->provider : NULL);
    return rr_fail(err, errsize, RR_EINVAL, "AI jobs: a store is required");
  }
  if ((j = calloc(1, sizeof(*j))) == NULL) {
    rr_ai_provider_free(options->provider);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  j->o = *options;
  if (j->o.concurrency == 0)
    j->o.concurrency = 1;
  if (j->o.concurrency > MAX_WORKERS)
    j->o.concurrency = MAX_WORKERS;
  if (j->o.max_queued == 0)
    j->o.max_queued = 1000;
  if (j->o.max_side == 0)
    j->o.max_side = 1024;
  if (j->o.max_request_bytes == 0)
    j->o.max_request_bytes = 15u * 1000u * 1000u;
  rr_str_copy(j->destination, sizeof(j->destination), options->destination ? options->destination : "");
  j->o.destination = j->destination;
  j->auto_modalities = copy_words(options->auto_modalities, options->auto_modality_count);
  j->auto_words = copy_words(options->auto_words, options->auto_word_count);
  j->o.auto_modalities = NULL;
  j->o.auto_words = NULL;
  if (rr_clock_cond_init(&j->wake) < 0) {
    free_words(j->auto_modalities, options->auto_modality_count);
    free_words(j->auto_words, options->auto_word_count);
    rr_ai_provider_free(options->provider);
    free(j);
    return rr_fail(err, errsize, RR_ERROR, "AI jobs: cannot create a condition variable");
  }
  pthread_mutex_init(&j->lock, NULL);
  rr_workers_init(&j->workers, &j->lock, &j->wake);
  for (i = 0; i < MAX_WORKERS; i++)
    atomic_init(&j->slots[i].cancel, 0);
  j->reachable = -1;
  *out = j;
  return 0;
}

bool rr_ai_jobs_configured(const rr_ai_jobs *j) { return j != NULL && j->o.provider != NULL; }
const char *rr_ai_jobs_provider_kind(const rr_ai_jobs *j) { return rr_ai_jobs_configured(j) ? rr_ai_provider_kind(j->o.provider) : ""; }
const char *rr_ai_jobs_model(const rr_ai_jobs *j) { return rr_ai_jobs_configured(j) ? rr_ai_provider_model(j->o.provider) : ""; }

/* ---- one job ---------------------------------------------------------- */

typedef struct job {
  rr_ai_jobs *j;
  slot *slot;
  rr_ai_analysis *a;
  int64_t started_ms;
} job;

static void set_text(char **field, const char *value, size_t max)
{
  size_t len = value ? strlen(value) : 0;

  free(*field);
  *field = NULL;
  if (value == NULL)
    return;
  if (len > max)
    len = rr_utf8_valid_prefix(value, max);
  if ((*field = malloc(len + 1)) != NULL) {
    memcpy(*field, value, len);
    (*field)[len] = '\0';
  }
}

static void note_call(rr_ai_jobs *j, int answered, const char *error)
{
  pthread_mutex_lock(&j->lock);
  j->reachable = answered;
  rr_str_copy(j->last_error, sizeof(j->last_error), error ? error : "");
  pthread_mutex_unlock(&j->lock);
}

/* Whether the store still holds this worker's claim (running, the same
 * attempt). With several nodes, a node that lost its lease for a while may
 * have seen its analysis requeued and claimed by another node: its own
 * result is dropped then, so that the analysis has one result. */
static bool still_ours(const job *jb)
{
  rr_ai_analysis now;
  char err[256];
  bool ours = true; /* unreadable: the write that follows reports the store's trouble */

  if (rr_store_ai_get(jb->j->o.store, &now, jb->a->id, err, sizeof(err)) == 0) {
    ours = rr_ai_state_is(now.status, RR_AI_STATE_RUNNING) && now.attempts == jb->a->attempts &&
           now.started_at == jb->a->started_at;
    rr_ai_analysis_dispose(&now);
  }
  if (!ours)
    rr_log_warning("AI: analysis %s was taken over by another node while this one ran it; its result here is dropped",
                   jb->a->id);
  return ours;
}

/* Write the final state of the analysis. */
static void finish(job *jb, rr_ai_state state, const char *error)
{
  rr_ai_analysis *a = jb->a;
  char err[256] = "";

  if (!still_ours(jb))
    return;

  rr_str_copy(a->status, sizeof(a->status), rr_ai_state_name(state));
  a->finished_at = rr_clock_unix_s();
  set_text(&a->error, error ? error : "", 2000);
  if (rr_store_ai_update(jb->j->o.store, a, err, sizeof(err)) < 0)
    rr_log_error("AI: cannot store the result of analysis %s: %s", a->id, err);
  else if (state != RR_AI_STATE_COMPLETED)
    rr_log_warning("AI: analysis %s ended %s: %s", a->id, rr_ai_state_name(state), error ? error : "");
}

typedef struct pick {
  rr_select_extra **extras;     /* per series, parallel to its instances */
  char (**image_types)[64];     /* storage for extras[s][i].image_type */
  bool **fetched;
  size_t series_count;
} pick;

static void pick_free(pick *p)
{
  size_t s;

  for (s = 0; s < p->series_count; s++) {
    if (p->extras)
      free(p->extras[s]);
    if (p->image_types)
      free(p->image_types[s]);
    if (p->fetched)
      free(p->fetched[s]);
  }
  free(p->extras);
  free(p->image_types);
  free(p->fetched);
  memset(p, 0, sizeof(*p));
}

static int pick_init(pick *p, const rr_study_detail *d)
{
  size_t s, n;

  memset(p, 0, sizeof(*p));
  p->series_count = d->series_count;
  if (d->series_count == 0)
    return 0;
  p->extras = calloc(d->series_count, sizeof(*p->extras));
  p->image_types = calloc(d->series_count, sizeof(*p->image_types));
  p->fetched = calloc(d->series_count, sizeof(*p->fetched));
  if (p->extras == NULL || p->image_types == NULL || p->fetched == NULL)
    return RR_ENOMEM;
  for (s = 0; s < d->series_count; s++) {
    n = d->series[s].instance_count > 0 ? d->series[s].instance_count : 1;
    p->extras[s] = calloc(n, sizeof(**p->extras));
    p->image_types[s] = calloc(n, sizeof(**p->image_types));
    p->fetched[s] = calloc(n, sizeof(**p->fetched));
    if (p->extras[s] == NULL || p->image_types[s] == NULL || p->fetched[s] == NULL)
      return RR_ENOMEM;
  }
  return 0;
}

/* What the store does not keep about one instance, from its tags. */
static int fetch_extra(rr_select_extra *ex, char *image_type, size_t size, OrthancPluginContext *ctx, const char *id)
{
  rr_rest_source src = rr_rest_source_orthanc(ctx);
  json_object *tags = NULL;
  char uri[128], err[256];
  const char *v;
  int64_t frames;
  int rc;

  snprintf(uri, sizeof(uri), "/instances/%s/tags?short", id);
  if ((rc = src.get_json(src.ctx, &tags, uri, err, sizeof(err))) < 0)
    return rc;
  rr_str_copy(image_type, size, rr_json_str(tags, "0008,0008"));
  ex->image_type = image_type[0] ? image_type : NULL;
  v = rr_json_str(tags, "0028,0301");
  ex->burned_in = strncmp(v, "YES", 3) == 0;
  v = rr_json_str(tags, "0028,0008");
  if (v[0] && rr_parse_i64(&frames, v, 1, 1000000) == 0)
    ex->number_of_frames = frames;
  json_object_put(tags);
  return 0;
}

static bool find_instance(const rr_study_detail *d, const rr_select_item *it, size_t *sidx, size_t *iidx)
{
  size_t s, i;

  for (s = 0; s < d->series_count; s++) {
    if (strcmp(d->series[s].series.orthanc_id, it->series_orthanc_id) != 0)
      continue;
    for (i = 0; i < d->series[s].instance_count; i++)
      if (strcmp(d->series[s].instances[i].orthanc_id, it->orthanc_id) == 0) {
        *sidx = s;
        *iidx = i;
        return true;
      }
  }
  return false;
}

/* Choose the images: select without the tags the store lacks, read those
 * tags for the chosen instances only, and select again while a chosen one
 * turns out to be a localizer, a secondary image or burned in. */
static int choose(rr_selection **out, pick *p, const rr_study_detail *d, rr_ai_jobs *j, char *err, size_t errsize)
{
  rr_selection *sel = NULL;
  size_t k, s = 0, i = 0;
  int round, rc;
  bool changed;

  *out = NULL;
  for (round = 0; round < SELECT_ROUNDS; round++) {
    const rr_select_extra *const *ex = (const rr_select_extra *const *)p->extras;
    rr_selection_free(sel);
    sel = NULL;
    if ((rc = rr_select_images(&sel, d->series, d->series_count, ex, &j->o.select, err, errsize)) < 0)
      return rc;
    changed = false;
    for (k = 0; k < sel->count; k++) {
      if (!find_instance(d, &sel->items[k], &s, &i) || p->fetched[s][i])
        continue;
      p->fetched[s][i] = true;
      if (fetch_extra(&p->extras[s][i], p->image_types[s][i], sizeof(p->image_types[s][i]), j->o.ctx,
                      d->series[s].instances[i].orthanc_id) < 0)
        continue; /* unreadable tags: the renderer will say more */
      if (rr_select_skip_reason(&d->series[s].instances[i], &p->extras[s][i],
                                d->series[s].series.series_description) != RR_SKIP_NONE ||
          p->extras[s][i].number_of_frames > 1)
        changed = true;
    }
    if (!changed)
      break;
  }
  *out = sel;
  return 0;
}

typedef struct rendered {
  rr_buf png;
  char sha256[65];
  const rr_select_item *item;
} rendered;

static void skipped_sentence(char *out, size_t size, const rr_selection *sel)
{
  size_t r, used = 0;
  int n;

  out[0] = '\0';
  for (r = 1; r < RR_SKIP_REASON_COUNT; r++) {
    if (sel->skipped[r] == 0)
      continue;
    n = snprintf(out + used, size - used, "%s%zu %s", used ? ", " : "", sel->skipped[r],
                 rr_skip_reason_name((rr_skip_reason)r));
    if (n < 0 || (size_t)n >= size - used)
      break;
    used += (size_t)n;
  }
}

static json_object *images_json(const rendered *imgs, size_t n)
{
  json_object *arr = json_object_new_array(), *o;
  size_t i;

  for (i = 0; i < n && arr; i++) {
    o = json_object_new_object();
    rr_json_add(o, "sopInstanceUid", json_object_new_string(imgs[i].item->sop_instance_uid));
    rr_json_add(o, "frame", json_object_new_int64(imgs[i].item->frame));
    rr_json_add(o, "sha256", json_object_new_string(imgs[i].sha256));
    rr_json_add(o, "bytes", json_object_new_int64((int64_t)imgs[i].png.len));
    rr_json_push(arr, o);
  }
  return arr;
}

static void add_usage(rr_ai_analysis *a, const rr_ai_result *res, const rr_ai_jobs *j)
{
  if (res->prompt_tokens > 0)
    a->prompt_tokens += res->prompt_tokens;
  if (res->output_tokens > 0)
    a->completion_tokens += res->output_tokens;
  if (res->model_version[0])
    rr_str_copy(a->model_version, sizeof(a->model_version), res->model_version);
  a->cost = ((double)a->prompt_tokens * j->o.price_input + (double)a->completion_tokens * j->o.price_output) / 1e6;
}

static rr_ai_state state_of(rr_ai_outcome outcome)
{
  switch (outcome) {
  case RR_AI_BLOCKED: return RR_AI_STATE_BLOCKED;
  case RR_AI_SAFETY: return RR_AI_STATE_SAFETY;
  case RR_AI_TRUNCATED: return RR_AI_STATE_TRUNCATED;
  case RR_AI_REFUSED: return RR_AI_STATE_REFUSED;
  default: return RR_AI_STATE_FAILED;
  }
}

/* Render the chosen frames in order until the request's size would pass
 * the cap: imgs[0..*n) and wire[0..*n) receive the images (wire borrows
 * imgs' bytes). Frames that cannot be rendered are left out and counted;
 * a cancel stops early. */
static void render_images(rendered *imgs, rr_ai_image *wire, size_t *n, size_t *capped, size_t *failed, job *jb,
                          const rr_selection *sel)
{
  const rr_ai_jobs *j = jb->j;
  size_t k, total_b64 = 0, b64;
  char err[512];

  for (k = 0; k < sel->count; k++) {
    rr_frame_request fr;
    rendered *r = &imgs[*n];

    if (atomic_load(&jb->slot->cancel))
      return;
    memset(&fr, 0, sizeof(fr));
    fr.frame = sel->items[k].frame;
    fr.max_side = j->o.max_side;
    rr_buf_init(&r->png, 64u * 1024u * 1024u);
    if (rr_orthanc_frame_png(&r->png, NULL, j->o.ctx, sel->items[k].orthanc_id, &fr, err, sizeof(err)) < 0) {
      rr_log_warning("AI: analysis %s: one image could not be rendered (%s); left out", jb->a->id, err);
      rr_buf_dispose(&r->png);
      (*failed)++;
      continue;
    }
    b64 = (r->png.len + 2) / 3 * 4;
    if (total_b64 + b64 > j->o.max_request_bytes) {
      rr_buf_dispose(&r->png);
      (*capped)++;
      continue;
    }
    total_b64 += b64;
    rr_sha256_hex(r->sha256, r->png.ptr, r->png.len);
    r->item = &sel->items[k];
    wire[*n].data = (const unsigned char *)r->png.ptr;
    wire[*n].size = r->png.len;
    wire[*n].mime_type = "image/png";
    (*n)++;
  }
}

/* One audit record per image, written before the request leaves. */
static void audit_images(const job *jb, const rendered *imgs, size_t n)
{
  const rr_ai_jobs *j = jb->j;
  const rr_ai_analysis *a = jb->a;
  char res_id[2 * RR_UID_SIZE + 2], detail[2 * RR_AI_ID_SIZE + 600];
  size_t k;

  for (k = 0; k < n && j->o.audit != NULL; k++) {
    snprintf(res_id, sizeof(res_id), "%.64s/%.64s", a->study_uid, imgs[k].item->sop_instance_uid);
    snprintf(detail, sizeof(detail), "analysis %.32s, frame %u, sha256 %.64s, to %.255s (%.15s)", a->id,
             imgs[k].item->frame, imgs[k].sha256, j->destination, rr_ai_provider_kind(j->o.provider));
    rr_audit_log(j->o.audit, a->requested_by, "", "", "ai.image.sent", res_id, "success", detail);
  }
}

/* The prompt for n images of `series` series (problems: the repair note). */
static int build_prompt(char **system_prompt, char **user_prompt, const rr_study_detail *d, const char **parts,
                        size_t n, size_t series, const char *problems, char *err, size_t errsize)
{
  rr_ai_context ctx;

  memset(&ctx, 0, sizeof(ctx));
  ctx.study = &d->study;
  ctx.body_parts = parts;
  ctx.body_part_count = parts ? d->series_count : 0;
  ctx.image_count = n;
  ctx.series_count = series;
  return rr_ai_prompt_build(system_prompt, user_prompt, &ctx, problems, err, errsize);
}

/* ---- one job, step by step ---------------------------------------------- */

/* What a job carries from one step to the next; run_dispose() frees it. */
typedef struct run {
  job *jb;
  rr_study_detail *d;
  pick p;
  rr_selection *sel;
  rendered *imgs;    /* sel->count slots, the first n filled */
  rr_ai_image *wire; /* the same n images, borrowing imgs' bytes */
  size_t n, capped, failed_render, series_sent;
  const char **parts; /* body part of each series, for the prompt */
  char *system_prompt, *user_prompt;
  rr_ai_result res;
  rr_findings *findings;
} run;

/* A step returns 0 to go on, RUN_ENDED once it has written the analysis's
 * final state, or RR_ESTOPPED when a user cancelled or Orthanc is stopping. */
#define RUN_ENDED 1

static int end(run *r, rr_ai_state state, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int end(run *r, rr_ai_state state, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  finish(r->jb, state, msg);
  return RUN_ENDED;
}

static void run_dispose(run *r)
{
  size_t k;

  rr_findings_free(r->findings);
  rr_ai_result_dispose(&r->res);
  free(r->system_prompt);
  free(r->user_prompt);
  free(r->parts);
  if (r->imgs != NULL)
    for (k = 0; k < r->sel->count; k++)
      rr_buf_dispose(&r->imgs[k].png);
  free(r->imgs);
  free(r->wire);
  rr_selection_free(r->sel);
  pick_free(&r->p);
  rr_study_detail_free(r->d);
}

static int load_study(run *r)
{
  rr_ai_analysis *a = r->jb->a;
  char err[512] = "";
  int rc = rr_store_get_study(r->jb->j->o.store, &r->d, a->study_uid, err, sizeof(err));

  if (rc == RR_ENOTFOUND)
    return end(r, RR_AI_STATE_FAILED, "the study is no longer in the worklist (deleted from Orthanc?)");
  if (rc < 0)
    return end(r, RR_AI_STATE_FAILED, "cannot read the study: %s", err);
  rr_str_copy(a->orthanc_study_id, sizeof(a->orthanc_study_id), r->d->study.orthanc_id);
  return 0;
}

static int choose_images(run *r)
{
  char err[512] = "", skipped[256];

  if (pick_init(&r->p, r->d) < 0 || choose(&r->sel, &r->p, r->d, r->jb->j, err, sizeof(err)) < 0)
    return end(r, RR_AI_STATE_FAILED, "cannot choose the images: %s", err[0] ? err : "out of memory");
  if (r->sel->count == 0) {
    skipped_sentence(skipped, sizeof(skipped), r->sel);
    return end(r, RR_AI_STATE_FAILED, "no image of this study can be sent to a model%s%s%s",
               skipped[0] ? " (skipped: " : "", skipped, skipped[0] ? ")" : "");
  }
  return 0;
}

static int render(run *r)
{
  rr_ai_analysis *a = r->jb->a;
  json_object *jo;

  if ((r->imgs = calloc(r->sel->count, sizeof(*r->imgs))) == NULL ||
      (r->wire = calloc(r->sel->count, sizeof(*r->wire))) == NULL)
    return end(r, RR_AI_STATE_FAILED, "out of memory");
  render_images(r->imgs, r->wire, &r->n, &r->capped, &r->failed_render, r->jb, r->sel);
  if (atomic_load(&r->jb->slot->cancel))
    return RR_ESTOPPED;
  if (r->n == 0)
    return end(r, RR_AI_STATE_FAILED, "none of the %zu chosen images could be rendered%s", r->sel->count,
               r->capped ? " within AI.MaxRequestMegabytes" : "");
  jo = images_json(r->imgs, r->n);
  set_text(&a->images_json, jo ? json_object_to_json_string_ext(jo, JSON_C_TO_STRING_PLAIN) : "[]", SIZE_MAX);
  json_object_put(jo);
  return 0;
}

/* The prompt (whitelisted facts only); then the provenance is stored, and
 * the images audited, before anything leaves: when the store refuses the
 * provenance, nothing is sent and the analysis ends failed. */
static int prepare(run *r)
{
  rr_ai_jobs *j = r->jb->j;
  rr_ai_analysis *a = r->jb->a;
  char err[512] = "";
  size_t s, x, y;

  if (r->d->series_count > 0) {
    if ((r->parts = calloc(r->d->series_count, sizeof(*r->parts))) == NULL)
      return end(r, RR_AI_STATE_FAILED, "out of memory");
    for (s = 0; s < r->d->series_count; s++)
      r->parts[s] = r->d->series[s].series.body_part;
  }
  for (x = 0; x < r->n; x++) {
    for (y = 0; y < x; y++)
      if (strcmp(r->imgs[y].item->series_orthanc_id, r->imgs[x].item->series_orthanc_id) == 0)
        break;
    r->series_sent += y == x;
  }
  rr_str_copy(a->prompt_version, sizeof(a->prompt_version), RR_AI_PROMPT_VERSION);
  rr_str_copy(a->schema_version, sizeof(a->schema_version), RR_FINDINGS_SCHEMA_VERSION);
  if (build_prompt(&r->system_prompt, &r->user_prompt, r->d, r->parts, r->n, r->series_sent, NULL, err,
                   sizeof(err)) < 0)
    return end(r, RR_AI_STATE_FAILED, "%s", err);
  if (!still_ours(r->jb))
    return RUN_ENDED; /* its images are not sent: the other node runs it */
  if (rr_store_ai_update(j->o.store, a, err, sizeof(err)) < 0) {
    rr_log_error("AI: cannot store the provenance of analysis %s; its images are not sent: %s", a->id, err);
    return end(r, RR_AI_STATE_FAILED, "the store could not record the analysis before its images were sent: %s",
               err);
  }
  audit_images(r->jb, r->imgs, r->n);
  return 0;
}

/* The provider's call failed: its outcome names the state when it has one. */
static int end_call_failed(run *r, int rc, unsigned tries, const char *err)
{
  if (r->res.text != NULL && r->res.outcome == RR_AI_TRUNCATED)
    set_text(&r->jb->a->raw_text, r->res.text, RAW_TEXT_KEEP);
  if (rc == RR_EUPSTREAM && r->res.outcome != RR_AI_ERROR)
    return end(r, state_of(r->res.outcome), "%s", err);
  return end(r, RR_AI_STATE_FAILED, "%s%s", err, tries > 1 ? " (after retries)" : "");
}

/* Ask the model; when its answer does not match the findings schema, ask
 * once more with the problems listed. */
static int call_model(run *r)
{
  rr_ai_jobs *j = r->jb->j;
  rr_ai_analysis *a = r->jb->a;
  rr_findings_problems problems;
  char err[512] = "", list[2048];
  int64_t t_call = rr_clock_mono_ms();
  unsigned tries;
  int repair, rc;

  for (repair = 0; repair < 2; repair++) {
    tries = 0;
    rr_ai_result_dispose(&r->res);
    rc = rr_ai_provider_generate(&r->res, &tries, j->o.provider, r->system_prompt, r->user_prompt, r->wire, r->n,
                                 &r->jb->slot->cancel, err, sizeof(err));
    a->latency_ms = rr_clock_mono_ms() - t_call;
    add_usage(a, &r->res, j);
    if (rc == RR_ESTOPPED)
      return RR_ESTOPPED;
    note_call(j, r->res.http_status != 0 ? 1 : 0, rc == 0 ? "" : err);
    if (rc != 0)
      return end_call_failed(r, rc, tries, err);
    if (rr_findings_parse(&r->findings, &problems, r->res.text, strlen(r->res.text), err, sizeof(err)) == 0)
      return 0;
    set_text(&a->raw_text, r->res.text, RAW_TEXT_KEEP);
    if (repair == 0) {
      rr_findings_problems_join(list, sizeof(list), &problems);
      free(r->system_prompt);
      free(r->user_prompt);
      r->system_prompt = r->user_prompt = NULL;
      if (build_prompt(&r->system_prompt, &r->user_prompt, r->d, r->parts, r->n, r->series_sent, list, err,
                       sizeof(err)) < 0)
        return end(r, RR_AI_STATE_FAILED, "%s", err);
    }
  }
  return end(r, RR_AI_STATE_INVALID,
             "the model's answer did not match the findings schema, also after one repair attempt: %s", err);
}

static int store_result(run *r)
{
  rr_ai_analysis *a = r->jb->a;
  json_object *jo = NULL;
  char err[512] = "";
  size_t left_out = r->capped + r->failed_render;

  a->attempts = a->attempts > 0 ? a->attempts : 1;
  if (rr_findings_to_json(&jo, r->findings, err, sizeof(err)) < 0)
    return end(r, RR_AI_STATE_FAILED, "%s", err);
  set_text(&a->findings_json, json_object_to_json_string_ext(jo, JSON_C_TO_STRING_PLAIN), SIZE_MAX);
  json_object_put(jo);
  set_text(&a->summary, r->findings->summary, SIZE_MAX);
  rr_str_copy(a->ai_confidence, sizeof(a->ai_confidence), rr_finding_confidence_name(r->findings->ai_confidence));
  a->has_ai_confidence_score = r->findings->has_ai_confidence_score;
  a->ai_confidence_score = r->findings->ai_confidence_score;
  set_text(&a->raw_text, "", 0);
  if (left_out > 0)
    return end(r, RR_AI_STATE_COMPLETED, "%zu image%s left out (%zu too large for the request, %zu not renderable)",
               left_out, left_out == 1 ? "" : "s", r->capped, r->failed_render);
  return end(r, RR_AI_STATE_COMPLETED, "%s", "");
}

/* Cancelled by a user: ends cancelled. Interrupted because Orthanc stops:
 * queued again for the next start (when even that write fails, the
 * analysis stays running in the store, and the next start's recovery
 * queues it again). */
static void end_stopped(run *r)
{
  job *jb = r->jb;
  rr_ai_analysis *a = jb->a;
  char err[512] = "";

  if (!jb->slot->shutdown) {
    finish(jb, RR_AI_STATE_CANCELLED, "cancelled by a user");
    return;
  }
  if (!still_ours(jb))
    return;
  rr_str_copy(a->status, sizeof(a->status), rr_ai_state_name(RR_AI_STATE_QUEUED));
  a->started_at = 0;
  if (rr_store_ai_update(jb->j->o.store, a, err, sizeof(err)) < 0)
    rr_log_error("AI: cannot requeue analysis %s: %s", a->id, err);
}

/* One claimed analysis, from the study to its final state. */
static void run_job(job *jb)
{
  run r;
  int rc;

  memset(&r, 0, sizeof(r));
  r.jb = jb;
  if ((rc = load_study(&r)) == 0 && (rc = choose_images(&r)) == 0 && (rc = render(&r)) == 0 &&
      (rc = prepare(&r)) == 0 && (rc = call_model(&r)) == 0)
    rc = store_result(&r);
  if (rc == RR_ESTOPPED)
    end_stopped(&r);
  run_dispose(&r);
}

/* ---- automatic analysis ----------------------------------------------- */

static bool rules_match(const rr_ai_jobs *j, const rr_study_rec *st)
{
  char desc[RR_LO_SIZE];
  size_t i, k;
  bool ok;

  if (j->o.auto_modality_count > 0) {
    ok = false;
    for (i = 0; i < j->o.auto_modality_count && !ok; i++) {
      const char *m = j->auto_modalities[i], *p = st->modalities;
      size_t ml = strlen(m);
      while ((p = strstr(p, m)) != NULL && !ok) {
        ok = (p == st->modalities || p[-1] == '\\') && (p[ml] == '\0' || p[ml] == '\\');
        p += ml;
      }
    }
    if (!ok)
      return false;
  }
  if (j->o.auto_word_count > 0) {
    for (k = 0; st->study_description[k] != '\0' && k + 1 < sizeof(desc); k++) {
      char c = st->study_description[k];
      desc[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    desc[k] = '\0';
    ok = false;
    for (i = 0; i < j->o.auto_word_count && !ok; i++)
      ok = strstr(desc, j->auto_words[i]) != NULL;
    if (!ok)
      return false;
  }
  return true;
}

/* Apply the rules to a stable study. Returns true when it should be tried
 * again later: the worklist has not caught up with Orthanc yet (a big
 * import keeps ingestion behind the StableStudy event). */
static bool handle_stable(rr_ai_jobs *j, const char *orthanc_id)
{
  rr_rest_source src = rr_rest_source_orthanc(j->o.ctx);
  rr_study_detail *d = NULL;
  json_object *study = NULL, *stats = NULL, *v;
  char uri[128], err[256], id[RR_AI_ID_SIZE], uid[RR_UID_SIZE];
  int64_t in_orthanc = -1;
  bool existing = false, retry = false;
  int rc;

  snprintf(uri, sizeof(uri), "/studies/%s", orthanc_id);
  if (src.get_json(src.ctx, &study, uri, err, sizeof(err)) < 0)
    return false; /* deleted meanwhile */
  rr_str_copy(uid, sizeof(uid), rr_json_str(rr_json_obj(study, "MainDicomTags"), "StudyInstanceUID"));
  json_object_put(study);
  snprintf(uri, sizeof(uri), "/studies/%s/statistics", orthanc_id);
  if (src.get_json(src.ctx, &stats, uri, err, sizeof(err)) == 0 && json_object_object_get_ex(stats, "CountInstances", &v))
    in_orthanc = json_object_get_int64(v);
  json_object_put(stats);
  if (uid[0] == '\0')
    return false;
  rc = rr_store_get_study(j->o.store, &d, uid, err, sizeof(err));
  if (rc == RR_ENOTFOUND || (rc == 0 && in_orthanc > d->study.instance_count)) {
    retry = true;
    goto out;
  }
  if (rc < 0)
    goto out;
  if (rules_match(j, &d->study)) {
    if (rr_ai_jobs_submit(id, &existing, j, uid, "auto", false, err, sizeof(err)) == 0 && !existing) {
      pthread_mutex_lock(&j->lock);
      j->auto_submitted++;
      pthread_mutex_unlock(&j->lock);
      rr_log_info("AI: analysis %s queued automatically for a stable study", id);
    } else if (!existing) {
      rr_log_warning("AI: cannot queue the automatic analysis of a stable study: %s", err);
    }
  }
out:
  rr_study_detail_free(d);
  return retry;
}

/* Queue a stable study (lock held). False when the queue is full. */
static bool stable_push(rr_ai_jobs *j, const char *orthanc_id, unsigned attempts, int64_t not_before)
{
  stable_entry *e;

  if (j->stable_count >= STABLE_QUEUE)
    return false;
  e = &j->stable[(j->stable_head + j->stable_count) % STABLE_QUEUE];
  rr_str_copy(e->orthanc_id, sizeof(e->orthanc_id), orthanc_id);
  e->attempts = attempts;
  e->not_before = not_before;
  j->stable_count++;
  return true;
}

void rr_ai_jobs_study_stable(rr_ai_jobs *j, const char *orthanc_study_id)
{
  if (j == NULL || !j->o.auto_enable || j->o.provider == NULL || orthanc_study_id == NULL ||
      strlen(orthanc_study_id) >= RR_OID_SIZE)
    return;
  pthread_mutex_lock(&j->lock);
  if (!stable_push(j, orthanc_study_id, 0, 0))
    j->auto_dropped++;
  else
    pthread_cond_signal(&j->wake);
  pthread_mutex_unlock(&j->lock);
}

/* ---- workers ------------------------------------------------------------ */

/* Requeue the analyses of nodes that are gone (store_ai.h rr_store_ai_sweep;
 * nothing on a one-node store), so that a survivor runs them; called by
 * whichever idle worker finds the sweep due (lock not held). */
static void sweep(rr_ai_jobs *j)
{
  int64_t requeued = 0;
  char err[256];

  if (rr_store_ai_sweep(j->o.store, &requeued, rr_clock_unix_s(), err, sizeof(err)) < 0) {
    rr_log_warning("AI: cannot requeue the analyses of stopped nodes: %s", err);
    return;
  }
  if (requeued > 0) {
    rr_log_warning("AI: %lld analyses of a stopped node queued again", (long long)requeued);
    pthread_mutex_lock(&j->lock);
    pthread_cond_broadcast(&j->wake);
    pthread_mutex_unlock(&j->lock);
  }
}

static void work(void *arg, unsigned index)
{
  rr_ai_jobs *j = arg;
  slot *sl = &j->slots[index];
  rr_ai_analysis a;
  char err[256];
  struct timespec ts;
  bool retry;
  job jb;
  int rc;

  pthread_mutex_lock(&j->lock);
  while (!rr_workers_stopping(&j->workers)) {
    if (j->stable_count > 0 && j->stable[j->stable_head].not_before <= rr_clock_mono_ms()) {
      stable_entry e = j->stable[j->stable_head];
      j->stable_head = (j->stable_head + 1) % STABLE_QUEUE;
      j->stable_count--;
      pthread_mutex_unlock(&j->lock);
      retry = handle_stable(j, e.orthanc_id);
      pthread_mutex_lock(&j->lock);
      if (retry && e.attempts + 1 < STABLE_RETRIES) {
        if (!stable_push(j, e.orthanc_id, e.attempts + 1, rr_clock_mono_ms() + STABLE_RETRY_MS))
          j->auto_dropped++;
      } else if (retry) {
        j->auto_dropped++;
        rr_log_warning("AI: a stable study did not reach the worklist within %d s; not analysed automatically",
                       STABLE_RETRIES * STABLE_RETRY_MS / 1000);
      }
      continue;
    }
    if (rr_clock_mono_ms() >= j->next_sweep) {
      j->next_sweep = rr_clock_mono_ms() + SWEEP_MS;
      pthread_mutex_unlock(&j->lock);
      sweep(j);
      pthread_mutex_lock(&j->lock);
      continue;
    }
    /* claim under the lock, so that a cancel sees either queued or ours */
    rc = rr_store_ai_claim_next(j->o.store, &a, rr_clock_unix_s(), err, sizeof(err));
    if (rc == 0) {
      rr_str_copy(sl->id, sizeof(sl->id), a.id);
      atomic_store(&sl->cancel, 0);
      sl->shutdown = false;
      pthread_mutex_unlock(&j->lock);
      jb.j = j;
      jb.slot = sl;
      jb.a = &a;
      jb.started_ms = rr_clock_mono_ms();
      run_job(&jb);
      rr_ai_analysis_dispose(&a);
      pthread_mutex_lock(&j->lock);
      sl->id[0] = '\0';
      continue;
    }
    if (rc != RR_ENOTFOUND)
      rr_log_error("AI: cannot take the next analysis: %s", err);
    {
      int64_t wait_ms = IDLE_WAIT_MS;
      if (j->stable_count > 0) {
        int64_t due = j->stable[j->stable_head].not_before - rr_clock_mono_ms();
        wait_ms = due < 10 ? 10 : (due < wait_ms ? due : wait_ms);
      }
      rr_clock_deadline(&ts, wait_ms);
      rr_clock_cond_wait_until(&j->wake, &j->lock, &ts);
    }
  }
  pthread_mutex_unlock(&j->lock);
}

int rr_ai_jobs_start(rr_ai_jobs *j)
{
  int64_t requeued = 0;
  char err[256];

  if (j == NULL || rr_workers_running(&j->workers))
    return 0;
  if (j->o.provider == NULL) {
    /* analyses queued before the provider was removed would wait forever */
    if (rr_store_ai_abandon(j->o.store, &requeued, rr_clock_unix_s(),
                            "no AI provider is configured any more (ReadingRoom.AI.Provider); analyse the study again "
                            "once one is", err, sizeof(err)) < 0)
      rr_log_error("AI: cannot end the waiting analyses: %s", err);
    else if (requeued > 0)
      rr_log_warning("AI: %lld waiting analyses ended failed: no provider is configured", (long long)requeued);
    return 0;
  }
  pthread_mutex_lock(&j->lock);
  j->next_sweep = rr_clock_mono_ms() + SWEEP_MS; /* recover below has just done it */
  pthread_mutex_unlock(&j->lock);
  if (rr_store_ai_recover(j->o.store, &requeued, rr_clock_unix_s(), err, sizeof(err)) < 0)
    rr_log_error("AI: cannot recover interrupted analyses: %s", err);
  else if (requeued > 0)
    rr_log_warning("AI: %lld interrupted analyses queued again", (long long)requeued);
  if (rr_workers_start(&j->workers, j->o.concurrency, work, j) < 0) {
    rr_log_error("AI: cannot start the worker threads");
    return RR_ERROR;
  }
  if (j->workers.count < j->o.concurrency)
    rr_log_error("AI: cannot start worker thread %u", j->workers.count);
  return 0;
}

/* At stop (lock held): running jobs are interrupted, to be queued again. */
static void interrupt_running(void *arg)
{
  rr_ai_jobs *j = arg;
  unsigned i;

  for (i = 0; i < MAX_WORKERS; i++)
    if (j->slots[i].id[0] != '\0') {
      j->slots[i].shutdown = true;
      atomic_store(&j->slots[i].cancel, 1);
    }
}

void rr_ai_jobs_stop(rr_ai_jobs *j)
{
  if (j != NULL)
    rr_workers_stop(&j->workers, interrupt_running, j);
}

void rr_ai_jobs_free(rr_ai_jobs *j)
{
  if (j == NULL)
    return;
  rr_ai_jobs_stop(j);
  pthread_cond_destroy(&j->wake);
  pthread_mutex_destroy(&j->lock);
  free_words(j->auto_modalities, j->o.auto_modality_count);
  free_words(j->auto_words, j->o.auto_word_count);
  rr_ai_provider_free(j->o.provider);
  free(j);
}

/* ---- requests from the API ---------------------------------------------- */

static int new_id(char out[RR_AI_ID_SIZE])
{
  unsigned char raw[16];

  if (RAND_bytes(raw, sizeof(raw)) != 1)
    return RR_ERROR;
  rr_hex_encode(out, raw, sizeof(raw));
  return 0;
}

/* Queued or running (a stored name that is no state counts as neither). */
static bool in_progress(const char *status)
{
  rr_ai_state state;

  return rr_ai_state_parse(&state, status) == 0 && !rr_ai_state_is_final(state);
}

int rr_ai_jobs_submit(char id_out[RR_AI_ID_SIZE], bool *existing, rr_ai_jobs *j, const char *study_uid,
                      const char *requested_by, bool force, char *err, size_t errsize)
{
  rr_study_detail *d = NULL;
  rr_ai_list *list = NULL;
  rr_ai_counts counts;
  rr_ai_analysis a;
  size_t i;
  int rc;

  id_out[0] = '\0';
  *existing = false;
  if (!rr_ai_jobs_configured(j))
    return rr_fail(err, errsize, RR_ECONFLICT,
                   "AI analysis is not configured: set ReadingRoom.AI.Provider (\"openai\" for an on-premises "
                   "OpenAI-compatible server such as vLLM, Ollama or llama.cpp, with AI.BaseUrl and AI.Model; or "
                   "\"gemini\" with AI.ApiKey and AI.AllowCloud) in Orthanc's configuration, then restart Orthanc");
  if ((rc = rr_store_get_study(j->o.store, &d, study_uid, err, errsize)) < 0)
    return rc == RR_ENOTFOUND ? rr_fail(err, errsize, RR_ENOTFOUND, "no such study in the worklist") : rc;
  pthread_mutex_lock(&j->lock);
  if (!force && (rc = rr_store_ai_list_study(j->o.store, &list, study_uid, err, errsize)) == 0) {
    for (i = 0; i < list->count; i++)
      if (in_progress(list->items[i].status)) {
        rr_str_copy(id_out, RR_AI_ID_SIZE, list->items[i].id);
        *existing = true;
        goto out;
      }
  }
  if (rc < 0)
    goto out;
  if ((rc = rr_store_ai_counts(j->o.store, &counts, rr_clock_unix_s(), err, errsize)) < 0)
    goto out;
  if (counts.queued >= (int64_t)j->o.max_queued) {
    rc = rr_fail(err, errsize, RR_EFULL, "%lld analyses are waiting already (AI.MaxQueuedAnalyses); try again later",
                 (long long)counts.queued);
    goto out;
  }
  memset(&a, 0, sizeof(a));
  if (new_id(a.id) < 0) {
    rc = rr_fail(err, errsize, RR_ERROR, "cannot make an analysis ID");
    goto out;
  }
  rr_str_copy(a.study_uid, sizeof(a.study_uid), study_uid);
  rr_str_copy(a.orthanc_study_id, sizeof(a.orthanc_study_id), d->study.orthanc_id);
  rr_str_copy(a.provider, sizeof(a.provider), rr_ai_provider_kind(j->o.provider));
  rr_str_copy(a.model_requested, sizeof(a.model_requested), rr_ai_provider_model(j->o.provider));
  rr_str_copy(a.status, sizeof(a.status), rr_ai_state_name(RR_AI_STATE_QUEUED));
  rr_str_copy(a.requested_by, sizeof(a.requested_by), requested_by ? requested_by : "");
  rr_str_copy(a.review_status, sizeof(a.review_status), "pending");
  rr_str_copy(a.prompt_version, sizeof(a.prompt_version), RR_AI_PROMPT_VERSION);
  rr_str_copy(a.schema_version, sizeof(a.schema_version), RR_FINDINGS_SCHEMA_VERSION);
  a.requested_at = rr_clock_unix_s();
  if ((rc = rr_store_ai_create(j->o.store, &a, err, errsize)) < 0)
    goto out;
  rr_str_copy(id_out, RR_AI_ID_SIZE, a.id);
  pthread_cond_signal(&j->wake);
out:
  pthread_mutex_unlock(&j->lock);
  rr_ai_list_free(list);
  rr_study_detail_free(d);
  return rc;
}

int rr_ai_jobs_cancel(rr_ai_jobs *j, const char *id, char *err, size_t errsize)
{
  rr_ai_analysis a;
  unsigned i;
  int rc;

  pthread_mutex_lock(&j->lock);
  for (i = 0; i < MAX_WORKERS; i++)
    if (j->slots[i].id[0] != '\0' && strcmp(j->slots[i].id, id) == 0) {
      atomic_store(&j->slots[i].cancel, 1);
      pthread_mutex_unlock(&j->lock);
      return 0;
    }
  if ((rc = rr_store_ai_get(j->o.store, &a, id, err, errsize)) < 0)
    goto out;
  if (!rr_ai_state_is(a.status, RR_AI_STATE_QUEUED)) {
    rc = rr_fail(err, errsize, RR_ECONFLICT, "the analysis has %s already",
                 rr_ai_state_is(a.status, RR_AI_STATE_RUNNING) ? "been taken by another process" : "finished");
  } else {
    rr_str_copy(a.status, sizeof(a.status), rr_ai_state_name(RR_AI_STATE_CANCELLED));
    a.finished_at = rr_clock_unix_s();
    set_text(&a.error, "cancelled by a user before it started", 200);
    rc = rr_store_ai_update(j->o.store, &a, err, errsize);
  }
  rr_ai_analysis_dispose(&a);
out:
  pthread_mutex_unlock(&j->lock);
  return rc;
}

void rr_ai_jobs_get_stats(rr_ai_jobs *j, rr_ai_jobs_stats *out)
{
  unsigned i;

  memset(out, 0, sizeof(*out));
  out->reachable = -1;
  if (j == NULL)
    return;
  pthread_mutex_lock(&j->lock);
  out->concurrency = j->o.concurrency;
  for (i = 0; i < MAX_WORKERS; i++)
    out->running += j->slots[i].id[0] != '\0';
  out->reachable = j->reachable;
  rr_str_copy(out->last_error, sizeof(out->last_error), j->last_error);
  out->auto_submitted = j->auto_submitted;
  out->auto_dropped = j->auto_dropped;
  pthread_mutex_unlock(&j->lock);
}

int rr_ai_jobs_probe(rr_ai_jobs *j, char *err, size_t errsize)
{
  int rc;

  if (!rr_ai_jobs_configured(j))
    return rr_fail(err, errsize, RR_ECONFLICT, "no AI provider is configured");
  rc = rr_ai_provider_probe(j->o.provider, err, errsize);
  note_call(j, rc == 0 ? 1 : 0, rc == 0 ? "" : err);
  return rc;
}
