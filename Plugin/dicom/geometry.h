/*
 * geometry.h - where a slice lies in the patient: the slice normal from
 * ImageOrientationPatient (0020,0037) and a position along it from
 * ImagePositionPatient (0020,0032), both as raw DS text ("1\\0\\0\\0\\1\\0").
 *
 * The normal is the cross product row x column of the orientation's two
 * direction cosines, normalised; an orientation whose directions are
 * parallel (or null) has no normal. Errors: RR_EINVAL for a value that is
 * missing, malformed (not exactly 6 or 3 finite numbers) or degenerate;
 * outputs are then unspecified. Pure and thread-safe; no allocation.
 */
#ifndef RR_DICOM_GEOMETRY_H
#define RR_DICOM_GEOMETRY_H

/* The unit slice normal of an ImageOrientationPatient value. */
int rr_dicom_slice_normal(double normal[3], const char *orientation);

/* The same from the six numbers already parsed (row cosines, then column
 * cosines). RR_EINVAL when the two directions are parallel or null. */
int rr_dicom_normal_of(double normal[3], const double orientation[6]);

/* ImagePositionPatient projected on `normal`: the slice's location along
 * the normal (mm), which orders the slices of a volume. */
int rr_dicom_position_along(double *out, const double normal[3], const char *position);

#endif
