/*
 * api/volume_api.h - whether one series can be viewed as a volume (MPR, 3D)
 * and how to build it (README.md, "REST API" and "Volumes"):
 *
 *   GET {root}dicom/studies/{StudyInstanceUID}/series/{SeriesInstanceUID}/volume
 *     200 {"studyInstanceUid", "seriesInstanceUid",
 *          "reconstructable": bool, "reasons": ["3 slices missing", ...],
 *          "plane": "axial"|"sagittal"|"coronal"|"oblique"|null,
 *          "nearestPlane", "obliqueDegrees",
 *          "tilt": {"degrees", "fromTag" (null without the tag),
 *                   "fromPositions", "tilted", "uniform" (both null
 *                   without a geometry), "correctable",
 *                   "correction": null | {"columnsPerSlice", "rowsPerSlice",
 *                       "columnsOffset", "rowsOffset", "mmAlongRowsPerSlice",
 *                       "mmAlongColumnsPerSlice"}},
 *          "geometry": null | {"origin", "rowCosines", "columnCosines",
 *                   "normal", "spacing": [x, y, z], "dimensions":
 *                   [columns, rows, slices]},
 *          "bytes": null | {"int16", "float32"},
 *          "planes": null | {"axial"|"sagittal"|"coronal": {"axis",
 *                   "right", "down", "obliqueDegrees",
 *                   "labels": {"left", "right", "top", "bottom"}}},
 *          "slices": [{"instanceId", "frame"}]}   (the order to build it in)
 *     400 a malformed UID; 404 unknown study, or no such series in it;
 *     415 unsupported: an instance whose NumberOfFrames is not a number in
 *     1..100000, or more slices than RR_VOL_MAX_SLICES (the message says
 *     which); 502 Orthanc could not give the series' tags; 405 another
 *     method.
 *
 * The checks, tolerances and the meaning of every field are those of
 * dicom/volume_check.h; the slices are read by dicom/volume_tags.h from
 * Orthanc's GET /series/{id}/instances-tags?short (one read of the series;
 * enhanced multi-frame: the functional groups of each frame). The
 * instances are those the store lists for the series (what the viewer
 * shows), in display order; an instance Orthanc no longer has is left out.
 * tilt.degrees is the tilt the positions show when they are sheared,
 * otherwise the tag's (0 without it). With a correction, geometry is the
 * corrected (orthogonal, widened) volume: slice k's pixel (column i, row j)
 * goes to (i + k*columnsPerSlice + columnsOffset, j + k*rowsPerSlice +
 * rowsOffset, k).
 *
 * Who may call it is the role matrix's decision (auth/matrix.c: the roles
 * that see images, the physician through the study check); the HTTP filter
 * records the study access in the audit trail.
 *
 * Register from OrthancPluginInitialize; handlers run concurrently (NoLock
 * routes); `deps` must outlive the plugin.
 */
#ifndef RR_API_VOLUME_API_H
#define RR_API_VOLUME_API_H

#include <orthanc/OrthancCPlugin.h>

#include "api/api.h"

/* `root` is the API root as a regex prefix (api.c's rr_root_regex). */
int rr_volume_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps, const char *root);

#endif
