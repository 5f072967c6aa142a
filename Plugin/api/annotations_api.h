/*
 * api/annotations_api.h - the viewer's measurements and key images of a
 * study, kept in the store (store/store_annotations.h), under the API root
 * (see README.md, "REST API"):
 *
 *   GET    {root}dicom/studies/{StudyInstanceUID}/annotations
 *     200 {"data": [annotation…] (oldest first), "keyImages": [{"sopInstanceUid",
 *          "seriesInstanceUid", "frame", "author", "createdAt"}…]}
 *   PUT    {root}dicom/studies/{StudyInstanceUID}/annotations/{annotationUid}
 *     body {"seriesInstanceUid", "sopInstanceUid", "frame", "tool", "label", "data"}
 *     (If-Match: "<version>" optional) → 201 the stored annotation (new uid),
 *     200 (changed: version + 1); 403 not_author, 412 version_mismatch,
 *     409 conflict (another image or tool), 400 naming the member.
 *   DELETE {root}dicom/studies/{StudyInstanceUID}/annotations/{annotationUid}
 *     (If-Match optional) → 204; 404 unknown; 403 / 412 as for PUT.
 *   PUT    {root}dicom/studies/{StudyInstanceUID}/key-images/{SOPInstanceUID}/frames/{n}
 *     body {"seriesInstanceUid"} → 201 marked, 200 marked already (the first
 *     mark is kept and answered)
 *   DELETE {root}dicom/studies/{StudyInstanceUID}/key-images/{SOPInstanceUID}/frames/{n}
 *     → 204; 404 when it was not marked.
 *   Without "/frames/{n}": frame 1. (A path segment, not "?frame=": Orthanc
 *   hands plugins the query arguments of GET requests only.)
 *
 * An annotation is {"annotationUid", "seriesInstanceUid", "sopInstanceUid",
 * "frame" (1-based), "tool" (Length, Angle, CobbAngle, Bidirectional,
 * EllipticalROI, RectangleROI, CircleROI, PlanarFreehandROI, Probe,
 * ArrowAnnotate), "label" (≤ 256 characters), "data" (a JSON object the
 * viewer writes, ≤ 64 KiB serialised, opaque here), "author", "createdAt",
 * "updatedAt", "version"}; the last four are the server's. The author is
 * the caller (api/caller.h). Unknown study: 404 for every route. Writes are
 * audited (annotation.create, annotation.update, annotation.delete,
 * keyimage.mark, keyimage.unmark; resource the study UID, detail the
 * annotation uid or SOP Instance UID and frame — no patient data).
 *
 * Who may call which is the role matrix's decision (auth/matrix.c); these
 * handlers never check roles. Registration must happen in
 * OrthancPluginInitialize; handlers run concurrently (NoLock routes; the
 * store does its own locking); `deps` must outlive the plugin.
 */
#ifndef RR_API_ANNOTATIONS_API_H
#define RR_API_ANNOTATIONS_API_H

#include <orthanc/OrthancCPlugin.h>

#include "api/api.h"

int rr_annotations_api_register(OrthancPluginContext *context, const rr_api_deps *deps, const char *root);

#endif
