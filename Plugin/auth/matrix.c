#include "matrix.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/errors.h"
#include "util/str.h"

/* ------------------------------------------------------------------ table
 *
 * Short names for the table only.
 */
#define M_GET RR_METHOD_GET /* also HEAD */
#define M_POST RR_METHOD_POST
#define M_PUT RR_METHOD_PUT
#define M_DEL RR_METHOD_DELETE
#define M_ALL RR_METHOD_ALL

#define ADM RR_ROLE_ADMIN
#define RAD RR_ROLE_RADIOLOGIST
#define TEC RR_ROLE_TECHNICIAN
#define PHY RR_ROLE_PHYSICIAN
#define USR RR_ROLE_USERS    /* every signed-in user */
#define ANY RR_ROLE_EVERYONE /* public: signed in or not */

#define IMG RR_RULE_STUDY_IMAGES /* physician: only studies with a final report */
#define AUD RR_RULE_AUDIT_STUDY  /* touches one patient's/study's data: audit */

/*
 * The role matrix. First match (method and pattern) decides; anything not
 * listed is denied to every role but admin (a route added by a newer Orthanc
 * or by another plugin stays closed to them until it is reviewed and listed
 * here). An administrator, who may already run Lua inside Orthanc, gets
 * Orthanc's own answer for a path no rule knows (404 for a route that does
 * not exist, as Orthanc's integration suite expects); a path a rule knows,
 * with a method no rule lists, stays refused to everybody, admin included.
 *
 * Principles, as a PACS security engineer would apply them:
 *
 * - admin is the PACS administrator: every route below includes ADM. Orthanc's
 *   administration (jobs, modalities, peers, Q/R, plugins, Lua, log levels,
 *   reset/shutdown, settings), every DELETE, every change of stored data
 *   (modify, anonymize, merge, split, reconstruct, metadata, attachments,
 *   protection) and bulk exports (archive/media zips, create-archive,
 *   instances/{id}/export which writes to the server's disk) are ADMIN ONLY.
 *   /tools/execute-script runs Lua inside Orthanc: whoever can call it owns
 *   the server, so it is admin-only like the rest of /tools.
 * - radiologist reads what the worklist and the viewer need, at every level
 *   (patient history and priors included): resources, tags, metadata,
 *   frames, pixels in every format, /tools/find and /tools/lookup (POST,
 *   but read-only searches). No uploads, no changes, no deletions, no
 *   exports, no Orthanc administration. Results and reports go through the
 *   plugin's API.
 * - technician uploads (POST /instances, DICOMweb STOW) and checks that a
 *   study arrived: study/series/instance main tags, the study's series, the
 *   counts of /studies|series/{id}/statistics and the list of studies. No
 *   pixels (file, frames, rendered, preview, image-*, numpy...), no full tag
 *   dumps (tags, simplified-tags, header, content), no reports, no /statistics
 *   (server-wide capacity is administration).
 * - physician (referring) gets "basic image viewing" of the studies with a
 *   final report, through the routes a viewer needs (main tags, tag dumps,
 *   series/instance lists, ordered slices, file, frames, rendered, preview,
 *   encapsulated PDF, DICOMweb under one study, WADO-URI), all flagged IMG so
 *   the filter checks the study. Nothing that enumerates studies (lists,
 *   /tools/find, QIDO searches across studies) since a search cannot be
 *   checked per study; patient history comes from the plugin's API, which
 *   filters rows per role. No AI, no changes.
 * - anonymous: only the login call, the web app's shell (index.html, assets:
 *   it shows its own login form; the data is behind the API) and Orthanc's
 *   two redirects.
 * - AUD marks every route that reads or changes one resource's data (and the
 *   AI results and reports), for all roles including admin: the audit trail
 *   must show who looked at which patient.
 */
static const rr_matrix_rule rules[] = {
  /* ==================================================== public redirects */
  {M_GET, "/", ANY, 0},            /* Orthanc: redirect to Orthanc Explorer */
  {M_GET, "/favicon.ico", ANY, 0}, /* Orthanc: redirect to Explorer's icon */

  /* ========================================== the plugin's web app ({web}) */
  {M_GET, "{web}", ANY, 0},           /* redirect to index.html */
  {M_GET, "{web}index.html", ANY, 0}, /* the app; its login form is a hash route of index.html */
  {M_GET, "{web}assets/*", ANY, 0},   /* scripts, styles, icons (content-hashed names) */

  /* ============================================== the plugin's API ({api}) */
  {M_POST, "{api}auth/login", ANY, 0},
  {M_POST, "{api}auth/logout", USR, 0},
  {M_POST, "{api}auth/refresh", USR, 0},
  {M_GET, "{api}auth/me", USR, 0},
  {M_PUT, "{api}auth/password", USR, 0}, /* one's own password */
  {M_ALL, "{api}users/*", ADM, 0},
  /* the worklist: every role has one; rows are filtered per role by the API */
  {M_GET, "{api}dicom/studies", USR, 0},
  {M_GET, "{api}dicom/studies/{id}", USR, IMG | AUD},
  /* rendered images (PNG) for the viewer, reports and AI: no technician */
  {M_GET, "{api}dicom/studies/{id}/frames/{id}", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "{api}dicom/instances/{id}/frames/{id}/png", ADM | RAD | PHY, IMG | AUD},
  /* modality values of a frame, what the viewer builds volumes from (api.c) */
  {M_GET, "{api}dicom/instances/{id}/frames/{id}/values", ADM | RAD | PHY, IMG | AUD},
  /* the viewer's fallback for transfer syntaxes the browser cannot decode */
  {M_GET, "{api}dicom/instances/{id}/transcoded", ADM | RAD | PHY, IMG | AUD},
  /* the patient's other studies (priors): each listed prior passes the same check (api/priors_api.c) */
  {M_GET, "{api}dicom/studies/{id}/priors", ADM | RAD | PHY, IMG | AUD},
  /* whether a series can be viewed as a volume (MPR, 3D), and how (api/volume_api.h) */
  {M_GET, "{api}dicom/studies/{id}/series/{id}/volume", ADM | RAD | PHY, IMG | AUD},
  /* the viewer's measurements and key images: radiologists write (the API
   * lets only an annotation's author change it), physicians read */
  {M_GET, "{api}dicom/studies/{id}/annotations", ADM | RAD | PHY, IMG | AUD},
  {M_PUT | M_DEL, "{api}dicom/studies/{id}/annotations/{id}", ADM | RAD, IMG},
  {M_PUT | M_DEL, "{api}dicom/studies/{id}/key-images/*", ADM | RAD, IMG},
  /* a viewport captured as PNG: the viewer's roles record it (api/capture_api.h) */
  {M_POST, "{api}dicom/studies/{id}/captures", ADM | RAD | PHY, IMG | AUD},
  /* "Save to archive": the viewer's measurements as a DICOM SR into the study */
  {M_POST, "{api}dicom/studies/{id}/measurement-reports", ADM | RAD, AUD},
  {M_GET, "{api}health", USR, 0},
  /* the off-site backup (api/backup_api.h): status and dead letters,
   * re-drive, restore; administrators only, the API audits the writes */
  {M_GET, "{api}admin/backup", ADM, 0},
  {M_POST, "{api}admin/backup/*", ADM, 0},
  {M_ALL, "{api}admin/*", ADM, 0},
  /* the audit trail is written by the plugin only: reads and searches, never
   * changed through HTTP, not even by an admin */
  {M_GET | M_POST, "{api}audit/*", ADM, 0},
  /* AI: radiologists run and review analyses; physicians have no AI */
  {M_GET | M_POST | M_PUT, "{api}ai/*", ADM | RAD, AUD},
  {M_DEL, "{api}ai/*", ADM, AUD},
  /* report templates (before the reports): radiologists read them to write
   * reports, physicians read reports, not templates; administrators add,
   * edit and retire them */
  {M_GET, "{api}reports/templates/*", ADM | RAD, 0},
  {M_POST | M_PUT | M_DEL, "{api}reports/templates/*", ADM, 0},
  /* a physician lists a study's reports only when it has a final one (IMG);
   * the API then shows them its final reports and versions only */
  {M_GET, "{api}dicom/studies/{id}/reports", ADM | RAD | PHY, IMG | AUD},
  /* the physician who reads a critical result acknowledges it */
  {M_POST, "{api}reports/{id}/acknowledge", ADM | RAD | PHY, AUD},
  /* a report entered in error is withdrawn by an administrator */
  {M_POST, "{api}reports/{id}/entered-in-error", ADM, AUD},
  /* each radiologist's own text snippets */
  {M_ALL, "{api}reports/macros/*", ADM | RAD, 0},
  /* reports: physicians read (the API shows them final reports only) and
   * download PDFs; radiologists write; a report is a legal record, so
   * deleting one is an administrator's act */
  {M_GET, "{api}reports/*", ADM | RAD | PHY, AUD},
  {M_POST | M_PUT, "{api}reports/*", ADM | RAD, AUD},
  {M_DEL, "{api}reports/*", ADM, AUD},

  /* ================================== Orthanc Explorer (1 and 2): admin */
  {M_GET, "/app/*", ADM, 0},
  {M_ALL, "/ui/*", ADM, 0},
  {M_GET, "/plugins/explorer.js", ADM, 0}, /* Explorer's extensions (ours included) */

  /* ========================== DICOMweb plugin (default root /dicom-web/) */
  {M_GET, "/dicom-web/studies", ADM | RAD, 0},       /* QIDO-RS search */
  {M_POST, "/dicom-web/studies", ADM | TEC, AUD},    /* STOW-RS */
  {M_GET, "/dicom-web/series", ADM | RAD, 0},        /* QIDO-RS search */
  {M_GET, "/dicom-web/instances", ADM | RAD, 0},     /* QIDO-RS search */
  {M_POST, "/dicom-web/studies/{id}", ADM | TEC, AUD}, /* STOW-RS into one study */
  /* WADO-RS, QIDO-RS and rendered/thumbnail/bulk routes under one study
   * ({id} is the StudyInstanceUID, handed to the study check) */
  {M_GET, "/dicom-web/studies/{id}/*", ADM | RAD | PHY, IMG | AUD},
  {M_ALL, "/dicom-web/*", ADM, 0}, /* servers (outbound DICOMweb), info, ... */
  /* WADO-URI: the study is the studyUID query argument */
  {M_GET, "/wado", ADM | RAD | PHY, IMG | AUD},

  /* ============================================== Orthanc: instances */
  {M_GET, "/instances", ADM | RAD, 0},
  {M_POST, "/instances", ADM | TEC, AUD}, /* upload */
  {M_GET, "/instances/{id}", ADM | RAD | TEC | PHY, IMG | AUD},
  {M_DEL, "/instances/{id}", ADM, AUD},
  {M_POST, "/instances/{id}/anonymize", ADM, AUD},
  {M_GET, "/instances/{id}/attachments", ADM, AUD},
  {M_GET | M_PUT | M_DEL, "/instances/{id}/attachments/{name}", ADM, AUD},
  {M_POST, "/instances/{id}/attachments/{name}/compress", ADM, AUD},
  {M_GET, "/instances/{id}/attachments/{name}/compressed-data", ADM, AUD},
  {M_GET, "/instances/{id}/attachments/{name}/compressed-md5", ADM, AUD},
  {M_GET, "/instances/{id}/attachments/{name}/compressed-size", ADM, AUD},
  {M_GET, "/instances/{id}/attachments/{name}/data", ADM, AUD},
  {M_GET, "/instances/{id}/attachments/{name}/info", ADM, AUD},
  {M_GET, "/instances/{id}/attachments/{name}/is-compressed", ADM, AUD},
  {M_GET, "/instances/{id}/attachments/{name}/md5", ADM, AUD},
  {M_GET, "/instances/{id}/attachments/{name}/size", ADM, AUD},
  {M_POST, "/instances/{id}/attachments/{name}/uncompress", ADM, AUD},
  {M_POST, "/instances/{id}/attachments/{name}/verify-md5", ADM, AUD},
  {M_GET, "/instances/{id}/content/*", ADM | RAD, AUD}, /* raw tag values */
  {M_POST, "/instances/{id}/export", ADM, AUD},         /* writes to the server's disk */
  {M_GET, "/instances/{id}/file", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/instances/{id}/frames", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/instances/{id}/frames/{frame}", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/instances/{id}/frames/{frame}/image-int16", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/frames/{frame}/image-uint16", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/frames/{frame}/image-uint8", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/frames/{frame}/matlab", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/frames/{frame}/numpy", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/frames/{frame}/preview", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/instances/{id}/frames/{frame}/raw", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/instances/{id}/frames/{frame}/raw.gz", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/instances/{id}/frames/{frame}/rendered", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/instances/{id}/header", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/image-int16", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/image-uint16", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/image-uint8", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/matlab", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/metadata", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/metadata/{name}", ADM | RAD, AUD},
  {M_PUT | M_DEL, "/instances/{id}/metadata/{name}", ADM, AUD},
  {M_POST, "/instances/{id}/modify", ADM, AUD},
  {M_GET, "/instances/{id}/module", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/numpy", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/patient", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/pdf", ADM | RAD | PHY, IMG | AUD}, /* encapsulated PDF */
  {M_GET, "/instances/{id}/preview", ADM | RAD | PHY, IMG | AUD},
  {M_POST, "/instances/{id}/reconstruct", ADM, AUD},
  {M_GET, "/instances/{id}/rendered", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/instances/{id}/series", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/simplified-tags", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/instances/{id}/statistics", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/study", ADM | RAD, AUD},
  {M_GET, "/instances/{id}/tags", ADM | RAD | PHY, IMG | AUD},

  /* ================================================= Orthanc: series */
  {M_GET, "/series", ADM | RAD, 0},
  {M_GET, "/series/{id}", ADM | RAD | TEC | PHY, IMG | AUD},
  {M_DEL, "/series/{id}", ADM, AUD},
  {M_POST, "/series/{id}/anonymize", ADM, AUD},
  {M_GET | M_POST, "/series/{id}/archive", ADM, AUD}, /* zip download: bulk export */
  {M_GET, "/series/{id}/attachments", ADM, AUD},
  {M_GET | M_PUT | M_DEL, "/series/{id}/attachments/{name}", ADM, AUD},
  {M_POST, "/series/{id}/attachments/{name}/compress", ADM, AUD},
  {M_GET, "/series/{id}/attachments/{name}/compressed-data", ADM, AUD},
  {M_GET, "/series/{id}/attachments/{name}/compressed-md5", ADM, AUD},
  {M_GET, "/series/{id}/attachments/{name}/compressed-size", ADM, AUD},
  {M_GET, "/series/{id}/attachments/{name}/data", ADM, AUD},
  {M_GET, "/series/{id}/attachments/{name}/info", ADM, AUD},
  {M_GET, "/series/{id}/attachments/{name}/is-compressed", ADM, AUD},
  {M_GET, "/series/{id}/attachments/{name}/md5", ADM, AUD},
  {M_GET, "/series/{id}/attachments/{name}/size", ADM, AUD},
  {M_POST, "/series/{id}/attachments/{name}/uncompress", ADM, AUD},
  {M_POST, "/series/{id}/attachments/{name}/verify-md5", ADM, AUD},
  {M_GET, "/series/{id}/instances", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/series/{id}/instances-tags", ADM | RAD, AUD},
  {M_GET | M_POST, "/series/{id}/media", ADM, AUD}, /* DICOMDIR zip: bulk export */
  {M_GET, "/series/{id}/metadata", ADM | RAD, AUD},
  {M_GET, "/series/{id}/metadata/{name}", ADM | RAD, AUD},
  {M_PUT | M_DEL, "/series/{id}/metadata/{name}", ADM, AUD},
  {M_POST, "/series/{id}/modify", ADM, AUD},
  {M_GET, "/series/{id}/module", ADM | RAD, AUD},
  {M_GET, "/series/{id}/numpy", ADM | RAD, AUD},
  {M_GET, "/series/{id}/ordered-slices", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/series/{id}/patient", ADM | RAD, AUD},
  {M_POST, "/series/{id}/reconstruct", ADM, AUD},
  {M_GET, "/series/{id}/shared-tags", ADM | RAD, AUD},
  {M_GET, "/series/{id}/statistics", ADM | RAD | TEC, AUD}, /* counts: "did it arrive" */
  {M_GET, "/series/{id}/study", ADM | RAD, AUD},

  /* ================================================ Orthanc: studies */
  {M_GET, "/studies", ADM | RAD | TEC, 0},
  {M_GET, "/studies/{id}", ADM | RAD | TEC | PHY, IMG | AUD},
  {M_DEL, "/studies/{id}", ADM, AUD},
  {M_POST, "/studies/{id}/anonymize", ADM, AUD},
  {M_GET | M_POST, "/studies/{id}/archive", ADM, AUD},
  {M_GET, "/studies/{id}/attachments", ADM, AUD},
  {M_GET | M_PUT | M_DEL, "/studies/{id}/attachments/{name}", ADM, AUD},
  {M_POST, "/studies/{id}/attachments/{name}/compress", ADM, AUD},
  {M_GET, "/studies/{id}/attachments/{name}/compressed-data", ADM, AUD},
  {M_GET, "/studies/{id}/attachments/{name}/compressed-md5", ADM, AUD},
  {M_GET, "/studies/{id}/attachments/{name}/compressed-size", ADM, AUD},
  {M_GET, "/studies/{id}/attachments/{name}/data", ADM, AUD},
  {M_GET, "/studies/{id}/attachments/{name}/info", ADM, AUD},
  {M_GET, "/studies/{id}/attachments/{name}/is-compressed", ADM, AUD},
  {M_GET, "/studies/{id}/attachments/{name}/md5", ADM, AUD},
  {M_GET, "/studies/{id}/attachments/{name}/size", ADM, AUD},
  {M_POST, "/studies/{id}/attachments/{name}/uncompress", ADM, AUD},
  {M_POST, "/studies/{id}/attachments/{name}/verify-md5", ADM, AUD},
  {M_GET, "/studies/{id}/instances", ADM | RAD | PHY, IMG | AUD},
  {M_GET, "/studies/{id}/instances-tags", ADM | RAD, AUD},
  {M_GET | M_POST, "/studies/{id}/media", ADM, AUD},
  {M_POST, "/studies/{id}/merge", ADM, AUD},
  {M_GET, "/studies/{id}/metadata", ADM | RAD, AUD},
  {M_GET, "/studies/{id}/metadata/{name}", ADM | RAD, AUD},
  {M_PUT | M_DEL, "/studies/{id}/metadata/{name}", ADM, AUD},
  {M_POST, "/studies/{id}/modify", ADM, AUD},
  {M_GET, "/studies/{id}/module", ADM | RAD, AUD},
  {M_GET, "/studies/{id}/module-patient", ADM | RAD, AUD},
  {M_GET, "/studies/{id}/patient", ADM | RAD, AUD},
  {M_POST, "/studies/{id}/reconstruct", ADM, AUD},
  {M_GET, "/studies/{id}/series", ADM | RAD | TEC | PHY, IMG | AUD},
  {M_GET, "/studies/{id}/shared-tags", ADM | RAD, AUD},
  {M_POST, "/studies/{id}/split", ADM, AUD},
  {M_GET, "/studies/{id}/statistics", ADM | RAD | TEC, AUD}, /* counts: "did it arrive" */

  /* =============================================== Orthanc: patients
   * Radiologists read priors; physicians get patient history from the
   * plugin's API (a patient-level route cannot be checked per study). */
  {M_GET, "/patients", ADM | RAD, 0},
  {M_GET, "/patients/{id}", ADM | RAD, AUD},
  {M_DEL, "/patients/{id}", ADM, AUD},
  {M_POST, "/patients/{id}/anonymize", ADM, AUD},
  {M_GET | M_POST, "/patients/{id}/archive", ADM, AUD},
  {M_GET, "/patients/{id}/attachments", ADM, AUD},
  {M_GET | M_PUT | M_DEL, "/patients/{id}/attachments/{name}", ADM, AUD},
  {M_POST, "/patients/{id}/attachments/{name}/compress", ADM, AUD},
  {M_GET, "/patients/{id}/attachments/{name}/compressed-data", ADM, AUD},
  {M_GET, "/patients/{id}/attachments/{name}/compressed-md5", ADM, AUD},
  {M_GET, "/patients/{id}/attachments/{name}/compressed-size", ADM, AUD},
  {M_GET, "/patients/{id}/attachments/{name}/data", ADM, AUD},
  {M_GET, "/patients/{id}/attachments/{name}/info", ADM, AUD},
  {M_GET, "/patients/{id}/attachments/{name}/is-compressed", ADM, AUD},
  {M_GET, "/patients/{id}/attachments/{name}/md5", ADM, AUD},
  {M_GET, "/patients/{id}/attachments/{name}/size", ADM, AUD},
  {M_POST, "/patients/{id}/attachments/{name}/uncompress", ADM, AUD},
  {M_POST, "/patients/{id}/attachments/{name}/verify-md5", ADM, AUD},
  {M_GET, "/patients/{id}/instances", ADM | RAD, AUD},
  {M_GET, "/patients/{id}/instances-tags", ADM | RAD, AUD},
  {M_GET | M_POST, "/patients/{id}/media", ADM, AUD},
  {M_GET, "/patients/{id}/metadata", ADM | RAD, AUD},
  {M_GET, "/patients/{id}/metadata/{name}", ADM | RAD, AUD},
  {M_PUT | M_DEL, "/patients/{id}/metadata/{name}", ADM, AUD},
  {M_POST, "/patients/{id}/modify", ADM, AUD},
  {M_GET, "/patients/{id}/module", ADM | RAD, AUD},
  {M_GET | M_PUT, "/patients/{id}/protected", ADM, AUD}, /* recycling protection */
  {M_POST, "/patients/{id}/reconstruct", ADM, AUD},
  {M_GET, "/patients/{id}/series", ADM | RAD, AUD},
  {M_GET, "/patients/{id}/shared-tags", ADM | RAD, AUD},
  {M_GET, "/patients/{id}/statistics", ADM | RAD, AUD},
  {M_GET, "/patients/{id}/studies", ADM | RAD, AUD},

  /* ============================ Orthanc: searches (read-only POSTs) */
  {M_POST, "/tools/find", ADM | RAD, 0},
  {M_POST, "/tools/lookup", ADM | RAD, 0},

  /* ================================= Orthanc administration: admin only */
  {M_GET | M_DEL, "/changes", ADM, 0},
  {M_GET | M_DEL, "/exports", ADM, 0},
  {M_GET, "/system", ADM, 0},
  {M_GET, "/statistics", ADM, 0},
  {M_GET, "/plugins", ADM, 0},
  {M_GET, "/plugins/{id}", ADM, 0},

  {M_GET, "/jobs", ADM, 0},
  {M_GET, "/jobs/{id}", ADM, 0},
  {M_POST, "/jobs/{id}/cancel", ADM, 0},
  {M_POST, "/jobs/{id}/pause", ADM, 0},
  {M_POST, "/jobs/{id}/resubmit", ADM, 0},
  {M_POST, "/jobs/{id}/resume", ADM, 0},
  {M_GET, "/jobs/{id}/{key}", ADM, 0}, /* job outputs, e.g. archives */

  /* DICOM networking (C-ECHO/FIND/MOVE/STORE to other nodes): admin */
  {M_GET, "/modalities", ADM, 0},
  {M_GET | M_PUT | M_DEL, "/modalities/{id}", ADM, 0},
  {M_GET, "/modalities/{id}/configuration", ADM, 0},
  {M_POST, "/modalities/{id}/echo", ADM, 0},
  {M_POST, "/modalities/{id}/find", ADM, 0},
  {M_POST, "/modalities/{id}/find-instance", ADM, 0},
  {M_POST, "/modalities/{id}/find-patient", ADM, 0},
  {M_POST, "/modalities/{id}/find-series", ADM, 0},
  {M_POST, "/modalities/{id}/find-study", ADM, 0},
  {M_POST, "/modalities/{id}/find-worklist", ADM, 0},
  {M_POST, "/modalities/{id}/move", ADM, 0},
  {M_POST, "/modalities/{id}/query", ADM, 0},
  {M_POST, "/modalities/{id}/storage-commitment", ADM, 0},
  {M_POST, "/modalities/{id}/store", ADM, 0},
  {M_POST, "/modalities/{id}/store-straight", ADM, 0},

  {M_GET, "/peers", ADM, 0},
  {M_GET | M_PUT | M_DEL, "/peers/{id}", ADM, 0},
  {M_GET, "/peers/{id}/configuration", ADM, 0},
  {M_POST, "/peers/{id}/store", ADM, 0},
  {M_POST, "/peers/{id}/store-straight", ADM, 0},
  {M_GET, "/peers/{id}/system", ADM, 0},

  /* Query/Retrieve sessions against remote modalities */
  {M_GET, "/queries", ADM, 0},
  {M_GET | M_DEL, "/queries/{id}", ADM, 0},
  {M_GET, "/queries/{id}/answers", ADM, 0},
  {M_GET, "/queries/{id}/answers/{index}", ADM, 0},
  {M_GET, "/queries/{id}/answers/{index}/content", ADM, 0},
  {M_POST, "/queries/{id}/answers/{index}/query-instances", ADM, 0},
  {M_POST, "/queries/{id}/answers/{index}/query-series", ADM, 0},
  {M_POST, "/queries/{id}/answers/{index}/query-studies", ADM, 0},
  {M_POST, "/queries/{id}/answers/{index}/retrieve", ADM, 0},
  {M_GET, "/queries/{id}/level", ADM, 0},
  {M_GET, "/queries/{id}/modality", ADM, 0},
  {M_GET, "/queries/{id}/query", ADM, 0},
  {M_POST, "/queries/{id}/retrieve", ADM, 0},

  {M_GET, "/storage-commitment/{id}", ADM, 0},
  {M_POST, "/storage-commitment/{id}/remove", ADM, 0},

  /* /tools: settings, bulk changes and exports, Lua, reset, shutdown */
  {M_GET, "/tools", ADM, 0},
  {M_GET | M_PUT, "/tools/accepted-transfer-syntaxes", ADM, 0},
  {M_POST, "/tools/bulk-anonymize", ADM, 0},
  {M_POST, "/tools/bulk-content", ADM, 0},
  {M_POST, "/tools/bulk-delete", ADM, 0},
  {M_POST, "/tools/bulk-modify", ADM, 0},
  {M_POST, "/tools/create-archive", ADM, 0},
  {M_POST, "/tools/create-dicom", ADM, 0},
  {M_POST, "/tools/create-media", ADM, 0},
  {M_POST, "/tools/create-media-extended", ADM, 0},
  {M_GET | M_PUT, "/tools/default-encoding", ADM, 0},
  {M_GET, "/tools/dicom-conformance", ADM, 0},
  {M_POST, "/tools/dicom-echo", ADM, 0},
  {M_POST, "/tools/execute-script", ADM, 0}, /* Lua: full control of Orthanc */
  {M_GET, "/tools/generate-uid", ADM, 0},
  {M_POST, "/tools/invalidate-tags", ADM, 0},
  {M_GET | M_PUT, "/tools/log-level", ADM, 0},
  {M_GET | M_PUT, "/tools/log-level-dicom", ADM, 0},
  {M_GET | M_PUT, "/tools/log-level-generic", ADM, 0},
  {M_GET | M_PUT, "/tools/log-level-http", ADM, 0},
  {M_GET | M_PUT, "/tools/log-level-jobs", ADM, 0},
  {M_GET | M_PUT, "/tools/log-level-lua", ADM, 0},
  {M_GET | M_PUT, "/tools/log-level-plugins", ADM, 0},
  {M_GET | M_PUT, "/tools/log-level-sqlite", ADM, 0},
  {M_GET | M_PUT, "/tools/metrics", ADM, 0},
  {M_GET, "/tools/metrics-prometheus", ADM, 0}, /* scrapers need an admin token */
  {M_GET, "/tools/now", ADM, 0},
  {M_GET, "/tools/now-local", ADM, 0},
  {M_POST, "/tools/reconstruct", ADM, 0},
  {M_POST, "/tools/reset", ADM, 0},
  {M_POST, "/tools/shutdown", ADM, 0},
  {M_GET | M_PUT, "/tools/unknown-sop-class-accepted", ADM, 0},
};

#define RULE_COUNT (sizeof(rules) / sizeof(rules[0]))

/* --------------------------------------------------------------- compiled */

enum { SEG_LITERAL, SEG_PARAM };

typedef struct {
  const char *text; /* into the static pattern or the matrix's copy of a root */
  uint16_t len;
  uint8_t kind;
} segment;

typedef struct {
  uint32_t first; /* index into segs */
  uint16_t count; /* segments before the optional tail */
  bool tail;      /* ends with "*": zero or more further segments */
} compiled_rule;

struct rr_matrix {
  char api_root[RR_MATRIX_MAX_ROOT + 1];
  char web_root[RR_MATRIX_MAX_ROOT + 1];
  compiled_rule rules[RULE_COUNT];
  segment *segs;
  size_t seg_count;
  rr_study_check_fn study_check;
  void *study_ctx;
};

/* A byte that may never appear in a path segment we match, or a root. */
static bool forbidden_char(unsigned char ch)
{
  return ch < 0x20 || ch == 0x7F || ch == '\\' || ch == '?' || ch == '#';
}

static bool is_dot_segment(const char *s, size_t len)
{
  return (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.');
}

static int check_root(const char *root, const char *name, char *err, size_t errsize)
{
  size_t i, len = strlen(root), start = 1;

  if (len < 3 || len > RR_MATRIX_MAX_ROOT || root[0] != '/' || root[len - 1] != '/')
    return rr_fail(err, errsize, RR_EINVAL, "%s root must start and end with '/', name a path and be at most %d bytes (got \"%s\")",
                   name, RR_MATRIX_MAX_ROOT, root);
  for (i = 1; i < len; i++) {
    unsigned char ch = (unsigned char)root[i];
    if (forbidden_char(ch) || ch == '%' || ch == '{' || ch == '}' || ch == '*')
      return rr_fail(err, errsize, RR_EINVAL, "%s root \"%s\" holds a character that is not allowed in a root", name, root);
    if (ch == '/') {
      if (i == start || is_dot_segment(root + start, i - start))
        return rr_fail(err, errsize, RR_EINVAL, "%s root \"%s\" has an empty, '.' or '..' segment", name, root);
      start = i + 1;
    }
  }
  return 0;
}

/* Append the segments of s[0..len) (split at '/') to m->segs. A root's
 * segments (from_table false) are literal and its empty ends skipped; a
 * table pattern's may be "{name}" or a final "*", and none may be empty. */
static int add_segments(rr_matrix *m, compiled_rule *cr, const char *s, size_t len, bool from_table, size_t rule_index,
                        char *err, size_t errsize)
{
  size_t i = 0, j;

  while (i < len) {
    const char *seg;
    size_t seglen;
    uint8_t kind = SEG_LITERAL;

    for (j = i; j < len && s[j] != '/'; j++)
      ;
    seg = s + i;
    seglen = j - i;
    i = j + 1;
    if (seglen == 0) {
      if (from_table)
        return rr_fail(err, errsize, RR_EINVAL, "rule %zu (\"%s\"): empty path segment", rule_index, rules[rule_index].pattern);
      continue;
    }
    if (cr->tail)
      return rr_fail(err, errsize, RR_EINVAL, "rule %zu (\"%s\"): '*' must be the last segment", rule_index, rules[rule_index].pattern);
    if (from_table && seglen == 1 && seg[0] == '*') {
      cr->tail = true;
      continue;
    }
    if (from_table && seg[0] == '{') {
      size_t k;
      if (seglen < 3 || seg[seglen - 1] != '}')
        return rr_fail(err, errsize, RR_EINVAL, "rule %zu (\"%s\"): a parameter is a whole segment \"{name}\"", rule_index,
                       rules[rule_index].pattern);
      for (k = 1; k + 1 < seglen; k++)
        if (!((seg[k] >= 'a' && seg[k] <= 'z') || seg[k] == '_'))
          return rr_fail(err, errsize, RR_EINVAL, "rule %zu (\"%s\"): bad parameter name", rule_index, rules[rule_index].pattern);
      kind = SEG_PARAM;
    } else {
      size_t k;
      if (is_dot_segment(seg, seglen))
        return rr_fail(err, errsize, RR_EINVAL, "rule %zu (\"%s\"): '.' or '..' segment", rule_index, rules[rule_index].pattern);
      for (k = 0; k < seglen; k++) {
        unsigned char ch = (unsigned char)seg[k];
        if (forbidden_char(ch) || ch == '%' || ch == '{' || ch == '}' || ch == '*')
          return rr_fail(err, errsize, RR_EINVAL, "rule %zu (\"%s\"): '%c' is not allowed in a literal segment", rule_index,
                         rules[rule_index].pattern, ch >= 0x20 && ch < 0x7F ? (char)ch : '?');
      }
    }
    if (seglen > UINT16_MAX || cr->count >= RR_MATRIX_MAX_SEGMENTS)
      return rr_fail(err, errsize, RR_EINVAL, "rule %zu (\"%s\"): too long", rule_index, rules[rule_index].pattern);
    m->segs[m->seg_count].text = seg;
    m->segs[m->seg_count].len = (uint16_t)seglen;
    m->segs[m->seg_count].kind = kind;
    m->seg_count++;
    cr->count++;
  }
  return 0;
}

static int compile_rule(rr_matrix *m, size_t i, char *err, size_t errsize)
{
  const char *p = rules[i].pattern;
  compiled_rule *cr = &m->rules[i];
  int error;

  cr->first = (uint32_t)m->seg_count;
  cr->count = 0;
  cr->tail = false;
  if (rules[i].methods == 0 || (rules[i].methods & ~RR_METHOD_ALL) != 0 || rules[i].roles == 0 ||
      (rules[i].roles & ~RR_ROLE_EVERYONE) != 0)
    return rr_fail(err, errsize, RR_EINVAL, "rule %zu (\"%s\"): bad methods or roles", i, p);
  if (strncmp(p, "{api}", 5) == 0 || strncmp(p, "{web}", 5) == 0) {
    const char *root = p[1] == 'a' ? m->api_root : m->web_root;
    if ((error = add_segments(m, cr, root, strlen(root), false, i, err, errsize)) < 0)
      return error;
    p += 5;
  } else if (p[0] != '/') {
    return rr_fail(err, errsize, RR_EINVAL, "rule %zu (\"%s\"): a pattern starts with '/', \"{api}\" or \"{web}\"", i, p);
  } else if (p[1] == '\0') {
    return 0; /* "/": no segment */
  } else {
    p++;
  }
  if (p[0] != '\0' && p[strlen(p) - 1] == '/')
    return rr_fail(err, errsize, RR_EINVAL, "rule %zu (\"%s\"): trailing '/'", i, rules[i].pattern);
  return add_segments(m, cr, p, strlen(p), true, i, err, errsize);
}

int rr_matrix_new(rr_matrix **out, const char *api_root, const char *web_root, char *err, size_t errsize)
{
  rr_matrix *m = NULL;
  size_t i, capacity = 0;
  int error = 0;

  *out = NULL;
  if (api_root == NULL)
    api_root = "/api/";
  if (web_root == NULL)
    web_root = "/reading-room/";
  if ((error = check_root(api_root, "API", err, errsize)) < 0 || (error = check_root(web_root, "web", err, errsize)) < 0)
    goto out;
  if (strcmp(api_root, web_root) == 0) {
    error = rr_fail(err, errsize, RR_EINVAL, "the API root and the web root must differ (both \"%s\")", api_root);
    goto out;
  }
  m = calloc(1, sizeof(*m));
  if (m == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  rr_str_copy(m->api_root, sizeof(m->api_root), api_root);
  rr_str_copy(m->web_root, sizeof(m->web_root), web_root);
  m->study_check = rr_matrix_no_final_report;
  /* upper bound of the segments: one per '/' of each pattern and root */
  for (i = 0; i < RULE_COUNT; i++) {
    const char *p;
    capacity += 1 + strlen(api_root) + strlen(web_root);
    for (p = rules[i].pattern; *p; p++)
      capacity += *p == '/';
  }
  m->segs = calloc(capacity, sizeof(*m->segs));
  if (m->segs == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  for (i = 0; i < RULE_COUNT; i++)
    if ((error = compile_rule(m, i, err, errsize)) < 0)
      goto out;
  *out = m;
  m = NULL;

out:
  rr_matrix_free(m);
  return error;
}

void rr_matrix_free(rr_matrix *m)
{
  if (m == NULL)
    return;
  free(m->segs);
  free(m);
}

/* ----------------------------------------------------------------- check */

typedef struct {
  const char *text;
  size_t len;
} path_segment;

static void decide(rr_matrix_decision *out, bool allow, int rule, unsigned flags, const char *reason)
{
  out->allow = allow;
  out->rule = rule;
  out->flags = flags;
  out->reason = reason;
}

static int hexval(char ch)
{
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

/* Split the path into segments; NULL on success, else the reason to deny. */
static const char *split_path(path_segment *segs, size_t *count, const char *path, size_t len)
{
  size_t i, start = 1, n = 0;

  if (len == 0 || path[0] != '/')
    return "denied: the path does not start with '/'";
  for (i = 1; i <= len; i++) {
    if (i < len) {
      unsigned char ch = (unsigned char)path[i];
      if (ch == '\0')
        return "denied: the path contains a NUL byte";
      if (forbidden_char(ch))
        return "denied: the path contains '\\', '?', '#' or a control character";
      if (ch == '%' && i + 2 < len) {
        int hi = hexval(path[i + 1]), lo = hexval(path[i + 2]);
        if (hi >= 0 && lo >= 0) {
          int v = hi * 16 + lo;
          if (v == '/' || v == '\\' || v == '.' || v == 0)
            return "denied: the path contains an encoded '/', '\\', '.' or NUL";
        }
      }
      if (ch != '/')
        continue;
    }
    /* a segment ends at i */
    if (i > start) {
      if (is_dot_segment(path + start, i - start))
        return "denied: the path contains a '.' or '..' segment";
      if (n == RR_MATRIX_MAX_SEGMENTS)
        return "denied: the path has too many segments";
      segs[n].text = path + start;
      segs[n].len = i - start;
      n++;
    }
    start = i + 1;
  }
  *count = n;
  return NULL;
}

static unsigned parse_method(const char *method)
{
  if (method == NULL)
    return 0;
  if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
    return RR_METHOD_GET;
  if (strcmp(method, "POST") == 0)
    return RR_METHOD_POST;
  if (strcmp(method, "PUT") == 0)
    return RR_METHOD_PUT;
  if (strcmp(method, "DELETE") == 0)
    return RR_METHOD_DELETE;
  return 0;
}

static bool rule_matches(const rr_matrix *m, const compiled_rule *cr, const path_segment *segs, size_t count)
{
  size_t k;

  if (cr->tail ? count < cr->count : count != cr->count)
    return false;
  for (k = 0; k < cr->count; k++) {
    const segment *s = &m->segs[cr->first + k];
    if (s->kind == SEG_LITERAL && (s->len != segs[k].len || memcmp(s->text, segs[k].text, s->len) != 0))
      return false;
  }
  return true;
}

int rr_matrix_check_len(rr_matrix_decision *out, const rr_matrix *m, const char *method, const char *path, size_t pathlen,
                        unsigned roles)
{
  path_segment segs[RR_MATRIX_MAX_SEGMENTS];
  size_t count = 0, i;
  const char *reason;
  unsigned mbit, granted, flags;
  bool known = false;

  if (out == NULL)
    return RR_EINVAL;
  decide(out, false, -1, 0, "denied: no matrix");
  if (m == NULL)
    return RR_EINVAL;
  if ((mbit = parse_method(method)) == 0) {
    decide(out, false, -1, 0, "denied: HTTP method not supported");
    return 0;
  }
  if (path == NULL)
    pathlen = 0;
  if ((reason = split_path(segs, &count, path, pathlen)) != NULL) {
    decide(out, false, -1, 0, reason);
    return 0;
  }
  for (i = 0; i < RULE_COUNT; i++) {
    if (!rule_matches(m, &m->rules[i], segs, count))
      continue;
    known = true;
    if ((rules[i].methods & mbit) == 0)
      continue;
    granted = rules[i].roles & roles;
    if (granted == 0) {
      decide(out, false, (int)i, 0, "denied: the role is not allowed on this route");
      return 0;
    }
    flags = rules[i].flags;
    /* the study check restricts physicians only */
    if ((granted & ~RR_ROLE_PHYSICIAN) != 0)
      flags &= ~RR_RULE_STUDY_IMAGES;
    decide(out, true, (int)i, flags, "allowed by the role matrix");
    return 0;
  }
  /* a path no rule knows (with any method): administrators get Orthanc's
   * own answer (404 for a route that does not exist, another plugin's
   * pages); a known path with a method its rules leave out stays refused,
   * even for them (the audit trail is never changed through HTTP) */
  if (!known && (roles & RR_ROLE_ADMIN) != 0) {
    decide(out, true, RR_MATRIX_ADMIN_UNKNOWN_PATH, 0, "allowed: a path the role matrix does not know, for an administrator");
    return 0;
  }
  decide(out, false, -1, 0, "denied: no rule for this method and path (default deny)");
  return 0;
}

int rr_matrix_check(rr_matrix_decision *out, const rr_matrix *m, const char *method, const char *path, unsigned roles)
{
  return rr_matrix_check_len(out, m, method, path, path ? strlen(path) : 0, roles);
}

/* ------------------------------------------------------------ study check */

int rr_matrix_no_final_report(void *ctx, const char *orthanc_or_uid, const char *caller_name)
{
  (void)ctx;
  (void)orthanc_or_uid;
  (void)caller_name;
  return 0;
}

void rr_matrix_set_study_check(rr_matrix *m, rr_study_check_fn fn, void *ctx)
{
  if (m == NULL)
    return;
  m->study_check = fn ? fn : rr_matrix_no_final_report;
  m->study_ctx = fn ? ctx : NULL;
}

int rr_matrix_check_study(rr_matrix_decision *d, const rr_matrix *m, const char *orthanc_or_uid)
{
  return rr_matrix_check_study_as(d, m, orthanc_or_uid, "");
}

int rr_matrix_check_study_as(rr_matrix_decision *d, const rr_matrix *m, const char *orthanc_or_uid,
                             const char *caller_name)
{
  int answer;

  if (d == NULL || m == NULL) {
    if (d != NULL)
      decide(d, false, d->rule, 0, "denied: no matrix");
    return RR_EINVAL;
  }
  if (!d->allow || (d->flags & RR_RULE_STUDY_IMAGES) == 0)
    return 0;
  if (orthanc_or_uid == NULL || orthanc_or_uid[0] == '\0') {
    decide(d, false, d->rule, 0, "denied: the study of the request is unknown");
    return 0;
  }
  answer = m->study_check(m->study_ctx, orthanc_or_uid, caller_name ? caller_name : "");
  if (answer < 0) {
    decide(d, false, d->rule, 0, "denied: the study check failed");
    return answer;
  }
  if (answer != 1) {
    decide(d, false, d->rule, 0, "denied: physicians see images of studies with a final report only");
    return 0;
  }
  d->flags &= ~RR_RULE_STUDY_IMAGES;
  return 0;
}

/* ------------------------------------------------------------------ roles */

static const struct {
  unsigned bit;
  const char *name;
} role_names[] = {
  {RR_ROLE_ADMIN, "admin"},
  {RR_ROLE_RADIOLOGIST, "radiologist"},
  {RR_ROLE_TECHNICIAN, "technician"},
  {RR_ROLE_PHYSICIAN, "physician"},
  {RR_ROLE_ANONYMOUS, "anonymous"},
};

int rr_role_parse(unsigned *out, const char *name)
{
  size_t i;

  *out = 0;
  if (name == NULL)
    return RR_EINVAL;
  for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
    if ((role_names[i].bit & RR_ROLE_USERS) != 0 && strcmp(name, role_names[i].name) == 0) {
      *out = role_names[i].bit;
      return 0;
    }
  return RR_EINVAL;
}

const char *rr_role_name(unsigned role)
{
  size_t i;

  for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
    if (role_names[i].bit == role)
      return role_names[i].name;
  return "unknown";
}

/* ------------------------------------------------------------------ table */

size_t rr_matrix_rule_count(void)
{
  return RULE_COUNT;
}

const rr_matrix_rule *rr_matrix_rule_at(size_t i)
{
  return i < RULE_COUNT ? &rules[i] : NULL;
}

/* ----------------------------------------------------------- capabilities
 *
 * What the web app's sections need, each probed with the one route that
 * stands for it, so that the app's role rules come from this matrix rather
 * than a copy. "{x}" stands for any identifier.
 */
static const struct {
  const char *name, *method, *root, *path;
} capability_probes[RR_CAPABILITY_COUNT] = {
  {"worklist", "GET", "api", "dicom/studies"},
  /* a study's images (the study page and viewer); technicians may read a
   * study's details to see that it arrived, but not its images */
  {"study", "GET", "api", "dicom/instances/x/frames/0/png"},
  {"upload", "POST", "", "/instances"},
  {"users", "GET", "api", "users"},
  {"audit", "GET", "api", "audit"},
  {"system", "GET", "api", "admin/ingest"}, /* the System page: ingestion state and re-sync */
  {"ai", "POST", "api", "ai/analyze/x"},
  {"explorer", "GET", "", "/app/explorer.html"},
  /* the viewer's tools that write (measurements, key images, save to archive) */
  {"annotate", "PUT", "api", "dicom/studies/x/annotations/x"},
  /* the administrators' report templates page */
  {"templates", "PUT", "api", "reports/templates/x"},
  /* writing and signing reports */
  {"report", "POST", "api", "reports/x/sign"},
  /* reading reports (physicians: their final ones) */
  {"reports", "GET", "api", "reports"},
};

const char *rr_capability_name(size_t i)
{
  return i < RR_CAPABILITY_COUNT ? capability_probes[i].name : NULL;
}

size_t rr_matrix_capabilities(const char *out[RR_CAPABILITY_COUNT], const rr_matrix *m, unsigned roles)
{
  char path[RR_MATRIX_MAX_ROOT + 64];
  rr_matrix_decision d;
  size_t i, n = 0;

  if (m == NULL)
    return 0;
  for (i = 0; i < RR_CAPABILITY_COUNT; i++) {
    snprintf(path, sizeof(path), "%s%s", capability_probes[i].root[0] ? m->api_root : "", capability_probes[i].path);
    rr_matrix_check(&d, m, capability_probes[i].method, path, roles);
    if (d.allow)
      out[n++] = capability_probes[i].name;
  }
  return n;
}
