/*
 * ingest/instance_item.h - turn Orthanc's JSON descriptions of an instance, its
 * metadata, its series and its study (GET /instances/{id},
 * /instances/{id}/metadata?expand, /series/{id}, /studies/{id}) into an
 * rr_ingest_item. Values are trimmed, bounded and kept as UTF-8 (Orthanc has
 * already converted them from the file's SpecificCharacterSet).
 * Pure and thread-safe.
 */
#ifndef RR_INGEST_INSTANCE_ITEM_H
#define RR_INGEST_INSTANCE_ITEM_H

#include <json-c/json.h>

#include "store/records.h"

/* metadata may be NULL. Returns RR_EINVAL when an identifier or UID is
 * missing (the instance cannot be indexed). */
int rr_ingest_build_item(rr_ingest_item *out, json_object *instance, json_object *metadata, json_object *series,
                         json_object *study);

#endif
