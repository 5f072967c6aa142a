/*
 * ingest/raw_text.h - the text values of an instance decoded by the plugin
 * itself from the bytes Orthanc keeps, for the character sets Orthanc 1.10.1
 * decodes wrongly (code extensions: ISO 2022 terms, several values in
 * (0008,0005); e.g. ISO 2022 IR 13\ISO 2022 IR 87 comes out of Orthanc's JSON
 * as garbage after the first component group; ISO_IR 203 loses its 8-bit
 * characters).
 *
 * rr_raw_text_read asks Orthanc for the raw value of (0008,0005)
 * (GET /instances/{id}/content/0008-0005, one small call); only when that
 * value uses code extensions (rr_charset_has_extensions) or is a single set
 * Orthanc 1.10.1 does not decode (ISO_IR 203) does it read the
 * raw bytes of each text element the store keeps (patient name and ID,
 * study description, accession number, referring physician, institution,
 * series description) and decode them with dicom/charset. Orthanc serves
 * these from its parsed copy of the file, whatever the transfer syntax
 * (explicit/implicit VR, little/big endian, deflated), so no DICOM parsing
 * happens here. A value that is absent, longer than RR_RAW_TEXT_MAX_VALUE
 * bytes or malformed in its character set is left to Orthanc's decoding and
 * counted in `kept`.
 *
 * Pure apart from the source's REST calls; thread-safe; no allocation kept.
 */
#ifndef RR_INGEST_RAW_TEXT_H
#define RR_INGEST_RAW_TEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/records.h"
#include "util/orthanc_rest.h"

#define RR_RAW_TEXT_FIELDS 7
#define RR_RAW_TEXT_MAX_VALUE 4096
#define RR_RAW_TEXT_CHARSET_SIZE 256

typedef struct rr_raw_text {
  bool used;                             /* (0008,0005) uses code extensions */
  char charset[RR_RAW_TEXT_CHARSET_SIZE]; /* its raw value (no patient data), for logs */
  bool have[RR_RAW_TEXT_FIELDS];
  char value[RR_RAW_TEXT_FIELDS][RR_PN_SIZE];
  unsigned decoded; /* values decoded here */
  unsigned kept;    /* values left to Orthanc (malformed, too long, unreadable) */
} rr_raw_text;

/* Fill *out for the Orthanc instance instance_id (a URI-safe identifier).
 * A source without get_raw, an instance without (0008,0005) (or that vanished
 * meanwhile) and a character set Orthanc decodes right give an unused *out.
 * Returns 0 (also when values were kept; err then says why, without patient
 * data), RR_EUPSTREAM when Orthanc failed to answer for (0008,0005) (with
 * err), or RR_ENOMEM; on failure *out is unused or partly filled: the caller
 * discards it. */
int rr_raw_text_read(rr_raw_text *out, const rr_rest_source *src, const char *instance_id, char *err,
                     size_t errsize);

/* A hash (never 0) of the item's series identifier and of the text values
 * Orthanc gave: while it is unchanged, an rr_raw_text read for an instance of
 * that series still applies (FNV-1a, 64 bits). */
uint64_t rr_raw_text_fingerprint(const rr_ingest_item *item);

/* Replace the item's text values by those of t that were decoded. */
void rr_raw_text_apply(rr_ingest_item *item, const rr_raw_text *t);

#endif
