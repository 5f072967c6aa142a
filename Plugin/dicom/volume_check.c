/*
 * volume_check.c - see volume_check.h.
 */
#include "dicom/volume_check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom/geometry.h"
#include "util/errors.h"

#define PI 3.14159265358979323846
#define DEG(rad) ((rad) * 180.0 / PI)

static double dot(const double a[3], const double b[3])
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void reason(rr_vol_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reason(rr_vol_result *r, const char *fmt, ...)
{
  va_list ap;

  if (r->reason_count >= RR_VOL_MAX_REASONS)
    return;
  va_start(ap, fmt);
  vsnprintf(r->reasons[r->reason_count++], RR_VOL_REASON_SIZE, fmt, ap);
  va_end(ap);
}

static const char *plural(size_t n, const char *one, const char *many)
{
  return n == 1 ? one : many;
}

void rr_vol_direction_label(char out[4], const double v[3])
{
  static const char pos[3] = {'L', 'P', 'H'}, neg[3] = {'R', 'A', 'F'};
  int used[3] = {0, 0, 0};
  size_t n = 0, k, i;

  for (k = 0; k < 3; k++) {
    int best = -1;
    for (i = 0; i < 3; i++)
      if (!used[i] && fabs(v[i]) > RR_VOL_LABEL_MIN && (best < 0 || fabs(v[i]) > fabs(v[best])))
        best = (int)i;
    if (best < 0)
      break;
    used[best] = 1;
    out[n++] = v[best] > 0 ? pos[best] : neg[best];
  }
  out[n] = '\0';
}

/* ------------------------------------------------- per-slice consistency */

/* Rows/columns, frames of reference, positions and orientations, pixel
 * spacing, localizers. True when the slices share one geometry (then the
 * volume's axes and pixel spacing are set from the first slice). */
static bool check_slices(rr_vol_result *r, const rr_vol_slice *s, size_t count)
{
  const char *fors[8];
  size_t nfor = 0, no_geometry = 0, no_spacing = 0, i, j, k;
  bool size_differs = false, orient_differs = false, spacing_differs = false, localizer = false;
  const rr_vol_slice *first = NULL;
  uint32_t other_rows = 0, other_columns = 0;

  for (i = 0; i < count; i++) {
    if (s[i].rows != s[0].rows || s[i].columns != s[0].columns) {
      if (!size_differs) {
        other_rows = s[i].rows;
        other_columns = s[i].columns;
      }
      size_differs = true;
    }
    for (j = 0; j < nfor && strcmp(fors[j], s[i].frame_of_reference) != 0; j++)
      ;
    if (j == nfor && nfor < sizeof(fors) / sizeof(fors[0]))
      fors[nfor++] = s[i].frame_of_reference;
    localizer = localizer || s[i].localizer;
    if (!s[i].has_position || !s[i].has_orientation) {
      no_geometry++;
      continue;
    }
    if (first == NULL)
      first = &s[i];
    for (k = 0; k < 6; k++)
      if (fabs(s[i].orientation[k] - first->orientation[k]) > RR_VOL_ORIENTATION_TOL)
        orient_differs = true;
    if (!s[i].has_spacing)
      no_spacing++;
    else if (first->has_spacing && (fabs(s[i].spacing[0] - first->spacing[0]) > RR_VOL_PIXEL_SPACING_TOL_MM ||
                                     fabs(s[i].spacing[1] - first->spacing[1]) > RR_VOL_PIXEL_SPACING_TOL_MM))
      spacing_differs = true;
  }
  if (size_differs)
    reason(r, "rows/columns differ (%ux%u and %ux%u)", s[0].rows, s[0].columns, other_rows, other_columns);
  if (nfor > 1)
    reason(r, "%zu frames of reference", nfor);
  if (no_geometry > 0)
    reason(r, "%zu %s without a position or orientation", no_geometry, plural(no_geometry, "slice", "slices"));
  if (orient_differs)
    reason(r, "orientations differ");
  if (localizer)
    reason(r, "a localizer among the slices");
  if (first != NULL && no_spacing == count - no_geometry)
    reason(r, "no pixel spacing");
  else if (no_spacing > 0)
    reason(r, "%zu %s without pixel spacing", no_spacing, plural(no_spacing, "slice", "slices"));
  if (spacing_differs)
    reason(r, "pixel spacing differs");
  if (first == NULL || no_geometry > 0 || orient_differs || no_spacing > 0 || spacing_differs || size_differs ||
      rr_dicom_normal_of(r->normal, first->orientation) < 0)
    return false;
  for (k = 0; k < 3; k++) {
    r->row[k] = first->orientation[k];
    r->column[k] = first->orientation[3 + k];
  }
  r->spacing[0] = first->spacing[1]; /* between columns */
  r->spacing[1] = first->spacing[0]; /* between rows */
  r->dimensions[0] = first->columns;
  r->dimensions[1] = first->rows;
  return true;
}

/* ------------------------------------------------------------- ordering */

typedef struct order_key {
  double along;
  size_t index;
} order_key;

static int compare_keys(const void *pa, const void *pb)
{
  const order_key *a = pa, *b = pb;

  if (a->along != b->along)
    return a->along < b->along ? -1 : 1;
  return a->index < b->index ? -1 : (a->index > b->index);
}

/* Along the normal when there is one, else the input order. */
static int order_slices(rr_vol_result *r, const rr_vol_slice *s, size_t count, bool geometry)
{
  order_key *keys;
  size_t i;

  if ((keys = calloc(count, sizeof(*keys))) == NULL)
    return RR_ENOMEM;
  for (i = 0; i < count; i++) {
    keys[i].index = i;
    keys[i].along = geometry ? dot(s[i].position, r->normal) : 0;
  }
  if (geometry)
    qsort(keys, count, sizeof(*keys), compare_keys);
  for (i = 0; i < count; i++)
    r->order[i] = keys[i].index;
  r->order_count = count;
  free(keys);
  return 0;
}

static int compare_doubles(const void *pa, const void *pb)
{
  double a = *(const double *)pa, b = *(const double *)pb;

  return a < b ? -1 : a > b;
}

/* Gaps along the normal between neighbours: duplicates, missing slices,
 * irregular spacing; sets spacing z (the median gap, or the mean when
 * uniform). */
static int check_gaps(rr_vol_result *r, const rr_vol_slice *s, size_t count)
{
  double *gaps, *sorted, median, tol, lo, hi;
  size_t n = count - 1, i, dup = 0, missing = 0, regular = 0;
  bool multiples = true;

  gaps = calloc(n * 2, sizeof(*gaps));
  if (gaps == NULL)
    return RR_ENOMEM;
  sorted = gaps + n;
  for (i = 0; i < n; i++) {
    gaps[i] = dot(s[r->order[i + 1]].position, r->normal) - dot(s[r->order[i]].position, r->normal);
    if (gaps[i] < RR_VOL_SAME_POSITION_MM)
      dup++;
  }
  memcpy(sorted, gaps, n * sizeof(*gaps));
  qsort(sorted, n, sizeof(*sorted), compare_doubles);
  median = sorted[n / 2];
  lo = sorted[0];
  hi = sorted[n - 1];
  r->spacing[2] = median;
  if (dup > 0) {
    if (dup == 1)
      reason(r, "two slices at the same position");
    else
      reason(r, "%zu slices at the same position as another", dup);
    free(gaps);
    return 0;
  }
  tol = fmax(RR_VOL_GAP_ABS_TOL_MM, RR_VOL_GAP_REL_TOL * median);
  if (hi - lo <= tol) {
    r->spacing[2] = (dot(s[r->order[n]].position, r->normal) - dot(s[r->order[0]].position, r->normal)) / (double)n;
    free(gaps);
    return 0;
  }
  for (i = 0; i < n && multiples; i++) {
    double k = round(gaps[i] / median);
    if (k < 1 || fabs(gaps[i] - k * median) > tol * k)
      multiples = false;
    else if (k > 1)
      missing += (size_t)k - 1;
    else
      regular++;
  }
  /* more slices "missing" than gaps present: a change of spacing */
  if (multiples && missing > 0 && missing <= regular)
    reason(r, "%zu %s missing", missing, plural(missing, "slice", "slices"));
  else if (hi - lo >= 0.1)
    reason(r, "slice spacing varies between %.1f and %.1f mm", lo, hi);
  else
    reason(r, "slice spacing varies between %.2f and %.2f mm", lo, hi);
  free(gaps);
  return 0;
}

/* ------------------------------------------------------------------ tilt */

static void check_tilt(rr_vol_result *r, const rr_vol_slice *s, size_t count)
{
  rr_vol_tilt *t = &r->tilt;
  const double *p0 = s[r->order[0]].position;
  double d[3], along, tan_r, tan_c, tol;
  size_t i, k;

  for (k = 0; k < 3; k++)
    d[k] = s[r->order[count - 1]].position[k] - p0[k];
  along = dot(d, r->normal);
  if (!(along > RR_VOL_SAME_POSITION_MM))
    return;
  tan_r = dot(d, r->row) / along;
  tan_c = dot(d, r->column) / along;
  t->from_positions = DEG(atan(hypot(tan_r, tan_c)));
  t->tilted = hypot(tan_r, tan_c) > RR_VOL_TILT_TAN;
  tol = fmax(RR_VOL_SHEAR_TOL_MM, RR_VOL_SHEAR_TOL_PIXELS * fmin(r->spacing[0], r->spacing[1]));
  t->uniform = true;
  for (i = 1; i + 1 < count && t->uniform; i++) {
    double e[3], z;
    for (k = 0; k < 3; k++)
      e[k] = s[r->order[i]].position[k] - p0[k];
    z = dot(e, r->normal);
    if (hypot(dot(e, r->row) - tan_r * z, dot(e, r->column) - tan_c * z) > tol)
      t->uniform = false;
  }
  if (!t->uniform) {
    reason(r, "slice positions are offset from the slice normal by varying amounts (non-uniform gantry tilt)");
    return;
  }
  if (!t->tilted)
    return;
  if (t->from_positions > RR_VOL_MAX_TILT_DEGREES) {
    reason(r, "gantry tilt of %.1f degrees (at most %.0f can be corrected)", t->from_positions, RR_VOL_MAX_TILT_DEGREES);
    return;
  }
  t->correctable = true;
  t->step_row_mm = tan_r * r->spacing[2];
  t->step_column_mm = tan_c * r->spacing[2];
  t->shift_columns = t->step_row_mm / r->spacing[0];
  t->shift_rows = t->step_column_mm / r->spacing[1];
  t->offset_columns = t->shift_columns < 0 ? -t->shift_columns * (double)(count - 1) : 0;
  t->offset_rows = t->shift_rows < 0 ? -t->shift_rows * (double)(count - 1) : 0;
}

/* The corrected volume: widened to hold every moved slice, its origin moved
 * by the offsets. */
static void apply_tilt(rr_vol_result *r, size_t count)
{
  const rr_vol_tilt *t = &r->tilt;
  size_t k;

  if (!t->correctable)
    return;
  r->dimensions[0] += (uint32_t)ceil(fabs(t->shift_columns) * (double)(count - 1) - 1e-6);
  r->dimensions[1] += (uint32_t)ceil(fabs(t->shift_rows) * (double)(count - 1) - 1e-6);
  for (k = 0; k < 3; k++)
    r->origin[k] -= t->offset_columns * r->spacing[0] * r->row[k] + t->offset_rows * r->spacing[1] * r->column[k];
}

/* ---------------------------------------------------------------- planes */

static const struct {
  const char *name;
  double normal[3], right[3], down[3];
} planes[3] = {
  {"axial", {0, 0, 1}, {1, 0, 0}, {0, 1, 0}},
  {"sagittal", {1, 0, 0}, {0, 1, 0}, {0, 0, -1}},
  {"coronal", {0, 1, 0}, {1, 0, 0}, {0, 0, -1}},
};

static void set_planes(rr_vol_result *r)
{
  static const char *const axis_names[3] = {"row", "column", "normal"};
  const double *axes[3] = {r->row, r->column, r->normal};
  size_t p, a, k, best, right, down, m = 0;

  for (k = 1; k < 3; k++)
    if (fabs(r->normal[k]) > fabs(r->normal[m]))
      m = k;
  r->nearest_plane = m == 0 ? "sagittal" : m == 1 ? "coronal" : "axial";
  r->oblique_degrees = DEG(acos(fmin(1.0, fabs(r->normal[m]))));
  r->plane = r->oblique_degrees <= RR_VOL_PLANE_DEGREES ? r->nearest_plane : "oblique";
  for (p = 0; p < 3; p++) {
    rr_vol_view *v = &r->views[p];
    double sr, sd;
    best = 0;
    for (a = 1; a < 3; a++)
      if (fabs(dot(axes[a], planes[p].normal)) > fabs(dot(axes[best], planes[p].normal)))
        best = a;
    right = best == 0 ? 1 : 0;
    down = 3 - best - right;
    if (fabs(dot(axes[down], planes[p].right)) > fabs(dot(axes[right], planes[p].right))) {
      size_t x = right;
      right = down;
      down = x;
    }
    sr = dot(axes[right], planes[p].right) < 0 ? -1 : 1;
    sd = dot(axes[down], planes[p].down) < 0 ? -1 : 1;
    for (k = 0; k < 3; k++) {
      v->right[k] = sr * axes[right][k];
      v->down[k] = sd * axes[down][k];
    }
    v->name = planes[p].name;
    v->axis = axis_names[best];
    v->oblique_degrees = DEG(acos(fmin(1.0, fabs(dot(axes[best], planes[p].normal)))));
    rr_vol_direction_label(v->label_right, v->right);
    rr_vol_direction_label(v->label_bottom, v->down);
    {
      double l[3] = {-v->right[0], -v->right[1], -v->right[2]}, u[3] = {-v->down[0], -v->down[1], -v->down[2]};
      rr_vol_direction_label(v->label_left, l);
      rr_vol_direction_label(v->label_top, u);
    }
  }
}

/* -------------------------------------------------------------- the check */

static void tilt_tag(rr_vol_result *r, const rr_vol_slice *s, size_t count)
{
  size_t i;

  for (i = 0; i < count; i++)
    if (s[i].has_tilt) {
      r->tilt.has_tag = true;
      r->tilt.from_tag = s[i].tilt;
      return;
    }
}

int rr_vol_check(rr_vol_result **out, const rr_vol_slice *s, size_t count)
{
  rr_vol_result *r;
  bool geometry;
  int error = 0;
  size_t k;

  *out = NULL;
  if (s == NULL || count == 0)
    return RR_EINVAL;
  if ((r = calloc(1, sizeof(*r))) == NULL || (r->order = calloc(count, sizeof(*r->order))) == NULL) {
    free(r);
    return RR_ENOMEM;
  }
  if (count < 3)
    reason(r, "fewer than 3 slices (%zu)", count);
  geometry = check_slices(r, s, count);
  tilt_tag(r, s, count);
  if ((error = order_slices(r, s, count, geometry)) < 0)
    goto out;
  if (geometry && count >= 2) {
    r->has_geometry = true;
    for (k = 0; k < 3; k++)
      r->origin[k] = s[r->order[0]].position[k];
    r->dimensions[2] = (uint32_t)count;
    if ((error = check_gaps(r, s, count)) < 0)
      goto out;
    check_tilt(r, s, count);
    apply_tilt(r, count);
    set_planes(r);
    r->bytes_int16 = (uint64_t)r->dimensions[0] * r->dimensions[1] * r->dimensions[2] * 2u;
    r->bytes_float32 = r->bytes_int16 * 2u;
  }
  r->reconstructable = r->reason_count == 0;
out:
  if (error < 0) {
    rr_vol_result_free(r);
    return error;
  }
  *out = r;
  return 0;
}

void rr_vol_result_free(rr_vol_result *r)
{
  if (r == NULL)
    return;
  free(r->order);
  free(r);
}
