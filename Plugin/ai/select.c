/*
 * select.c - see select.h.
 */
#include "ai/select.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dicom/display_order.h"
#include "dicom/value.h"
#include "util/errors.h"
#include "util/str.h"

#define STORAGE_ROOT "1.2.840.10008.5.1.4.1.1."

/* Non-image storage classes, relative to STORAGE_ROOT; each entry matches
 * itself and everything below it ("66" matches "66" and "66.4"). */
static const char *const NOT_IMAGE[] = {
  "88",       /* structured reports, key object selection, dose SR */
  "104",      /* encapsulated PDF, CDA, STL, OBJ, MTL */
  "11",       /* presentation states */
  "9",        /* waveforms */
  "481",      /* radiotherapy objects */
  "66",       /* raw data, registrations, fiducials, segmentations, tractography */
  "67",       /* real world value mapping */
  "68",       /* surface scans */
  "30",       /* parametric maps (float pixels) */
  "4.2",      /* MR spectroscopy */
  "77.1.5.3", /* stereometric relationship */
  "78",       /* lensometry, refraction, ophthalmic measurements */
  "79",       /* macular grid thickness report */
  "80",       /* ophthalmic visual field */
  "81",       /* ophthalmic axial measurements (… and later) */
  "82",       /* intraocular lens calculations */
  "90",       /* content assessment results */
  "91",       /* microscopy annotations */
  "131",      /* basic structured display */
  "200",      /* protocols */
};

static const char *const DOSE_DESCRIPTIONS[] = {"dose report", "dose info", "dose summary", "patient protocol",
                                                "screen save"};

static const char *const RADIOGRAPH_MODALITIES[] = {"CR", "DX", "MG", "IO", "PX"};

/* s contains needle, ASCII case-insensitively. */
static bool ci_contains(const char *s, const char *needle)
{
  size_t n = strlen(needle), i;

  if (s == NULL)
    return false;
  for (; *s; s++) {
    for (i = 0; i < n; i++)
      if (s[i] == '\0' || tolower((unsigned char)s[i]) != tolower((unsigned char)needle[i]))
        break;
    if (i == n)
      return true;
  }
  return false;
}

static bool uid_under(const char *rest, const char *prefix)
{
  size_t n = strlen(prefix);

  return strncmp(rest, prefix, n) == 0 && (rest[n] == '\0' || rest[n] == '.');
}

rr_skip_reason rr_select_skip_reason(const rr_instance_rec *inst, const rr_select_extra *extra,
                                     const char *series_description)
{
  const char *rest;
  const char *image_type = extra ? extra->image_type : NULL;
  char c[96];
  size_t i;

  if (inst == NULL || !rr_str_starts_with(inst->sop_class_uid, STORAGE_ROOT))
    return RR_SKIP_NOT_IMAGE;
  rest = inst->sop_class_uid + strlen(STORAGE_ROOT);
  for (i = 0; i < sizeof(NOT_IMAGE) / sizeof(NOT_IMAGE[0]); i++)
    if (uid_under(rest, NOT_IMAGE[i]))
      return RR_SKIP_NOT_IMAGE;
  if (uid_under(rest, "7"))
    return RR_SKIP_SECONDARY_CAPTURE;

  for (i = 0; rr_dicom_value_at(c, sizeof(c), image_type, i); i++)
    if (ci_contains(c, "DOSE") || ci_contains(c, "SCREEN SAVE"))
      return RR_SKIP_DOSE_SCREEN;
  for (i = 0; i < sizeof(DOSE_DESCRIPTIONS) / sizeof(DOSE_DESCRIPTIONS[0]); i++)
    if (ci_contains(series_description, DOSE_DESCRIPTIONS[i]))
      return RR_SKIP_DOSE_SCREEN;

  if (extra != NULL && extra->is_localizer)
    return RR_SKIP_LOCALIZER;
  for (i = 0; rr_dicom_value_at(c, sizeof(c), image_type, i); i++)
    if (rr_str_ieq(c, "LOCALIZER") || rr_str_ieq(c, "SCOUT") || rr_str_ieq(c, "TOPOGRAM"))
      return RR_SKIP_LOCALIZER;
  if (rr_dicom_value_at(c, sizeof(c), image_type, 1) && rr_str_ieq(c, "SECONDARY"))
    return RR_SKIP_SECONDARY;
  if (extra != NULL && extra->burned_in)
    return RR_SKIP_BURNED_IN;
  return RR_SKIP_NONE;
}

const char *rr_skip_reason_name(rr_skip_reason reason)
{
  switch (reason) {
  case RR_SKIP_NONE: return "none";
  case RR_SKIP_NOT_IMAGE: return "not_image";
  case RR_SKIP_SECONDARY_CAPTURE: return "secondary_capture";
  case RR_SKIP_LOCALIZER: return "localizer";
  case RR_SKIP_SECONDARY: return "secondary";
  case RR_SKIP_DOSE_SCREEN: return "dose_screen";
  case RR_SKIP_BURNED_IN: return "burned_in_annotation";
  default: return "unknown";
  }
}

size_t rr_select_spread(uint32_t *out, size_t count, size_t total)
{
  size_t k;
  uint64_t q, r, d;

  if (count == 0 || total == 0 || out == NULL)
    return 0;
  if (total > UINT32_MAX)
    total = UINT32_MAX;
  if (count >= total) {
    for (k = 0; k < total; k++)
      out[k] = (uint32_t)k;
    return total;
  }
  if (count == 1) {
    out[0] = (uint32_t)((total - 1) / 2);
    return 1;
  }
  /* round(k * (total - 1) / (count - 1)) without overflow */
  d = count - 1;
  q = (total - 1) / d;
  r = (total - 1) % d;
  for (k = 0; k < count; k++)
    out[k] = (uint32_t)(k * q + (k * r + d / 2) / d);
  return count;
}

static bool is_radiograph(const char *modality)
{
  char m[RR_CS_SIZE];
  size_t i;

  rr_str_copy_trim(m, sizeof(m), modality);
  for (i = 0; i < sizeof(RADIOGRAPH_MODALITIES) / sizeof(RADIOGRAPH_MODALITIES[0]); i++)
    if (rr_str_ieq(m, RADIOGRAPH_MODALITIES[i]))
      return true;
  return false;
}

static uint32_t frames_of(const rr_instance_rec *inst)
{
  if (inst->number_of_frames <= 1)
    return 1;
  return inst->number_of_frames > UINT32_MAX ? UINT32_MAX : (uint32_t)inst->number_of_frames;
}

static void set_item(rr_select_item *it, const rr_instance_rec *inst, uint32_t frame)
{
  rr_str_copy(it->orthanc_id, sizeof(it->orthanc_id), inst->orthanc_id);
  rr_str_copy(it->sop_instance_uid, sizeof(it->sop_instance_uid), inst->sop_instance_uid);
  rr_str_copy(it->series_orthanc_id, sizeof(it->series_orthanc_id), inst->series_orthanc_id);
  it->frame = frame;
}

/* Copy the instances of `sd` that are not skipped into `kept` (room for
 * all), their frame counts from `extras` where known; count the skipped
 * ones in sel->skipped. Returns how many were kept. */
static size_t kept_instances(rr_instance_rec *kept, rr_selection *sel, const rr_series_detail *sd,
                             const rr_select_extra *extras)
{
  size_t nkept = 0, i;

  for (i = 0; i < sd->instance_count; i++) {
    const rr_select_extra *ex = extras ? &extras[i] : NULL;
    rr_skip_reason why = rr_select_skip_reason(&sd->instances[i], ex, sd->series.series_description);
    if (why != RR_SKIP_NONE) {
      sel->skipped[why]++;
      continue;
    }
    kept[nkept] = sd->instances[i];
    if (ex != NULL && ex->number_of_frames > 0)
      kept[nkept].number_of_frames = ex->number_of_frames;
    nkept++;
  }
  return nkept;
}

/* Radiographs: every instance is its own image, so each gives one item, or
 * up to `per_series` spread frames when it has several. *items is
 * malloc'ed; `picks` has room for `per_series`. */
static int radiograph_items(rr_select_item **items, size_t *n, const rr_instance_rec *kept, size_t nkept,
                            uint32_t *picks, uint32_t per_series, char *err, size_t errsize)
{
  size_t cap = 0, i;

  for (i = 0; i < nkept; i++)
    cap += frames_of(&kept[i]) > 1 ? per_series : 1;
  *items = calloc(cap, sizeof(**items));
  if (*items == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  for (i = 0; i < nkept; i++) {
    size_t m = rr_select_spread(picks, per_series, frames_of(&kept[i])), j;
    for (j = 0; j < m; j++)
      set_item(&(*items)[(*n)++], &kept[i], picks[j]);
  }
  return 0;
}

/* Other series: up to `per_series` frames spread over all the frames of
 * the series in display order. *items is malloc'ed; `picks` has room for
 * `per_series`. */
static int volume_items(rr_select_item **items, size_t *n, const rr_instance_rec *kept, size_t nkept,
                        uint32_t *picks, uint32_t per_series, char *err, size_t errsize)
{
  size_t total_frames = 0, m, i, j, inst = 0, base = 0;

  for (i = 0; i < nkept; i++) {
    total_frames += frames_of(&kept[i]);
    if (total_frames > UINT32_MAX)
      total_frames = UINT32_MAX;
  }
  m = rr_select_spread(picks, per_series, total_frames);
  *items = calloc(m, sizeof(**items));
  if (*items == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  /* map each global frame index to (instance, frame); picks ascend */
  for (j = 0; j < m; j++) {
    while (inst < nkept && picks[j] >= base + frames_of(&kept[inst])) {
      base += frames_of(&kept[inst]);
      inst++;
    }
    if (inst >= nkept)
      break;
    set_item(&(*items)[(*n)++], &kept[inst], (uint32_t)(picks[j] - base));
  }
  return 0;
}

/* The candidates of one series: kept instances in display order, frames
 * chosen. *out is malloc'ed (NULL when empty). */
static int series_candidates(rr_select_item **out, size_t *out_count, rr_selection *sel,
                             const rr_series_detail *sd, const rr_select_extra *extras, uint32_t per_series,
                             char *err, size_t errsize)
{
  rr_instance_rec *kept = NULL;
  rr_select_item *items = NULL;
  uint32_t *picks = NULL;
  size_t nkept = 0, n = 0;
  int rc = 0;

  *out = NULL;
  *out_count = 0;
  if (sd->instance_count == 0)
    return 0;
  kept = calloc(sd->instance_count, sizeof(*kept));
  picks = calloc(per_series, sizeof(*picks));
  if (kept == NULL || picks == NULL) {
    rc = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto done;
  }
  nkept = kept_instances(kept, sel, sd, extras);
  if (nkept == 0)
    goto done;
  rc = rr_dicom_display_order(kept, nkept);
  if (rc != 0) {
    rc = rr_fail(err, errsize, rc, "out of memory sorting a series");
    goto done;
  }

  if (is_radiograph(sd->series.modality))
    rc = radiograph_items(&items, &n, kept, nkept, picks, per_series, err, errsize);
  else
    rc = volume_items(&items, &n, kept, nkept, picks, per_series, err, errsize);
  if (rc != 0)
    goto done;
  *out = items;
  *out_count = n;
  items = NULL;

done:
  free(items);
  free(picks);
  free(kept);
  return rc;
}

/* The per-series and total image limits: `options` (may be NULL; 0 means
 * the default) bounded by the hard limits. */
static void select_limits(uint32_t *per_series, uint32_t *max_images, const rr_select_options *options)
{
  *per_series = RR_SELECT_DEFAULT_PER_SERIES;
  *max_images = RR_SELECT_DEFAULT_MAX_IMAGES;
  if (options != NULL && options->per_series > 0)
    *per_series = options->per_series;
  if (options != NULL && options->max_images > 0)
    *max_images = options->max_images;
  if (*per_series > RR_SELECT_LIMIT_PER_SERIES)
    *per_series = RR_SELECT_LIMIT_PER_SERIES;
  if (*max_images > RR_SELECT_LIMIT_MAX_IMAGES)
    *max_images = RR_SELECT_LIMIT_MAX_IMAGES;
}

/* How many of its `cand_count[s]` candidates each series gets (quota, zeroed
 * by the caller): everything when the `total` fits `max_images`, else turns
 * of one image per series up to that cap. */
static void set_quotas(size_t *quota, const size_t *cand_count, size_t series_count, size_t total,
                       uint32_t max_images)
{
  size_t left = max_images, s;
  bool progress = true;

  if (total <= max_images) {
    for (s = 0; s < series_count; s++)
      quota[s] = cand_count[s];
    return;
  }
  while (left > 0 && progress) {
    progress = false;
    for (s = 0; s < series_count && left > 0; s++) {
      if (quota[s] < cand_count[s]) {
        quota[s]++;
        left--;
        progress = true;
      }
    }
  }
}

int rr_select_images(rr_selection **out, const rr_series_detail *series, size_t series_count,
                     const rr_select_extra *const *extras, const rr_select_options *options, char *err,
                     size_t errsize)
{
  rr_selection *sel = NULL;
  rr_select_item **cand = NULL;
  size_t *cand_count = NULL, *quota = NULL, total = 0, s, j, n = 0;
  uint32_t per_series, max_images;
  uint32_t *picks = NULL;
  int rc = 0;

  if (out == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no output");
  *out = NULL;
  if (series == NULL && series_count > 0)
    return rr_fail(err, errsize, RR_EINVAL, "no series array");
  for (s = 0; s < series_count; s++)
    if (series[s].instances == NULL && series[s].instance_count > 0)
      return rr_fail(err, errsize, RR_EINVAL, "series %zu has no instance array", s);
  select_limits(&per_series, &max_images, options);

  sel = calloc(1, sizeof(*sel));
  cand = calloc(series_count + 1, sizeof(*cand));
  cand_count = calloc(series_count + 1, sizeof(*cand_count));
  quota = calloc(series_count + 1, sizeof(*quota));
  if (sel == NULL || cand == NULL || cand_count == NULL || quota == NULL) {
    rc = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto done;
  }
  for (s = 0; s < series_count; s++) {
    rc = series_candidates(&cand[s], &cand_count[s], sel, &series[s], extras ? extras[s] : NULL, per_series, err,
                           errsize);
    if (rc != 0)
      goto done;
    total += cand_count[s];
  }

  set_quotas(quota, cand_count, series_count, total, max_images);
  if (total > max_images)
    sel->capped = total - max_images;

  sel->items = calloc(total < max_images ? total + 1 : (size_t)max_images + 1, sizeof(*sel->items));
  picks = calloc((size_t)max_images + 1, sizeof(*picks));
  if (sel->items == NULL || picks == NULL) {
    rc = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto done;
  }
  for (s = 0; s < series_count; s++) {
    size_t m = rr_select_spread(picks, quota[s], cand_count[s]);
    for (j = 0; j < m; j++)
      sel->items[n++] = cand[s][picks[j]];
  }
  sel->count = n;
  *out = sel;
  sel = NULL;

done:
  if (cand != NULL)
    for (s = 0; s < series_count; s++)
      free(cand[s]);
  free(cand);
  free(cand_count);
  free(quota);
  free(picks);
  rr_selection_free(sel);
  return rc;
}

void rr_selection_free(rr_selection *sel)
{
  if (sel == NULL)
    return;
  free(sel->items);
  free(sel);
}
