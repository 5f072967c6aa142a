/*
 * store_annotations.h - the annotations concern of the store: the viewer's
 * measurements and annotations of a study, and its key images.
 *
 * An annotation is keyed by (study UID, annotation uid); its image (series,
 * SOP instance, frame) and tool never change once stored; its label and
 * data (an opaque JSON object the viewer writes: world coordinates, values)
 * do, by its author only, each change adding one to `version` (optimistic
 * concurrency: a writer names the version it changed and loses when another
 * change came first). Key images are keyed by (study UID, SOP Instance UID,
 * frame) and shared by everyone who may write.
 *
 * rr_store_annotations_ops is the table a backend fills (see store.h for the
 * contract every operation shares). Annotations read from the store own
 * their data text: release lists with their *_free, one annotation with
 * rr_annotation_dispose.
 */
#ifndef RR_STORE_ANNOTATIONS_H
#define RR_STORE_ANNOTATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

typedef struct rr_store rr_store;

#define RR_ANNOTATION_UID_SIZE 65   /* 1..64 of [A-Za-z0-9._-] */
#define RR_ANNOTATION_TOOL_SIZE 32
#define RR_ANNOTATION_LABEL_SIZE 1025 /* 256 characters of UTF-8 at most */
#define RR_ANNOTATION_DATA_MAX 65536 /* bytes of the serialised data object */

typedef struct rr_annotation {
  char study_uid[RR_UID_SIZE];
  char annotation_uid[RR_ANNOTATION_UID_SIZE];
  char series_uid[RR_UID_SIZE];
  char sop_uid[RR_UID_SIZE];
  int64_t frame; /* 1-based */
  char tool[RR_ANNOTATION_TOOL_SIZE];
  char label[RR_ANNOTATION_LABEL_SIZE];
  char *data_json; /* owned; a JSON object of at most RR_ANNOTATION_DATA_MAX bytes */
  char author[RR_USERNAME_SIZE];
  int64_t created_at, updated_at; /* ms since the epoch */
  int64_t version;                /* 1 when created */
} rr_annotation;

/* Release the data text of an annotation and zero it; accepts NULL. */
void rr_annotation_dispose(rr_annotation *a);

typedef struct rr_annotation_list {
  rr_annotation *items;
  size_t count;
} rr_annotation_list;
void rr_annotation_list_free(rr_annotation_list *list);

typedef struct rr_key_image {
  char study_uid[RR_UID_SIZE];
  char sop_uid[RR_UID_SIZE];
  int64_t frame; /* 1-based */
  char series_uid[RR_UID_SIZE];
  char author[RR_USERNAME_SIZE];
  int64_t created_at; /* ms since the epoch */
} rr_key_image;

typedef struct rr_key_image_list {
  rr_key_image *items;
  size_t count;
} rr_key_image_list;
void rr_key_image_list_free(rr_key_image_list *list);

/* What a backend implements for this concern; `impl` is its handle. */
typedef struct rr_store_annotations_ops {
  int (*put)(void *impl, rr_annotation *out, bool *created, const rr_annotation *a, int64_t expected_version,
             int64_t now, char *err, size_t errsize);
  int (*remove)(void *impl, const char *study_uid, const char *annotation_uid, const char *author,
                int64_t expected_version, char *err, size_t errsize);
  int (*list)(void *impl, rr_annotation_list **out, const char *study_uid, char *err, size_t errsize);
  int (*key_mark)(void *impl, bool *created, const rr_key_image *k, int64_t now, char *err, size_t errsize);
  int (*key_unmark)(void *impl, const char *study_uid, const char *sop_uid, int64_t frame, char *err,
                    size_t errsize);
  int (*key_list)(void *impl, rr_key_image_list **out, const char *study_uid, char *err, size_t errsize);
} rr_store_annotations_ops;

/*
 * put: creates the annotation a (study, uid, image, tool, label, data, author
 * as given; version 1, created_at = updated_at = now) when its uid is new in
 * its study, else changes its label and data (version + 1, updated_at = now).
 * *out (may be NULL; dispose it) receives the stored annotation, *created
 * (may be NULL) whether it was new. All in one transaction:
 *   RR_EDENIED    the stored annotation has another author (nothing changed);
 *   RR_ESTALE     expected_version > 0 and it is not the stored version (also
 *                 when there is none to change);
 *   RR_ECONFLICT  a change names another series, SOP instance, frame or tool.
 * remove: deletes it (author and expected_version as for put); RR_ENOTFOUND
 * when the study has no such annotation.
 * list: the study's annotations, oldest first (creation time, then uid).
 * key_mark: marks an image (*created false when it was marked already: the
 * first mark is kept); key_unmark: RR_ENOTFOUND when it was not marked;
 * key_list: the study's key images, oldest first.
 */
int rr_store_annotation_put(rr_store *s, rr_annotation *out, bool *created, const rr_annotation *a,
                            int64_t expected_version, int64_t now, char *err, size_t errsize);
int rr_store_annotation_remove(rr_store *s, const char *study_uid, const char *annotation_uid, const char *author,
                               int64_t expected_version, char *err, size_t errsize);
int rr_store_annotation_list(rr_store *s, rr_annotation_list **out, const char *study_uid, char *err,
                             size_t errsize);
int rr_store_key_image_mark(rr_store *s, bool *created, const rr_key_image *k, int64_t now, char *err,
                            size_t errsize);
int rr_store_key_image_unmark(rr_store *s, const char *study_uid, const char *sop_uid, int64_t frame, char *err,
                              size_t errsize);
int rr_store_key_image_list(rr_store *s, rr_key_image_list **out, const char *study_uid, char *err,
                            size_t errsize);

#endif
