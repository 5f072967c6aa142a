/*
 * report_access.h - what a referring physician may see of reports and
 * images: the study check of the role matrix (auth/matrix.h,
 * RR_RULE_STUDY_IMAGES) and the scope the reports routes apply.
 *
 * A physician sees a study (its images, its final reports) when it has a
 * report in state final, appended or corrected, and, with the scope
 * "referring" (option ReadingRoom.Reports.PhysicianScope), only when the
 * study's ReferringPhysicianName matches the physician's display name
 * (rr_report_access_pn_of, matched by the store). With the scope "all" (the default)
 * every such study.
 *
 * The matrix hands the hook a StudyInstanceUID or an Orthanc identifier of
 * a study, series or instance (from the request's path): identifiers the
 * store does not know as a study are resolved to their study through
 * Orthanc's REST API (`/instances/{id}/study`, `/series/{id}/study`) and
 * remembered (a bounded cache: an instance never changes study).
 *
 * Thread-safe (the hook runs in Orthanc's HTTP threads). The store and the
 * REST source are borrowed and must outlive the object.
 */
#ifndef RR_REPORT_REPORT_ACCESS_H
#define RR_REPORT_REPORT_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"
#include "util/orthanc_rest.h"

typedef struct rr_report_access rr_report_access;

typedef enum rr_physician_scope {
  RR_PHYSICIAN_SCOPE_ALL = 0, /* every study with a final report */
  RR_PHYSICIAN_SCOPE_REFERRING /* only the studies that name the physician as referring */
} rr_physician_scope;

/* "all" or "referring" (exact); RR_EINVAL otherwise. */
int rr_physician_scope_parse(rr_physician_scope *out, const char *name);

/* rest may have a NULL get_json (no resolution of series/instance ids). */
int rr_report_access_new(rr_report_access **out, rr_store *store, rr_rest_source rest, rr_physician_scope scope);
void rr_report_access_free(rr_report_access *a);

rr_physician_scope rr_report_access_scope(const rr_report_access *a);

/* The matrix hook (rr_study_check_fn): ctx is an rr_report_access. */
int rr_report_access_study_check(void *ctx, const char *orthanc_or_uid, const char *caller_name);

/* Whether a physician with this display name may read the study's final
 * reports (StudyInstanceUID): *out. RR_ESTORE when the store failed. */
int rr_report_access_physician_may_read(bool *out, rr_report_access *a, const char *study_uid,
                                        const char *display_name, char *err, size_t errsize);

/* The PN the store's `referring` filter takes for a physician (the
 * "Family^Given" a display name "Given Family" or "Family, Given" stands
 * for) into out; "" when the name has no two words. Pure. */
void rr_report_access_pn_of(char *out, size_t size, const char *display_name);

#endif
