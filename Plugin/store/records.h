/*
 * records.h - the plain records the store keeps and the filters it takes:
 * studies, series, instances and the worklist query (index), users (identity),
 * audit records and their filter (audit), AI analyses and reviews (AI).
 * Strings are UTF-8, NUL-terminated and, in fixed-size fields, truncated at
 * a character boundary when longer than the field (see util/str.h).
 *
 * Memory: every record has fixed-size fields only and owns no memory, except
 * the long texts of rr_ai_analysis and rr_ai_review (char * fields). Those
 * the store returns are malloc'd and owned by the record: release them with
 * rr_ai_analysis_dispose or the lists' *_free (store_ai.h). Those a caller
 * passes in are borrowed for the call (NULL reads as "").
 */
#ifndef RR_STORE_RECORDS_H
#define RR_STORE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_UID_SIZE 65   /* 64 characters */
#define RR_OID_SIZE 64   /* Orthanc identifiers are 44 characters */
#define RR_DA_SIZE 9     /* YYYYMMDD */
#define RR_TM_SIZE 24
#define RR_PN_SIZE 400   /* three component groups of 64 characters, UTF-8 */
#define RR_LO_SIZE 260   /* 64 characters, UTF-8 */
#define RR_CS_SIZE 24
#define RR_MODS_SIZE 96  /* backslash-separated modalities */
#define RR_DS3_SIZE 80   /* ImagePositionPatient */
#define RR_DS6_SIZE 160  /* ImageOrientationPatient */
#define RR_USERNAME_SIZE 65  /* 64 bytes */

typedef enum rr_level {
  RR_LEVEL_PATIENT = 0,
  RR_LEVEL_STUDY,
  RR_LEVEL_SERIES,
  RR_LEVEL_INSTANCE
} rr_level;

typedef struct rr_study_rec {
  char orthanc_id[RR_OID_SIZE];
  char patient_orthanc_id[RR_OID_SIZE];
  char study_uid[RR_UID_SIZE];
  char patient_name[RR_PN_SIZE];
  char patient_id[RR_LO_SIZE];
  char patient_birth_date[RR_DA_SIZE];
  char patient_sex[RR_CS_SIZE];
  char study_date[RR_DA_SIZE];
  char study_time[RR_TM_SIZE];
  char study_description[RR_LO_SIZE];
  char accession_number[RR_LO_SIZE];
  char referring_physician[RR_PN_SIZE];
  char institution_name[RR_LO_SIZE];
  /* maintained by the store from the series: */
  char modalities[RR_MODS_SIZE];
  int64_t series_count;
  int64_t instance_count;
  int64_t received_at; /* unix seconds of the first ingestion */
  int64_t updated_at;  /* unix seconds of the last change */
  /* maintained by the store from the AI analyses (read-only here): */
  char ai_status[24];     /* status of the latest analysis, "" = none */
  char review_status[16]; /* review of the latest completed analysis, "" = none */
  /* maintained by the store from the reports (store_reports.h; read-only
   * here): the study's latest report, which is its open one when it has one */
  char report_state[24];  /* its state ("draft", ..., "cancelled"), "" = no report */
  int64_t report_id;      /* its id, 0 = none */
  bool report_critical;   /* flagged critical (and neither cancelled nor entered in
                             error) and acknowledged by no one yet, or, when the
                             query names report_ack_user, not by that user */
  char report_author[RR_USERNAME_SIZE]; /* who created the open report, "" = none open */
} rr_study_rec;

typedef struct rr_series_rec {
  char orthanc_id[RR_OID_SIZE];
  char study_orthanc_id[RR_OID_SIZE];
  char series_uid[RR_UID_SIZE];
  bool has_series_number;
  int64_t series_number;
  char modality[RR_CS_SIZE];
  char series_description[RR_LO_SIZE];
  char body_part[RR_LO_SIZE];
  int64_t instance_count; /* maintained by the store */
} rr_series_rec;

typedef struct rr_instance_rec {
  char orthanc_id[RR_OID_SIZE];
  char series_orthanc_id[RR_OID_SIZE];
  char sop_instance_uid[RR_UID_SIZE];
  char sop_class_uid[RR_UID_SIZE];
  char transfer_syntax[RR_UID_SIZE];
  bool has_instance_number;
  int64_t instance_number;
  int64_t number_of_frames;
  char image_position[RR_DS3_SIZE];    /* raw DS "x\y\z" or "" */
  char image_orientation[RR_DS6_SIZE]; /* raw DS, six values, or "" */
} rr_instance_rec;

/* One stored instance with its parents, as ingestion sees it. */
typedef struct rr_ingest_item {
  rr_study_rec study;
  rr_series_rec series;
  rr_instance_rec instance;
} rr_ingest_item;

/* ---- worklist query (already validated and normalised by api/query.c) ---- */

typedef enum rr_match_mode {
  RR_MATCH_NONE = 0, /* no filter */
  RR_MATCH_EXACT,    /* value equals */
  RR_MATCH_GLOB,     /* value is an SQLite-style GLOB pattern (see util/textnorm.h) */
  RR_MATCH_WORDS     /* value is folded words: each must prefix a word of the field */
} rr_match_mode;

#define RR_QUERY_VALUE_SIZE 512
#define RR_QUERY_MAX_WORDS 8
#define RR_QUERY_MAX_MODALITIES 16
#define RR_QUERY_MAX_STATES 12
#define RR_STATE_SIZE 24

typedef struct rr_match {
  rr_match_mode mode;
  char value[RR_QUERY_VALUE_SIZE];
} rr_match;

typedef enum rr_sort_key {
  RR_SORT_STUDY_DATE = 0,
  RR_SORT_PATIENT_NAME,
  RR_SORT_RECEIVED_AT
} rr_sort_key;

typedef struct rr_worklist_query {
  rr_match patient_name;    /* NONE, GLOB on the folded name, or WORDS */
  rr_match description;     /* NONE, GLOB on the folded description, or WORDS */
  rr_match text;            /* NONE or WORDS over every searchable field */
  rr_match patient_id;      /* NONE, EXACT or GLOB on the raw value */
  rr_match accession;       /* NONE, EXACT or GLOB on the raw value */
  char modalities[RR_QUERY_MAX_MODALITIES][RR_CS_SIZE];
  size_t modality_count;
  char date_from[RR_DA_SIZE]; /* "" = open */
  char date_to[RR_DA_SIZE];
  /* AI and review states of the study (see rr_study_rec); "" = no analysis */
  char ai_statuses[RR_QUERY_MAX_STATES][RR_STATE_SIZE];
  size_t ai_status_count;
  char review_statuses[RR_QUERY_MAX_STATES][RR_STATE_SIZE];
  size_t review_status_count;
  /* the study's report (see rr_study_rec): "" = any; "unreported" = no open
   * report or one in state draft; "mine" = an open report in state draft
   * created by report_user (compared case-insensitively); "preliminary";
   * "final" = final, appended or corrected; "critical" = report_critical
   * (see rr_study_rec). Anything else is RR_EINVAL. */
  char report[16];
  char report_user[RR_USERNAME_SIZE];
  /* "" or a user (a physician): then report_critical and the "critical"
   * filter mean "not acknowledged by this user" instead of "by no one" */
  char report_ack_user[RR_USERNAME_SIZE];
  rr_sort_key sort;
  bool descending;
  uint32_t limit;
  uint32_t offset;
} rr_worklist_query;

/* ---- access control (users, revoked tokens, audit trail) ---- */

#define RR_ROLE_SIZE 16
#define RR_HASH_HEX_SIZE 65  /* SHA-256 as hex */

typedef struct rr_user_rec {
  char username[RR_USERNAME_SIZE];  /* unique, compared case-insensitively */
  char display_name[128];
  char role[RR_ROLE_SIZE];          /* "admin", "radiologist", "technician", "physician" */
  char password_hash[256];          /* encoded Argon2id */
  bool enabled;
  int64_t created_at;
  int64_t updated_at;
  int64_t password_changed_at;
  int64_t last_login_at;
  int64_t failed_logins;
  int64_t locked_until;             /* unix seconds; 0 = not locked */
  int64_t token_generation;         /* tokens of an older generation are refused */
} rr_user_rec;

typedef struct rr_audit_rec {
  int64_t seq;                      /* assigned by the store, increasing */
  int64_t at_ms;                    /* unix milliseconds */
  char username[RR_USERNAME_SIZE];
  char role[RR_ROLE_SIZE];
  char source[64];                  /* client address */
  char action[48];                  /* e.g. "login", "study.view" */
  char resource[128];               /* e.g. a StudyInstanceUID, a user name */
  char outcome[16];                 /* "success", "failure", "denied" */
  char detail[256];                 /* never passwords, tokens or patient names */
  char prev_hash[RR_HASH_HEX_SIZE];
  char hash[RR_HASH_HEX_SIZE];
} rr_audit_rec;

typedef struct rr_audit_filter {
  char username[RR_USERNAME_SIZE];  /* "" = any */
  char action[48];
  char resource[128];
  int64_t from_ms;                  /* 0 = open */
  int64_t to_ms;                    /* 0 = open */
  int64_t after_seq;                /* ascending pages: seq > after_seq */
  int64_t before_seq;               /* descending pages: seq < before_seq (0 = newest) */
  bool descending;
  uint32_t limit;
} rr_audit_filter;

/* ---- AI analyses ---- */

#define RR_AI_ID_SIZE 33 /* 32 hex digits */

/* One analysis. Long texts are malloc'd (NULL reads as ""); release them
 * with rr_ai_analysis_dispose (store_ai.h). */
typedef struct rr_ai_analysis {
  char id[RR_AI_ID_SIZE];
  char study_uid[RR_UID_SIZE];
  char orthanc_study_id[RR_OID_SIZE];
  char provider[32];
  char model_requested[128];
  char model_version[128];
  char status[24];        /* queued, running, completed, invalid, blocked, safety, truncated, refused, failed, cancelled */
  char requested_by[RR_USERNAME_SIZE];
  int64_t requested_at, started_at, finished_at;
  int64_t attempts;
  char *summary;
  char *findings_json;    /* validated findings (JSON text) */
  char ai_confidence[8];  /* overall confidence: low, medium, high; "" when none */
  bool has_ai_confidence_score;
  double ai_confidence_score; /* the model's number in [0, 1] when it gave one (findings-1 analyses) */
  char *images_json;      /* [{"sopInstanceUid","frame","sha256"}] */
  char prompt_version[32];
  char schema_version[32];
  int64_t prompt_tokens, completion_tokens, latency_ms;
  double cost;
  char *error;
  char *raw_text;         /* the model's answer when it did not validate */
  char review_status[16]; /* pending, confirmed, rejected, modified */
  char reviewed_by[RR_USERNAME_SIZE];
  int64_t reviewed_at;
  char *radiologist_notes;
} rr_ai_analysis;

/* One review of an analysis; notes and feedback_json are owned as said at
 * the top of this file. */
typedef struct rr_ai_review {
  int64_t seq;
  char analysis_id[RR_AI_ID_SIZE];
  int64_t at;
  char reviewer[RR_USERNAME_SIZE];
  char review_status[16];
  char *notes;
  char *feedback_json;    /* per-finding feedback */
} rr_ai_review;

#endif
