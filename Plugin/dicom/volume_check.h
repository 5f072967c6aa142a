/*
 * volume_check.h - can the slices of one series be stacked into a volume
 * (MPR, 3D), and how: the checks of issue 11 ("Which series can be
 * reconstructed, and how"), without Orthanc (pure: unit-testable).
 *
 * Input: the series' slices (one per single-frame instance, one per frame of
 * a multi-frame instance; dicom/volume_tags.h reads them from Orthanc's
 * tags), in any order. The check orders them itself along the slice normal
 * (position projected on row x column, as dicom/display_order.h does for
 * instances; frames of one instance included), ties in input order (the
 * API passes instances in display order), and answers:
 *
 * - reconstructable, or not with the reasons, each a short sentence:
 *   "fewer than 3 slices (2)", "rows/columns differ (512x512 and 256x256)",
 *   "2 frames of reference", "4 slices without a position or orientation",
 *   "orientations differ", "pixel spacing differs", "no pixel spacing",
 *   "a localizer among the slices", "two slices at the same position"
 *   ("N slices at the same position as another"), "3 slices missing",
 *   "slice spacing varies between 1.0 and 5.0 mm", "slice positions are
 *   offset from the slice normal by varying amounts (non-uniform gantry
 *   tilt)", "gantry tilt of 50.0 degrees (at most 45 can be corrected)".
 * - the volume's geometry (LPS, mm): origin = the first slice's
 *   ImagePositionPatient (shifted when a tilt is corrected, below), row
 *   cosines (direction of increasing column index), column cosines, normal
 *   (row x column), spacing x (between columns), y (between rows), z
 *   (between slices along the normal), dimensions (columns, rows, slices),
 *   and its size at 16 and at 32 bits a voxel.
 * - the acquisition plane: "axial", "sagittal" or "coronal" when the normal
 *   is within RR_VOL_PLANE_DEGREES of a patient axis, else "oblique" with the
 *   nearest plane and the angle to it.
 * - the three reformatted planes (axial, sagittal, coronal) as the viewer
 *   shows them along the volume's own axes: which volume axis is the plane's
 *   normal, the patient directions of the screen's right and down, and the
 *   orientation labels of the four edges (up to three letters of L/R, A/P,
 *   H/F... as DICOM viewers write them: "L", "LA"; components under
 *   RR_VOL_LABEL_MIN left out, largest first). Screen conventions:
 *   axial right = patient left, down = posterior; sagittal right =
 *   posterior, down = feet; coronal right = patient left, down = feet.
 * - gantry tilt, from both kinds of evidence: the GantryDetectorTilt tag
 *   (degrees, first slice that has it) and the slice positions (the angle
 *   between the line through the first and last slice origins and the
 *   normal: atan(in-plane offset / distance along the normal)). Tilted by
 *   positions (above RR_VOL_TILT_TAN) and uniform (every slice's in-plane
 *   offset within RR_VOL_SHEAR_TOL_MM or RR_VOL_SHEAR_TOL_PIXELS of the line)
 *   and at most RR_VOL_MAX_TILT_DEGREES: correctable by resampling into an
 *   orthogonal volume, as 3D Slicer does: slice k (0-based, in the returned
 *   order) is moved within its own plane so that its pixel (column i, row j)
 *   lands at volume index (i + k * shift_columns + offset_columns,
 *   j + k * shift_rows + offset_rows, k) (fractional: interpolate); the
 *   offsets make every index >= 0 and the geometry's dimensions are widened
 *   to hold every moved slice. Uniform but steeper, or not uniform:
 *   refused with the reason. A tag that says "tilted" while the positions
 *   lie on the normal needs no correction: the orientation already carries
 *   the tilt (the slices are oblique, not sheared).
 *
 * Tolerances (the constants below): orientation cosines equal within 1e-3;
 * pixel spacing equal within 1e-3 mm; slice gaps uniform when the largest
 * and smallest differ by at most 1 % of the median gap or 0.01 mm,
 * whichever is larger; two slices closer than 0.01 mm along the normal are
 * at the same position; a gap that is a whole multiple (2, 3, ...) of the
 * median gap, within the same tolerance, is counted as missing slices
 * (when fewer slices are missing than there are regular gaps; more is a
 * change of spacing, reported as varying spacing).
 *
 * Ownership: rr_vol_check allocates *out (rr_vol_result_free, accepts
 * NULL); the slices are borrowed. Pure and thread-safe. Errors: RR_ENOMEM
 * (*out NULL), RR_EINVAL for count 0 or NULL slices.
 */
#ifndef RR_DICOM_VOLUME_CHECK_H
#define RR_DICOM_VOLUME_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/records.h"

#define RR_VOL_ORIENTATION_TOL 1e-3
#define RR_VOL_PIXEL_SPACING_TOL_MM 1e-3
#define RR_VOL_GAP_REL_TOL 0.01
#define RR_VOL_GAP_ABS_TOL_MM 0.01
#define RR_VOL_SAME_POSITION_MM 0.01
#define RR_VOL_TILT_TAN 1e-3 /* about 0.06 degrees */
#define RR_VOL_SHEAR_TOL_MM 0.01
#define RR_VOL_SHEAR_TOL_PIXELS 0.1
#define RR_VOL_MAX_TILT_DEGREES 45.0
#define RR_VOL_PLANE_DEGREES 0.5
#define RR_VOL_LABEL_MIN 1e-3

#define RR_VOL_MAX_REASONS 12
#define RR_VOL_REASON_SIZE 128

/* One slice (a single-frame instance, or one frame of a multi-frame one). */
typedef struct rr_vol_slice {
  char instance_id[RR_OID_SIZE]; /* Orthanc identifier */
  uint32_t frame;                /* 0-based; 0 for a single-frame instance */
  bool has_position, has_orientation, has_spacing, has_tilt, has_thickness;
  double position[3];            /* ImagePositionPatient */
  double orientation[6];         /* ImageOrientationPatient */
  double spacing[2];             /* PixelSpacing: between rows, between columns */
  double tilt;                   /* GantryDetectorTilt, degrees */
  double thickness;              /* SliceThickness */
  uint32_t rows, columns;
  char frame_of_reference[RR_UID_SIZE]; /* "" when absent */
  bool localizer;                       /* ImageType/FrameType says LOCALIZER */
} rr_vol_slice;

/* One reformatted plane along the volume's axes. */
typedef struct rr_vol_view {
  const char *name;     /* "axial", "sagittal", "coronal" */
  const char *axis;     /* the volume axis that is its normal: "row", "column" or "normal" (cosines) */
  double right[3], down[3];
  char label_right[4], label_left[4], label_top[4], label_bottom[4];
  double oblique_degrees; /* between its normal and the patient axis */
} rr_vol_view;

typedef struct rr_vol_tilt {
  bool has_tag;
  double from_tag;       /* degrees, GantryDetectorTilt */
  double from_positions; /* degrees, >= 0 */
  bool tilted;           /* by positions */
  bool uniform;
  bool correctable;      /* tilted, uniform, at most RR_VOL_MAX_TILT_DEGREES */
  double step_row_mm, step_column_mm; /* in-plane offset per slice along row/column cosines */
  double shift_columns, shift_rows;   /* the same in pixels */
  double offset_columns, offset_rows; /* see the header comment */
} rr_vol_tilt;

typedef struct rr_vol_result {
  bool reconstructable;
  size_t reason_count;
  char reasons[RR_VOL_MAX_REASONS][RR_VOL_REASON_SIZE];
  bool has_geometry; /* one orientation, positions and pixel spacing: the rest is set */
  const char *plane; /* "axial" | "sagittal" | "coronal" | "oblique" | NULL without geometry */
  const char *nearest_plane;
  double oblique_degrees;
  double origin[3], row[3], column[3], normal[3], spacing[3];
  uint32_t dimensions[3];
  uint64_t bytes_int16, bytes_float32;
  rr_vol_tilt tilt;
  rr_vol_view views[3];
  size_t *order; /* indexes into the input, the order to build the volume in */
  size_t order_count;
} rr_vol_result;

int rr_vol_check(rr_vol_result **out, const rr_vol_slice *slices, size_t count);
void rr_vol_result_free(rr_vol_result *r);

/* Orientation label of a patient direction (LPS): up to three of "LRPAHF"
 * (x: L+/R-, y: P+/A-, z: H+/F-), largest component first, components
 * under RR_VOL_LABEL_MIN left out; "" for a null vector. */
void rr_vol_direction_label(char out[4], const double v[3]);

#endif
