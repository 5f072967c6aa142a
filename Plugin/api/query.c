#include "query.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/ai_state.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"

static size_t count_words(const char *folded)
{
  const char *w;
  size_t pos = 0, len, n = 0;

  while (rr_text_next_word(folded, &pos, &w, &len))
    n++;
  return n;
}

static bool only_stars(const char *s)
{
  for (; *s; s++)
    if (*s != '*' && *s != ' ')
      return false;
  return true;
}

/* Folded, case- and accent-insensitive text filter (name, description, q). */
static int parse_text(rr_match *m, const char *name, const char *value, bool allow_wildcards, char *err, size_t errsize)
{
  rr_buf folded, glob;
  bool wild = allow_wildcards && rr_text_has_wildcard(value);
  int error = 0;

  rr_buf_init(&folded, RR_QUERY_VALUE_SIZE - 1);
  rr_buf_init(&glob, RR_QUERY_VALUE_SIZE - 1);
  if (rr_text_fold(&folded, value, strlen(value), wild) < 0) {
    error = rr_fail(err, errsize, RR_EINVAL, "argument '%s' is too long", name);
    goto out;
  }
  if (folded.len == 0 || (wild && only_stars(folded.ptr))) {
    m->mode = RR_MATCH_NONE;
    goto out;
  }
  if (wild) {
    if (rr_text_glob(&glob, folded.ptr) < 0) {
      error = rr_fail(err, errsize, RR_EINVAL, "argument '%s' is too long", name);
      goto out;
    }
    m->mode = RR_MATCH_GLOB;
    rr_str_copy(m->value, sizeof(m->value), glob.ptr);
  } else {
    if (count_words(folded.ptr) > RR_QUERY_MAX_WORDS) {
      error = rr_fail(err, errsize, RR_EINVAL, "argument '%s' has more than %d words", name, RR_QUERY_MAX_WORDS);
      goto out;
    }
    m->mode = RR_MATCH_WORDS;
    rr_str_copy(m->value, sizeof(m->value), folded.ptr);
  }
out:
  rr_buf_dispose(&folded);
  rr_buf_dispose(&glob);
  return error;
}

/* Raw identifier filter (patient ID, accession number): exact or wildcard. */
static int parse_exact(rr_match *m, const char *name, const char *value, char *err, size_t errsize)
{
  char trimmed[RR_QUERY_MAX_ARG_BYTES + 1];
  rr_buf glob;
  int error = 0;

  rr_str_copy_trim(trimmed, sizeof(trimmed), value);
  if (trimmed[0] == '\0' || only_stars(trimmed)) {
    m->mode = RR_MATCH_NONE;
    return 0;
  }
  if (!rr_text_has_wildcard(trimmed)) {
    m->mode = RR_MATCH_EXACT;
    rr_str_copy(m->value, sizeof(m->value), trimmed);
    return 0;
  }
  rr_buf_init(&glob, RR_QUERY_VALUE_SIZE - 1);
  if (rr_text_glob(&glob, trimmed) < 0)
    error = rr_fail(err, errsize, RR_EINVAL, "argument '%s' is too long", name);
  else {
    m->mode = RR_MATCH_GLOB;
    rr_str_copy(m->value, sizeof(m->value), glob.ptr);
  }
  rr_buf_dispose(&glob);
  return error;
}

static int parse_modalities(rr_worklist_query *q, const char *value, char *err, size_t errsize)
{
  const char *p = value;
  size_t len, i;
  char item[RR_CS_SIZE];

  while (*p) {
    len = strcspn(p, ",\\ ");
    if (len > 0) {
      if (len > 16)
        return rr_fail(err, errsize, RR_EINVAL, "argument 'modality': '%.*s...' is not a modality", 16, p);
      for (i = 0; i < len; i++) {
        char c = p[i];
        if (c >= 'a' && c <= 'z')
          c = (char)(c - 32);
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
          return rr_fail(err, errsize, RR_EINVAL, "argument 'modality': only letters, digits and '_' are allowed");
        item[i] = c;
      }
      item[len] = '\0';
      if (q->modality_count >= RR_QUERY_MAX_MODALITIES)
        return rr_fail(err, errsize, RR_EINVAL, "argument 'modality': at most %d modalities", RR_QUERY_MAX_MODALITIES);
      rr_str_copy(q->modalities[q->modality_count++], RR_CS_SIZE, item);
    }
    p += len;
    if (*p)
      p++;
  }
  return 0;
}

/* The aiStatus filter's words: "none" (no analysis) and the analysis states
 * of store/ai_state.h, in their order. */
static size_t ai_filter_words(const char *out[RR_AI_STATE_COUNT + 1])
{
  size_t i;

  out[0] = "none";
  for (i = 0; i < RR_AI_STATE_COUNT; i++)
    out[i + 1] = rr_ai_state_name((rr_ai_state)i);
  return RR_AI_STATE_COUNT + 1;
}
static const char *const review_states[] = {"none", "pending", "confirmed", "rejected", "modified"};

/* A comma list of states ("none" = no analysis, stored as ""). */
static int parse_states(char (*out)[RR_STATE_SIZE], size_t *count, const char *name, const char *value,
                        const char *const *allowed, size_t allowed_count, char *err, size_t errsize)
{
  const char *p = value;
  char item[RR_STATE_SIZE];
  size_t len, i;

  while (*p) {
    len = strcspn(p, ",");
    if (len > 0) {
      for (i = 0; i < allowed_count; i++)
        if (strlen(allowed[i]) == len && strncmp(p, allowed[i], len) == 0)
          break;
      if (i == allowed_count) {
        char list[256] = "";
        size_t j, used = 0;
        for (j = 0; j < allowed_count && used + 16 < sizeof(list); j++)
          used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", j ? ", " : "", allowed[j]);
        return rr_fail(err, errsize, RR_EINVAL, "argument '%s': '%.*s' is not one of %s", name, (int)(len > 24 ? 24 : len),
                       p, list);
      }
      if (*count >= RR_QUERY_MAX_STATES)
        return rr_fail(err, errsize, RR_EINVAL, "argument '%s': too many values", name);
      rr_str_copy(item, sizeof(item), i == 0 ? "" : allowed[i]);
      memcpy(out[(*count)++], item, sizeof(item));
    }
    p += len;
    if (*p)
      p++;
  }
  return 0;
}

static int parse_ai_states(rr_worklist_query *q, const char *name, const char *value, char *err, size_t errsize)
{
  const char *words[RR_AI_STATE_COUNT + 1];
  size_t n = ai_filter_words(words);

  return parse_states(q->ai_statuses, &q->ai_status_count, name, value, words, n, err, errsize);
}

static int parse_date(char out[RR_DA_SIZE], const char *name, const char *value, char *err, size_t errsize)
{
  if (value[0] == '\0') {
    out[0] = '\0';
    return 0;
  }
  if (rr_date_parse(out, value) < 0)
    return rr_fail(err, errsize, RR_EINVAL, "argument '%s': '%s' is not a date (YYYYMMDD or YYYY-MM-DD)", name, value);
  return 0;
}

/* DICOM date range: "D", "D1-D2", "D1-", "-D2". */
static int parse_date_range(rr_worklist_query *q, const char *value, char *err, size_t errsize)
{
  char a[RR_QUERY_MAX_ARG_BYTES + 1], b[RR_QUERY_MAX_ARG_BYTES + 1];
  const char *dash = strchr(value, '-');
  int error;

  /* an ISO date "YYYY-MM-DD" also has dashes: take it as one date */
  if (dash == NULL || (strlen(value) == 10 && value[4] == '-' && value[7] == '-')) {
    if ((error = parse_date(q->date_from, "studyDate", value, err, errsize)) < 0)
      return error;
    memcpy(q->date_to, q->date_from, RR_DA_SIZE);
    return 0;
  }
  rr_str_copyn(a, sizeof(a), value, (size_t)(dash - value));
  rr_str_copy(b, sizeof(b), dash + 1);
  if ((error = parse_date(q->date_from, "studyDate", a, err, errsize)) < 0 ||
      (error = parse_date(q->date_to, "studyDate", b, err, errsize)) < 0)
    return error;
  return 0;
}

static int parse_uint(uint32_t *out, const char *name, const char *value, uint32_t min, uint32_t max, char *err, size_t errsize)
{
  int64_t v;

  if (rr_parse_i64(&v, value, min, max) < 0)
    return rr_fail(err, errsize, RR_EINVAL, "argument '%s' must be a whole number between %u and %u", name, min, max);
  *out = (uint32_t)v;
  return 0;
}

int rr_query_parse(rr_worklist_query *q, const char *const *keys, const char *const *values, size_t count,
                   unsigned default_limit, unsigned max_limit, char *err, size_t errsize)
{
  size_t i, len;
  const char *k, *v;
  char key[64], value[RR_QUERY_MAX_ARG_BYTES + 1];
  int error = 0;
  bool order_given = false;

  memset(q, 0, sizeof(*q));
  q->sort = RR_SORT_STUDY_DATE;
  q->descending = true;
  q->limit = default_limit;

  for (i = 0; i < count && error == 0; i++) {
    if (rr_url_decode(key, sizeof(key), keys[i]) < 0)
      return rr_fail(err, errsize, RR_EINVAL, "unknown argument '%.32s'", keys[i]);
    if (rr_url_decode(value, sizeof(value), values[i] ? values[i] : "") < 0)
      return rr_fail(err, errsize, RR_EINVAL, "argument '%.32s' is too long (at most %d bytes)", key, RR_QUERY_MAX_ARG_BYTES);
    k = key;
    v = value;
    len = strlen(v);
    if (rr_utf8_valid_prefix(v, len) != len)
      return rr_fail(err, errsize, RR_EINVAL, "argument '%.32s' is not valid UTF-8", k);

    if (strcmp(k, "patientName") == 0)
      error = parse_text(&q->patient_name, k, v, true, err, errsize);
    else if (strcmp(k, "description") == 0)
      error = parse_text(&q->description, k, v, true, err, errsize);
    else if (strcmp(k, "q") == 0)
      error = parse_text(&q->text, k, v, false, err, errsize);
    else if (strcmp(k, "patientId") == 0)
      error = parse_exact(&q->patient_id, k, v, err, errsize);
    else if (strcmp(k, "accessionNumber") == 0)
      error = parse_exact(&q->accession, k, v, err, errsize);
    else if (strcmp(k, "modality") == 0)
      error = parse_modalities(q, v, err, errsize);
    else if (strcmp(k, "aiStatus") == 0)
      error = parse_ai_states(q, k, v, err, errsize);
    else if (strcmp(k, "reviewStatus") == 0)
      error = parse_states(q->review_statuses, &q->review_status_count, k, v, review_states,
                           sizeof(review_states) / sizeof(review_states[0]), err, errsize);
    else if (strcmp(k, "report") == 0) {
      if (strcmp(v, "unreported") != 0 && strcmp(v, "mine") != 0 && strcmp(v, "preliminary") != 0 &&
          strcmp(v, "final") != 0 && strcmp(v, "critical") != 0)
        error = rr_fail(err, errsize, RR_EINVAL,
                        "argument 'report' must be one of unreported, mine, preliminary, final, critical");
      else
        rr_str_copy(q->report, sizeof(q->report), v);
    } else if (strcmp(k, "studyDateFrom") == 0)
      error = parse_date(q->date_from, k, v, err, errsize);
    else if (strcmp(k, "studyDateTo") == 0)
      error = parse_date(q->date_to, k, v, err, errsize);
    else if (strcmp(k, "studyDate") == 0)
      error = parse_date_range(q, v, err, errsize);
    else if (strcmp(k, "sort") == 0) {
      if (strcmp(v, "studyDate") == 0)
        q->sort = RR_SORT_STUDY_DATE;
      else if (strcmp(v, "patientName") == 0)
        q->sort = RR_SORT_PATIENT_NAME;
      else if (strcmp(v, "receivedAt") == 0)
        q->sort = RR_SORT_RECEIVED_AT;
      else
        error = rr_fail(err, errsize, RR_EINVAL, "argument 'sort' must be one of studyDate, patientName, receivedAt");
    } else if (strcmp(k, "order") == 0) {
      order_given = true;
      if (strcmp(v, "asc") == 0)
        q->descending = false;
      else if (strcmp(v, "desc") == 0)
        q->descending = true;
      else
        error = rr_fail(err, errsize, RR_EINVAL, "argument 'order' must be 'asc' or 'desc'");
    } else if (strcmp(k, "limit") == 0)
      error = parse_uint(&q->limit, k, v, 1, max_limit, err, errsize);
    else if (strcmp(k, "offset") == 0)
      error = parse_uint(&q->offset, k, v, 0, RR_QUERY_MAX_OFFSET, err, errsize);
    else
      error = rr_fail(err, errsize, RR_EINVAL, "unknown argument '%.32s'", k);
  }
  if (error < 0)
    return error;
  /* names read naturally A to Z unless the caller says otherwise */
  if (!order_given && q->sort == RR_SORT_PATIENT_NAME)
    q->descending = false;
  if (q->date_from[0] && q->date_to[0] && strcmp(q->date_from, q->date_to) > 0)
    return rr_fail(err, errsize, RR_EINVAL, "studyDateFrom (%s) is after studyDateTo (%s)", q->date_from, q->date_to);
  return 0;
}
