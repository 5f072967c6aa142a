/*
 * geometry.c - see geometry.h.
 */
#include "dicom/geometry.h"

#include <math.h>

#include "util/errors.h"
#include "util/str.h"

int rr_dicom_slice_normal(double n[3], const char *orientation)
{
  double o[6];

  if (rr_parse_ds_array(o, 6, orientation) < 0)
    return RR_EINVAL;
  return rr_dicom_normal_of(n, o);
}

int rr_dicom_normal_of(double n[3], const double o[6])
{
  double len;

  if (!(isfinite(o[0]) && isfinite(o[1]) && isfinite(o[2]) && isfinite(o[3]) && isfinite(o[4]) && isfinite(o[5])))
    return RR_EINVAL;
  n[0] = o[1] * o[5] - o[2] * o[4];
  n[1] = o[2] * o[3] - o[0] * o[5];
  n[2] = o[0] * o[4] - o[1] * o[3];
  len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  if (!(len > 1e-6))
    return RR_EINVAL;
  n[0] /= len;
  n[1] /= len;
  n[2] /= len;
  return 0;
}

int rr_dicom_position_along(double *out, const double normal[3], const char *position)
{
  double pos[3];

  if (rr_parse_ds_array(pos, 3, position) < 0)
    return RR_EINVAL;
  *out = pos[0] * normal[0] + pos[1] * normal[1] + pos[2] * normal[2];
  return 0;
}
