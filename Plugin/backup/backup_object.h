/*
 * backup_object.h - what one backup object is: its name in the object store
 * and its sealed content, shared by the queue (backup_queue.h) and restore
 * (backup_restore.h). Pure functions; thread-safe.
 *
 * Names (the layout that lets a restore work from the object store alone):
 *   studies/<StudyInstanceUID>/<SOPInstanceUID>.rrb   one stored instance
 *   days/<YYYY-MM-DD>/<StudyInstanceUID>              a day marker: the study
 *                                                      received objects that
 *                                                      day (UTC); empty body
 *
 * Content: rr_backup_seal (backup_crypto.h, AES-256-GCM, aad = the object's
 * name, so an object moved to another name does not open) of
 *   "RRBO" | version 1 (1 byte) | SHA-256 of the DICOM file (32 bytes)
 *   | its length (8 bytes, big-endian) | the DICOM file
 * Restore checks the length and the SHA-256 after unsealing, so a restored
 * file is the one that was copied, byte for byte.
 *
 * Errors: RR_EINVAL with a sentence (a UID that is not a DICOM UID, an
 * object that does not open or whose hash does not match), RR_ENOMEM.
 */
#ifndef RR_BACKUP_BACKUP_OBJECT_H
#define RR_BACKUP_BACKUP_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define RR_BACKUP_OBJECT_MAGIC "RRBO"
#define RR_BACKUP_OBJECT_HEADER (4 + 1 + 32 + 8)

/* "studies/<study>/<sop>.rrb" into out (RR_EINVAL for a bad UID, RR_EFULL). */
int rr_backup_object_key(char *out, size_t size, const char *study_uid, const char *sop_uid);
/* "days/<day>/<study>" (day YYYY-MM-DD). */
int rr_backup_day_key(char *out, size_t size, const char *day, const char *study_uid);
/* The UTC day of a unix time in ms, "YYYY-MM-DD". */
void rr_backup_day_of(char out[11], int64_t unix_ms);

/* Seal a DICOM file for `key`: *out (initialised by the caller) receives
 * the object; sha256_hex (65 bytes) the file's SHA-256. */
int rr_backup_object_seal(rr_buf *out, char sha256_hex[65], const uint8_t key[32], const char *object_key,
                          const void *dicom, size_t len, char *err, size_t errsize);
/* Open an object read from `object_key`: *out (initialised by the caller)
 * receives the DICOM file, sha256_hex its SHA-256, checked against the
 * object's header. RR_EINVAL: tampered, wrong key, wrong name, hash or
 * length mismatch (err says which). */
int rr_backup_object_open(rr_buf *out, char sha256_hex[65], const uint8_t key[32], const char *object_key,
                          const void *sealed, size_t len, char *err, size_t errsize);

#endif
