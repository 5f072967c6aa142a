/*
 * sort.h - display order of a series' instances.
 *
 * Instances with a usable geometry (ImagePositionPatient and the series'
 * ImageOrientationPatient) come first, ordered by their position projected on
 * the slice normal (row x column direction), ascending; ties and instances
 * without geometry are ordered by InstanceNumber (missing numbers last), then
 * by SOP Instance UID, so the order is total and stable across calls.
 * Pure and thread-safe.
 */
#ifndef RR_API_SORT_H
#define RR_API_SORT_H

#include <stddef.h>

#include "store/records.h"

/* Sort in place. Returns 0 or RR_ENOMEM (then the order is unchanged). */
int rr_instances_sort_display(rr_instance_rec *items, size_t count);

#endif
