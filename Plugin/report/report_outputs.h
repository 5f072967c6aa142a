/*
 * report_outputs.h - the worker that puts each finally signed report
 * version back into the archive: an Encapsulated PDF ("pdf"), a TID 2000
 * SR ("sr") and, when the version has key images, a Key Object Selection
 * ("kos"), each created in the report's study through Orthanc's
 * POST /tools/create-dicom (bodies from report_dicom.h).
 *
 * The queue is the store's (store_report_outputs.h), so work survives a
 * restart: rr_report_outputs_start() first puts back the jobs a stopped or
 * killed process left running (this node's claimer, and any try older than
 * 30 minutes: a node that died or got another host name; the thread checks
 * for those every 5 minutes too), then starts one
 * thread that claims due jobs one at a time, loads the version through the
 * loader (R2's report_compose: the doc and the PDF bytes kept at signing),
 * builds the body and posts it. A failed try is retried with back-off
 * (2^n s, at most 10 min) until `max_attempts` tries, then the job ends
 * "failed" with its last error (an administrator re-drives it with
 * rr_report_outputs_retry). UIDs are deterministic per (report, version,
 * kind) (report_dicom.h), so a try redone after a crash finds the object
 * already stored and records it: never a duplicate.
 *
 * An SR of an addendum or a correction whose doc names no predecessor gets
 * the latest earlier version's SR that is done (PredecessorDocumentsSequence).
 *
 * The site's UID root (options.uid_root, else the store's key-value
 * "reports.uid-root", made once from 128 random bits) keeps UIDs unique
 * across installations; it must never change once objects exist.
 *
 * Threads: the worker thread posts to Orthanc's REST API (never from
 * Orthanc's callbacks): start it from OrthancStarted at the earliest. Every
 * other function may be called from any thread. Ownership: store, loader
 * context and poster context are borrowed and must outlive the worker;
 * option strings are copied. rr_report_outputs_free stops and frees
 * (accepts NULL).
 */
#ifndef RR_REPORT_REPORT_OUTPUTS_H
#define RR_REPORT_REPORT_OUTPUTS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report_doc.h"
#include "store/store.h"
#include "util/orthanc_rest.h"

typedef struct rr_report_outputs rr_report_outputs;

/* Load one signed version: *out_doc (rr_report_doc_free) and the PDF bytes
 * kept at signing (*out_pdf, free()). 0 or a negative RR_E* code with a
 * sentence in err (RR_ENOTFOUND: no such report or version). Called from
 * the worker thread. */
typedef int (*rr_report_outputs_load_fn)(void *ctx, rr_report_doc **out_doc, unsigned char **out_pdf,
                                         size_t *out_pdf_size, int64_t report_id, int64_t version, char *err,
                                         size_t errsize);

#define RR_REPORT_OUTPUTS_DEFAULT_ATTEMPTS 8

typedef struct rr_report_outputs_options {
  bool archive;             /* ReadingRoom.Reports.ArchiveOutputs: false = enqueue nothing */
  unsigned max_attempts;    /* ReadingRoom.Reports.OutputAttempts (0: 8) */
  const char *claimer;      /* this node's name in the queue (NULL: the host name) */
  const char *uid_root;     /* NULL: the store's, made once */
  const char *software_version; /* written in the objects (NULL: none) */
  rr_rest_poster poster;    /* how to POST to Orthanc (post_json NULL: jobs cannot run) */
  unsigned idle_ms;         /* sleep when nothing is due (0: 1000) */
} rr_report_outputs_options;

/* RR_EINVAL without a store or options, RR_ENOMEM, RR_ERROR. loader may be
 * NULL: jobs are then queued and kept, and the worker does not start. */
int rr_report_outputs_new(rr_report_outputs **out, rr_store *store, rr_report_outputs_load_fn loader,
                          void *loader_ctx, const rr_report_outputs_options *opts);
/* Requeue this node's interrupted jobs, start the thread. 0, or RR_ERROR
 * when the thread cannot start; 0 without starting when there is no
 * loader or poster (logged). Idempotent. */
int rr_report_outputs_start(rr_report_outputs *w);
/* Finish the job in hand, join the thread. Idempotent. */
void rr_report_outputs_stop(rr_report_outputs *w);
void rr_report_outputs_free(rr_report_outputs *w);

/* Queue the outputs of a finally signed version: pdf and sr, and kos when
 * it has key images (idempotent: a job that exists is kept as it is), and
 * wake the worker. Nothing when ArchiveOutputs is false. RR_EINVAL for ids
 * below 1, RR_ESTORE (logged). */
int rr_report_outputs_enqueue(rr_report_outputs *w, int64_t report_id, int64_t version, bool has_key_images);

/* Administrator re-drive of a failed job ("pdf", "sr", "kos"); wakes the
 * worker. RR_ENOTFOUND, RR_ECONFLICT (not failed), RR_EINVAL, RR_ESTORE. */
int rr_report_outputs_retry(rr_report_outputs *w, int64_t report_id, int64_t version, const char *kind, char *err,
                            size_t errsize);

/* Claim and run one due job in the calling thread (what the worker thread
 * does in its loop; for tests and tools). *ran says whether there was one.
 * A job this claimer left running (its result could not be recorded) is
 * queued again first: one caller at a time per claimer. The job's outcome
 * is recorded in the store; the return value is only the queue's own
 * failure (RR_ESTORE). */
int rr_report_outputs_run_one(rr_report_outputs *w, bool *ran);

/* The site's UID root in use (after start or run_one; "" before). */
const char *rr_report_outputs_uid_root(rr_report_outputs *w);

/* The report's outputs as the wire contract's "outputs" array: objects
 * {"version", "kind", "state", "attempts", "lastError", "orthancId",
 * "sopInstanceUid", "updatedAt", "queuedAt", "doneAt"} by version, then
 * pdf, sr, kos; lastError, orthancId, sopInstanceUid and doneAt are null
 * when empty; queuedAt and doneAt carry milliseconds (for the "signed to
 * archived" benchmark). *out_array is new (json_object_put). */
int rr_report_outputs_json(json_object **out_array, rr_store *s, int64_t report_id, char *err, size_t errsize);

#endif
