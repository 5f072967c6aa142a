/*
 * display_order.h - display order of a series' instances.
 *
 * Instances with a usable geometry (ImagePositionPatient and the series'
 * ImageOrientationPatient) come first, ordered by their position projected on
 * the slice normal (row x column direction, dicom/geometry.h), ascending; the
 * normal is that of the first instance whose orientation gives one. Ties and
 * instances without geometry are ordered by InstanceNumber (missing numbers
 * last), then by SOP Instance UID, so the order is total and stable across
 * calls. Pure and thread-safe.
 */
#ifndef RR_DICOM_DISPLAY_ORDER_H
#define RR_DICOM_DISPLAY_ORDER_H

#include <stddef.h>

#include "store/records.h"

/* Sort `count` records in place (borrowed; the caller keeps them). Returns 0
 * or RR_ENOMEM (then the order is unchanged). */
int rr_dicom_display_order(rr_instance_rec *items, size_t count);

#endif
