/*
 * select.h - which images of a study are sent to a model (and which frame
 * of each).
 *
 * Rules, per instance (rr_select_skip_reason):
 *   - only image storage SOP classes (under 1.2.840.10008.5.1.4.1.1.) are
 *     kept; a deny list drops the non-image ones: SR and KO (.88.*),
 *     encapsulated documents (.104.*), presentation states (.11.*),
 *     waveforms (.9.*), RT objects (.481.*), raw data (.66), registrations,
 *     fiducials, segmentations and tractography (.66.1-.66.6), real world
 *     value mapping (.67), surface scans (.68.*), parametric maps (.30,
 *     float pixels), MR spectroscopy (.4.2), stereometric relationship
 *     (.77.1.5.3), measurements/annotations (.78.*, .91.*, .90.*),
 *     basic structured display (.131), protocols (.200.*);
 *   - Secondary Capture (.7 and .7.*);
 *   - localizers/scouts: the caller's is_localizer flag, or an ImageType
 *     value LOCALIZER (also SCOUT, TOPOGRAM);
 *   - secondary images: ImageType value 2 SECONDARY (DERIVED\SECONDARY,
 *     screen captures, reformats); DERIVED\PRIMARY is kept (processed
 *     "for presentation" mammograms are DERIVED\PRIMARY);
 *   - dose screens: an ImageType value containing DOSE or SCREEN SAVE, or a
 *     series description containing "dose report", "dose info",
 *     "dose summary", "patient protocol" or "screen save"
 *     (case-insensitive; "LOW DOSE CHEST" is kept);
 *   - BurnedInAnnotation YES.
 *
 * Per series (in the caller's series order), kept instances are put in
 * display order (dicom/display_order.h). Radiographs (modality CR, DX, MG, IO, PX):
 * every instance is kept, frame 0 (a multi-frame one gets its frames spread
 * as below). Other series: the series' frames, instance after instance
 * (a single-frame instance is one frame), N evenly spaced frames are taken,
 * the first and the last included (N = 1: the middle one); all when there
 * are no more than N. So an enhanced CT (one instance, many frames) gets N
 * frames spread over its volume.
 *
 * Cap: when the total passes max_images, each series gets a quota in turns
 * (one image per series per turn, series order) and its candidates are
 * subsampled evenly to the quota (first and last kept where the quota is
 * >= 2); with fewer slots than series, the first series win.
 *
 * Ownership: inputs are borrowed; the rr_selection is allocated by
 * rr_select_images and freed with rr_selection_free (NULL accepted). Thread-safety: pure, reentrant.
 */
#ifndef RR_AI_SELECT_H
#define RR_AI_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/records.h"
#include "store/store.h"

#define RR_SELECT_DEFAULT_PER_SERIES 8u
#define RR_SELECT_DEFAULT_MAX_IMAGES 32u
#define RR_SELECT_LIMIT_PER_SERIES 1024u /* larger values are clamped */
#define RR_SELECT_LIMIT_MAX_IMAGES 4096u

/* What the store does not keep, per instance, filled by the caller (for
 * example from /instances/{id}/tags). */
typedef struct rr_select_extra {
  const char *image_type;   /* raw ImageType (0008,0008), "ORIGINAL\\PRIMARY\\AXIAL"; NULL = unknown */
  bool burned_in;           /* BurnedInAnnotation (0028,0301) is YES */
  bool is_localizer;        /* known to be a localizer by other means */
  int64_t number_of_frames; /* > 0 overrides the record's number_of_frames */
} rr_select_extra;

typedef struct rr_select_options {
  uint32_t per_series; /* N; 0 = RR_SELECT_DEFAULT_PER_SERIES, at most RR_SELECT_LIMIT_PER_SERIES */
  uint32_t max_images; /* total cap; 0 = RR_SELECT_DEFAULT_MAX_IMAGES, at most RR_SELECT_LIMIT_MAX_IMAGES */
} rr_select_options;

typedef enum rr_skip_reason {
  RR_SKIP_NONE = 0,
  RR_SKIP_NOT_IMAGE,
  RR_SKIP_SECONDARY_CAPTURE,
  RR_SKIP_LOCALIZER,
  RR_SKIP_SECONDARY,
  RR_SKIP_DOSE_SCREEN,
  RR_SKIP_BURNED_IN,
  RR_SKIP_REASON_COUNT
} rr_skip_reason;

typedef struct rr_select_item {
  char orthanc_id[RR_OID_SIZE];
  char sop_instance_uid[RR_UID_SIZE];
  char series_orthanc_id[RR_OID_SIZE];
  uint32_t frame; /* 0-based */
} rr_select_item;

typedef struct rr_selection {
  rr_select_item *items; /* in order: series order, then display order, then frame */
  size_t count;
  size_t skipped[RR_SKIP_REASON_COUNT]; /* instances dropped, by reason */
  size_t capped;                        /* candidate images dropped by max_images */
} rr_selection;

/* Why one instance would be dropped (RR_SKIP_NONE: kept). extra and
 * series_description may be NULL. */
rr_skip_reason rr_select_skip_reason(const rr_instance_rec *inst, const rr_select_extra *extra,
                                     const char *series_description);

/* A stable name for a reason, e.g. "localizer". Never NULL. */
const char *rr_skip_reason_name(rr_skip_reason reason);

/* Pick `count` of `total` indexes evenly spaced, first and last included
 * (count 1: the middle one); out receives min(count, total) ascending
 * indexes. Returns that number. */
size_t rr_select_spread(uint32_t *out, size_t count, size_t total);

/* Choose the images of a study. series: series_count entries. extras may
 * be NULL; otherwise extras[s] is NULL or holds series[s].instance_count
 * entries, parallel to series[s].instances (storage order). options may be
 * NULL (defaults). An empty selection is not an error. RR_EINVAL for a NULL
 * output or series with instances but a NULL array, RR_ENOMEM. */
int rr_select_images(rr_selection **out, const rr_series_detail *series, size_t series_count,
                     const rr_select_extra *const *extras, const rr_select_options *options, char *err,
                     size_t errsize);

void rr_selection_free(rr_selection *sel);

#endif
