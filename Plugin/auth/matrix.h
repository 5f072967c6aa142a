/*
 * matrix.h - the role matrix: which role may call which HTTP method on which
 * URI path, for Orthanc's own REST API, Orthanc Explorer, the DICOMweb
 * plugin and the plugin's own API and web app.
 *
 * Contract:
 * - Default deny. One static table of rules (matrix.c) lists every route
 *   that anyone may call; a request no rule matches is denied for every role
 *   but admin. An administrator is allowed a path that no rule matches with
 *   any method (Orthanc then answers, e.g. 404 for a route that does not
 *   exist); a path some rule matches, called with a method none of its rules
 *   list, is denied to every role, admin included. Rules are evaluated in table order and the FIRST rule
 *   whose methods and pattern match the request decides: it allows the
 *   request when it grants one of the caller's role bits, otherwise the
 *   request is denied. HEAD is treated as GET; other methods than GET, HEAD,
 *   POST, PUT and DELETE are denied.
 * - Patterns are path templates: literal segments, "{id}" (or any "{name}":
 *   exactly one non-empty segment) and a final "*" (zero or more further
 *   segments: the pattern "/app/" "*" matches "/app", "/app/" and "/app/a/b"). Templates may
 *   start with "{api}" or "{web}", replaced by the configured roots.
 *   Matching is case-sensitive and works on whole segments.
 * - The path is the URI path only, as Orthanc hands it to the incoming-request
 *   filter. It is normalised without copying: empty segments are skipped
 *   ("//system" is "/system", a trailing '/' is ignored, like Orthanc's own
 *   router). The following are refused (denied for every role), because
 *   a router or a later decoding step could resolve them to another route
 *   than the one matched here: "." and ".." segments; '%' followed by an
 *   encoded '/', '\', '.' or NUL ("%2F", "%5C", "%2E", "%00", any case);
 *   a NUL byte inside the path (rr_matrix_check_len); '\', '?', '#' and
 *   control characters; a path not starting with '/'; more than
 *   RR_MATRIX_MAX_SEGMENTS segments. A query string must therefore be cut off
 *   by the caller, never passed in.
 * - Roles are bits; a caller may hold several. Unauthenticated callers are
 *   RR_ROLE_ANONYMOUS; 0 is denied everything.
 * - Rule flags ask the caller (the HTTP filter) for more work:
 *   RR_RULE_STUDY_IMAGES: when the request is allowed only through the
 *     physician role, the study concerned must have a final report
 *     (rr_matrix_check_study); other roles of the rule are not restricted,
 *     and the decision's flags then omit this bit.
 *   RR_RULE_AUDIT_STUDY: the request reads or changes the data of one
 *     patient/study/series/instance (or its AI results or reports): record
 *     it in the audit trail.
 *
 * Ownership and threads: rr_matrix_new builds the compiled patterns for the
 * given roots (the only allocation); rr_matrix_free releases it and accepts
 * NULL. rr_matrix_check / rr_matrix_check_len allocate nothing, only read
 * the matrix and are thread-safe. rr_matrix_set_study_check must be called
 * before the matrix is shared between threads. The static table
 * (rr_matrix_rule_count / rr_matrix_rule_at) is constant and thread-safe.
 * Decisions' reason strings are static sentences without patient data.
 */
#ifndef RR_AUTH_MATRIX_H
#define RR_AUTH_MATRIX_H

#include <stdbool.h>
#include <stddef.h>

/* Roles (bits). */
#define RR_ROLE_ADMIN 1u
#define RR_ROLE_RADIOLOGIST 2u
#define RR_ROLE_TECHNICIAN 4u
#define RR_ROLE_PHYSICIAN 8u
#define RR_ROLE_ANONYMOUS 16u /* no token: public routes only */
/* The roles a user account can have. */
#define RR_ROLE_USERS (RR_ROLE_ADMIN | RR_ROLE_RADIOLOGIST | RR_ROLE_TECHNICIAN | RR_ROLE_PHYSICIAN)
/* Everybody, authenticated or not. */
#define RR_ROLE_EVERYONE (RR_ROLE_USERS | RR_ROLE_ANONYMOUS)

/* Methods (bits); HEAD counts as GET. */
#define RR_METHOD_GET 1u
#define RR_METHOD_POST 2u
#define RR_METHOD_PUT 4u
#define RR_METHOD_DELETE 8u
#define RR_METHOD_ALL (RR_METHOD_GET | RR_METHOD_POST | RR_METHOD_PUT | RR_METHOD_DELETE)

/* Rule flags. */
#define RR_RULE_STUDY_IMAGES 1u
#define RR_RULE_AUDIT_STUDY 2u

/* Limits of a request path. */
#define RR_MATRIX_MAX_SEGMENTS 64
/* Longest root accepted by rr_matrix_new. */
#define RR_MATRIX_MAX_ROOT 128

typedef struct {
  unsigned methods;    /* RR_METHOD_* bits */
  const char *pattern; /* template, e.g. "/studies/{id}/archive", "{api}users/" "*" */
  unsigned roles;      /* RR_ROLE_* bits granted */
  unsigned flags;      /* RR_RULE_* bits */
} rr_matrix_rule;

#define RR_MATRIX_ADMIN_UNKNOWN_PATH (-2)

typedef struct {
  bool allow;
  int rule;           /* index of the rule that decided, -1 when none matched,
                       * RR_MATRIX_ADMIN_UNKNOWN_PATH for an administrator's
                       * request on a path no rule knows (allowed) */
  unsigned flags;     /* RR_RULE_* bits to honour when allowed (see above) */
  const char *reason; /* static sentence, never NULL */
} rr_matrix_decision;

typedef struct rr_matrix rr_matrix;

/* A user role by name: "admin", "radiologist", "technician", "physician"
 * (exact, lower case). "anonymous" is not a role a user can hold and is
 * refused like any other name (RR_EINVAL). */
int rr_role_parse(unsigned *out, const char *name);
/* The name of one role bit ("anonymous" included); "unknown" for 0, for
 * several bits and for unknown bits. Never NULL. */
const char *rr_role_name(unsigned role);

/* Compile the table for the given roots (default "/api/" and
 * "/reading-room/" when NULL). Roots start and end with '/', hold at least
 * one segment, at most RR_MATRIX_MAX_ROOT bytes, and no "." segment, '%',
 * '{', '}', '*', '\', '?' or '#'. Fails with RR_EINVAL (and a sentence in
 * err) for a bad root or a malformed rule, RR_ENOMEM. */
int rr_matrix_new(rr_matrix **out, const char *api_root, const char *web_root, char *err, size_t errsize);
void rr_matrix_free(rr_matrix *m);

/* Decide on one request. `method` is the HTTP method ("GET", "HEAD", "POST",
 * "PUT", "DELETE"; case-sensitive), `path` the URI path without query string,
 * `roles` the caller's RR_ROLE_* bits. Always fills *out (a malformed
 * request is a deny decision) and returns 0; RR_EINVAL only when out or m
 * is NULL. */
int rr_matrix_check(rr_matrix_decision *out, const rr_matrix *m, const char *method, const char *path, unsigned roles);
/* Same with an explicit path length: a NUL byte within the first `pathlen`
 * bytes denies the request. */
int rr_matrix_check_len(rr_matrix_decision *out, const rr_matrix *m, const char *method, const char *path, size_t pathlen,
                        unsigned roles);

/* The per-study hook of RR_RULE_STUDY_IMAGES: 1 when the study (an Orthanc
 * identifier of a study, series or instance, or a StudyInstanceUID) has a
 * final report the caller may read, 0 when not, a negative RR_E* code when it
 * could not tell (the request is then denied). `caller_name` is the
 * caller's display name ("" when unknown), for a scope of referring
 * physicians (report/report_access.h). Must be thread-safe. */
typedef int (*rr_study_check_fn)(void *ctx, const char *orthanc_or_uid, const char *caller_name);

/* The default hook, until reports exist: always 0 ("no"), so physicians see
 * no images. */
int rr_matrix_no_final_report(void *ctx, const char *orthanc_or_uid, const char *caller_name);
/* Replace the hook (NULL restores the default). Not thread-safe: call it
 * before the matrix is used by several threads. */
void rr_matrix_set_study_check(rr_matrix *m, rr_study_check_fn fn, void *ctx);
/* Second step for an allowed decision carrying RR_RULE_STUDY_IMAGES, once
 * the caller has resolved the study the request is about: asks the hook and
 * turns the decision into a denial unless it answers 1. Decisions without
 * the flag, and denials, are left as they are. Returns 0, or the hook's
 * error code (the decision is then a denial), RR_EINVAL for NULL d or m. */
int rr_matrix_check_study(rr_matrix_decision *d, const rr_matrix *m, const char *orthanc_or_uid);
/* The same for a caller with a display name (rr_matrix_check_study passes ""). */
int rr_matrix_check_study_as(rr_matrix_decision *d, const rr_matrix *m, const char *orthanc_or_uid,
                             const char *caller_name);

/* Capabilities: the parts of the web app a role may use, in this order:
 * "worklist", "study" (a study's images), "upload", "users", "audit",
 * "system", "ai", "explorer" (Orthanc Explorer), "annotate" (the viewer's
 * tools that write: measurements, key images), "templates" (the report
 * templates page), "report" (write and sign reports), "reports" (read
 * reports). Each is the decision of
 * the matrix on one representative route (matrix.c), so the app's role
 * rules come from this table. Fills out[] with static names, in that order,
 * and returns their count (0 for a NULL matrix). Thread-safe. */
#define RR_CAPABILITY_COUNT 12
size_t rr_matrix_capabilities(const char *out[RR_CAPABILITY_COUNT], const rr_matrix *m, unsigned roles);
/* The i-th capability's name; NULL when i is out of range. */
const char *rr_capability_name(size_t i);

/* The static table, for documentation (patterns unexpanded). */
size_t rr_matrix_rule_count(void);
/* NULL when i is out of range. */
const rr_matrix_rule *rr_matrix_rule_at(size_t i);

#endif
