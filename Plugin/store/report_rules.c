/*
 * report_rules.c - the reports concern's rules shared by the store
 * backends: input checks, lifecycle transitions against a report's head,
 * person-name matching (contract in report_rules.h).
 */
#include <string.h>

#include "report_rules.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"

static const char *const report_states[] = {"draft",     "preliminary", "final",           "appended",
                                            "corrected", "cancelled",   "entered-in-error"};

bool rr_report_state_is(const char *state, const char *a, const char *b, const char *c)
{
  return strcmp(state, a) == 0 || (b != NULL && strcmp(state, b) == 0) || (c != NULL && strcmp(state, c) == 0);
}

bool rr_report_state_known(const char *state)
{
  size_t i;

  for (i = 0; i < sizeof(report_states) / sizeof(report_states[0]); i++)
    if (strcmp(state, report_states[i]) == 0)
      return true;
  return false;
}

/* ------------------------------------------------------------ inputs */

int rr_report_check_user(const char *what, const char *s, char *err, size_t errsize)
{
  if (s == NULL || s[0] == '\0' || strlen(s) >= RR_USERNAME_SIZE)
    return rr_fail(err, errsize, RR_EINVAL, "the %s must be a user name of 1 to %d bytes", what,
                   RR_USERNAME_SIZE - 1);
  return 0;
}

int rr_report_check_text(const char *what, const char *s, size_t max, bool required, char *err, size_t errsize)
{
  size_t n = s ? strlen(s) : 0;

  if (required && n == 0)
    return rr_fail(err, errsize, RR_EINVAL, "the %s is required", what);
  if (n > max)
    return rr_fail(err, errsize, RR_EINVAL, "the %s is %zu bytes long, more than the %zu allowed", what, n, max);
  if (n > 0 && rr_utf8_valid_prefix(s, n) != n)
    return rr_fail(err, errsize, RR_EINVAL, "the %s is not valid UTF-8", what);
  return 0;
}

static int check_study_uid(const char *uid, char *err, size_t errsize)
{
  if (uid == NULL || uid[0] == '\0' || strlen(uid) >= RR_UID_SIZE)
    return rr_fail(err, errsize, RR_EINVAL, "a StudyInstanceUID of 1 to %d characters is required", RR_UID_SIZE - 1);
  return 0;
}

static int check_template_id(const char *id, char *err, size_t errsize)
{
  size_t i, n = id ? strlen(id) : 0;

  if (n == 0 || n >= RR_REPORT_TEMPLATE_ID_SIZE)
    return rr_fail(err, errsize, RR_EINVAL, "a template id of 1 to %d characters is required",
                   RR_REPORT_TEMPLATE_ID_SIZE - 1);
  for (i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return rr_fail(err, errsize, RR_EINVAL, "a template id has only letters, digits, '.', '_' and '-'");
  }
  return 0;
}

static int check_signature(const rr_report_signature *sig, char *err, size_t errsize)
{
  size_t i;
  int error;

  if (sig == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "a signature is required");
  if ((error = rr_report_check_user("signer", sig->signed_by, err, errsize)) < 0)
    return error;
  if (sig->signed_at <= 0)
    return rr_fail(err, errsize, RR_EINVAL, "the time of the signature is required");
  if (sig->pdf == NULL || sig->pdf_size == 0)
    return rr_fail(err, errsize, RR_EINVAL, "a signed version needs its PDF");
  if (sig->pdf_size > RR_REPORT_PDF_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "the PDF is %zu bytes, more than the %d allowed", sig->pdf_size,
                   RR_REPORT_PDF_MAX);
  if (sig->pdf_sha256 == NULL || strlen(sig->pdf_sha256) != 64)
    return rr_fail(err, errsize, RR_EINVAL, "the PDF's SHA-256 must be 64 hex digits");
  for (i = 0; i < 64; i++)
    if (rr_hex_value(sig->pdf_sha256[i]) < 0 || (sig->pdf_sha256[i] >= 'A' && sig->pdf_sha256[i] <= 'F'))
      return rr_fail(err, errsize, RR_EINVAL, "the PDF's SHA-256 must be 64 lower-case hex digits");
  return rr_report_check_text("critical result communication", sig->critical_json, RR_REPORT_JSON_MAX, false, err,
                              errsize);
}

int rr_report_check_create(const char *study_uid, const char *template_id, const char *template_json,
                           const char *author, char *err, size_t errsize)
{
  int error;

  if ((error = check_study_uid(study_uid, err, errsize)) < 0 ||
      (error = check_template_id(template_id, err, errsize)) < 0 ||
      (error = rr_report_check_text("template", template_json, RR_REPORT_JSON_MAX, true, err, errsize)) < 0)
    return error;
  return rr_report_check_user("author", author, err, errsize);
}

int rr_report_check_draft(const char *fields_json, const char *inserts_json, const char *by, char *err,
                          size_t errsize)
{
  int error;

  if ((error = rr_report_check_text("fields", fields_json, RR_REPORT_JSON_MAX, false, err, errsize)) < 0 ||
      (error = rr_report_check_text("inserts", inserts_json, RR_REPORT_JSON_MAX, false, err, errsize)) < 0)
    return error;
  return rr_report_check_user("editor", by, err, errsize);
}

int rr_report_check_sign(bool *out_final, const char *status, const rr_report_signature *sig, char *err,
                         size_t errsize)
{
  *out_final = status != NULL && strcmp(status, "final") == 0;
  if (!*out_final && (status == NULL || strcmp(status, "preliminary") != 0))
    return rr_fail(err, errsize, RR_EINVAL, "a report is signed as preliminary or final");
  return check_signature(sig, err, errsize);
}

int rr_report_check_add(bool *out_addendum, const char *kind, const char *fields_json, const char *text,
                        const rr_report_signature *sig, char *err, size_t errsize)
{
  bool addendum = kind != NULL && strcmp(kind, "addendum") == 0;
  int error;

  *out_addendum = addendum;
  if (!addendum && (kind == NULL || strcmp(kind, "correction") != 0))
    return rr_fail(err, errsize, RR_EINVAL, "a new version is an addendum or a correction");
  if ((error = rr_report_check_text(addendum ? "addendum" : "reason for the correction", text, RR_REPORT_TEXT_MAX,
                                    true, err, errsize)) < 0 ||
      (!addendum &&
       (error = rr_report_check_text("fields", fields_json, RR_REPORT_JSON_MAX, true, err, errsize)) < 0))
    return error;
  return check_signature(sig, err, errsize);
}

int rr_report_check_close(const char *by, const char *reason, char *err, size_t errsize)
{
  int error = rr_report_check_user("user", by, err, errsize);

  return error < 0 ? error : rr_report_check_text("reason", reason, RR_REPORT_TEXT_MAX, true, err, errsize);
}

int rr_report_check_macro(const char *username, const char *name, const char *text, char *err, size_t errsize)
{
  size_t i, n = name ? strlen(name) : 0, tn = text ? strlen(text) : 0;

  if (username == NULL || username[0] == '\0' || strlen(username) >= RR_USERNAME_SIZE)
    return rr_fail(err, errsize, RR_EINVAL, "a user name of 1 to %d bytes is required", RR_USERNAME_SIZE - 1);
  if (n == 0 || n >= RR_MACRO_NAME_SIZE || rr_utf8_valid_prefix(name, n) != n)
    return rr_fail(err, errsize, RR_EINVAL, "a macro name is 1 to %d bytes of UTF-8", RR_MACRO_NAME_SIZE - 1);
  for (i = 0; i < n; i++)
    if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
      return rr_fail(err, errsize, RR_EINVAL, "a macro name has no control characters");
  if (text != NULL && (tn > RR_MACRO_TEXT_MAX || rr_utf8_valid_prefix(text, tn) != tn))
    return rr_fail(err, errsize, RR_EINVAL, "a macro's text is at most %d bytes of UTF-8", RR_MACRO_TEXT_MAX);
  return 0;
}

int rr_report_check_query(const rr_report_query *q, char *err, size_t errsize)
{
  size_t i;

  if (q->state_count > sizeof(q->states) / sizeof(q->states[0]))
    return rr_fail(err, errsize, RR_EINVAL, "at most %zu report states may be named",
                   sizeof(q->states) / sizeof(q->states[0]));
  for (i = 0; i < q->state_count; i++)
    if (!rr_report_state_known(q->states[i]))
      return rr_fail(err, errsize, RR_EINVAL, "unknown report state '%.24s'", q->states[i]);
  if (memchr(q->text, '\0', sizeof(q->text)) == NULL || memchr(q->patient_id, '\0', sizeof(q->patient_id)) == NULL ||
      memchr(q->referring, '\0', sizeof(q->referring)) == NULL || memchr(q->username, '\0', sizeof(q->username)) == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "a text of the reports query is not terminated");
  return 0;
}

size_t rr_report_query_limit(const rr_report_query *q)
{
  return q->limit == 0 ? 50 : (q->limit > 500 ? 500 : q->limit);
}

/* ------------------------------------------------------------ transitions */

int rr_report_check_expect(const rr_report_head *h, const rr_report_expect *expect, char *err, size_t errsize)
{
  if (expect == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "the version and revision the change is based on are required");
  if (expect->version != h->latest || expect->revision != h->revision)
    return rr_fail(err, errsize, RR_ESTALE,
                   "the report has changed: version %lld revision %lld is now the latest, not %lld.%lld",
                   (long long)h->latest, (long long)h->revision, (long long)expect->version,
                   (long long)expect->revision);
  return 0;
}

int rr_report_check_editable(const rr_report_head *h, const char *action, char *err, size_t errsize)
{
  if (rr_report_state_is(h->state, "draft", "preliminary", NULL))
    return 0;
  if (rr_report_state_is(h->state, "final", "appended", "corrected"))
    return rr_fail(err, errsize, RR_ECONFLICT,
                   "cannot %s a report in state %s: a final report changes by addendum or correction only", action,
                   h->state);
  return rr_fail(err, errsize, RR_ECONFLICT, "cannot %s a report in state %s", action, h->state);
}

int rr_report_next_version(int64_t *out_version, rr_report_expect *out_expect, const rr_report_head *h, char *err,
                           size_t errsize)
{
  if (rr_report_state_is(h->state, "cancelled", "entered-in-error", NULL))
    return rr_fail(err, errsize, RR_ECONFLICT, "a report in state %s is never signed again", h->state);
  if (out_version != NULL)
    *out_version = strcmp(h->status, "draft") == 0 ? h->latest : h->latest + 1;
  if (out_expect != NULL) {
    out_expect->version = h->latest;
    out_expect->revision = h->revision;
  }
  return 0;
}

int rr_report_plan_sign(int64_t *out_version, bool *out_copy, const rr_report_head *h, bool final,
                        const rr_report_signature *sig, char *err, size_t errsize)
{
  *out_version = h->latest;
  *out_copy = false;
  if (final && h->critical && sig->critical_json == NULL && !h->communicated)
    return rr_fail(err, errsize, RR_EINVAL,
                   "a report with a critical result is signed final with the communication recorded");
  if (strcmp(h->status, "draft") != 0) { /* the latest is preliminary */
    if (!final)
      return rr_fail(err, errsize, RR_ECONFLICT, "version %lld is already signed as preliminary",
                     (long long)h->latest);
    *out_version = h->latest + 1;
    *out_copy = true;
  }
  return 0;
}

int rr_report_plan_add(int64_t *out_version, const rr_report_head *h, const char *kind, int64_t expected_prevailing,
                       char *err, size_t errsize)
{
  *out_version = 0;
  if (!rr_report_state_is(h->state, "final", "appended", "corrected"))
    return rr_fail(err, errsize, RR_ECONFLICT, "an %s needs a final report, not one in state %s", kind, h->state);
  if (expected_prevailing != h->prevailing)
    return rr_fail(err, errsize, RR_ESTALE, "the prevailing version is now %lld, not %lld", (long long)h->prevailing,
                   (long long)expected_prevailing);
  *out_version = h->latest + 1;
  return 0;
}

int rr_report_check_close_state(const rr_report_head *h, bool cancel, char *err, size_t errsize)
{
  if (strcmp(h->state, "entered-in-error") == 0 ||
      (cancel && !rr_report_state_is(h->state, "draft", "preliminary", NULL)))
    return rr_fail(err, errsize, RR_ECONFLICT, "a report in state %s cannot be %s", h->state,
                   cancel ? "cancelled (only before a final version)" : "entered in error again");
  return 0;
}

int rr_report_check_ack(const rr_report_head *h, char *err, size_t errsize)
{
  if (strcmp(h->state, "entered-in-error") == 0)
    return rr_fail(err, errsize, RR_ECONFLICT, "a report entered in error is not acknowledged");
  if (!h->critical)
    return rr_fail(err, errsize, RR_ECONFLICT, "the report has no critical result to acknowledge");
  return 0;
}

int rr_report_pdf_result(int error, rr_report_version *out, int64_t id, int64_t version, char *err, size_t errsize)
{
  if (error == 0 && out->pdf == NULL)
    error = RR_ENOTFOUND;
  if (error == RR_ENOTFOUND)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "report %lld has no signed version %lld", (long long)id,
                    (long long)version);
  if (error < 0)
    rr_report_version_dispose(out);
  return error;
}

void rr_report_first_modality(char *out, size_t size, const char *mods)
{
  static const char *const derived[] = {"SR", "KO", "PR", "DOC", "SEG", "RTSTRUCT", "OT"};
  const char *p = mods, *end;
  size_t i, n;

  out[0] = '\0';
  while (*p != '\0') {
    for (end = p; *end != '\0' && *end != '\\'; end++)
      ;
    n = (size_t)(end - p);
    for (i = 0; i < sizeof(derived) / sizeof(derived[0]); i++)
      if (strlen(derived[i]) == n && memcmp(derived[i], p, n) == 0)
        break;
    if (n > 0 && i == sizeof(derived) / sizeof(derived[0])) {
      rr_str_copyn(out, size, p, n);
      return;
    }
    p = *end ? end + 1 : end;
  }
}

/* ------------------------------------------------------------ person names */

/* The folded components (family, given, middle, prefix, suffix) of one
 * component group of a PN, each NUL-terminated in `store` at offset at[k]. */
static int pn_components(rr_buf *store, size_t at[RR_PN_COMPONENTS], const char *group, size_t len)
{
  size_t start = 0, k, end;
  int error;

  rr_buf_clear(store);
  for (k = 0; k < RR_PN_COMPONENTS; k++) {
    for (end = start; end < len && group[end] != '^'; end++)
      ;
    at[k] = store->len;
    if (start < len && (error = rr_text_fold(store, group + start, end - start, false)) < 0)
      return error;
    if ((error = rr_buf_putc(store, '\0')) < 0)
      return error;
    start = end < len ? end + 1 : len;
  }
  return 0;
}

/* Does one value of a PN (groups separated by '=') have a group whose
 * components equal the query's non-empty ones? */
static bool pn_value_matches(const char *value, size_t len, const char *query_store,
                             const size_t qat[RR_PN_COMPONENTS], rr_buf *scratch)
{
  size_t start = 0, end, k, at[RR_PN_COMPONENTS];
  bool ok;

  while (start <= len) {
    for (end = start; end < len && value[end] != '='; end++)
      ;
    if (pn_components(scratch, at, value + start, end - start) < 0)
      return false;
    ok = true;
    for (k = 0; k < RR_PN_COMPONENTS && ok; k++)
      if (query_store[qat[k]] != '\0' && strcmp(query_store + qat[k], scratch->ptr + at[k]) != 0)
        ok = false;
    if (ok)
      return true;
    start = end + 1;
  }
  return false;
}

int rr_pn_query_init(rr_pn_query *pq, const char *query)
{
  size_t qlen, k;
  int error;

  rr_buf_init(&pq->q, 4096);
  rr_buf_init(&pq->scratch, 4096);
  pq->any = false;
  for (qlen = 0; query[qlen] != '\0' && query[qlen] != '='; qlen++)
    ;
  if ((error = pn_components(&pq->q, pq->qat, query, qlen)) < 0)
    return error;
  for (k = 0; k < RR_PN_COMPONENTS; k++)
    pq->any = pq->any || pq->q.ptr[pq->qat[k]] != '\0';
  return 0;
}

void rr_pn_query_dispose(rr_pn_query *pq)
{
  rr_buf_dispose(&pq->q);
  rr_buf_dispose(&pq->scratch);
}

bool rr_pn_match(rr_pn_query *pq, const char *stored)
{
  size_t slen, start = 0, end;

  if (stored == NULL)
    return false;
  slen = strlen(stored);
  while (pq->any && start <= slen) {
    for (end = start; end < slen && stored[end] != '\\'; end++)
      ;
    if (pn_value_matches(stored + start, end - start, pq->q.ptr, pq->qat, &pq->scratch))
      return true;
    start = end + 1;
  }
  return false;
}
