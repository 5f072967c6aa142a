/*
 * modality_mask.h - the modalities that get a bit of a study's modality
 * mask (studies.mod_mask in the SQLite and PostgreSQL backends), so that a
 * worklist filter by modality is one AND on an integer. Any other modality
 * is answered through the search terms (kind 'M'). The bit order is stored
 * in databases: append new modalities at the end, never reorder.
 * Pure functions; any thread.
 */
#ifndef RR_STORE_MODALITY_MASK_H
#define RR_STORE_MODALITY_MASK_H

#include <stddef.h>
#include <stdint.h>

/* The bit of modality[0..len), 0 for a modality without one. */
int64_t rr_modality_bit(const char *modality, size_t len);
/* The mask of a backslash-separated modality list ("CT\\SR"). */
int64_t rr_modality_mask(const char *modalities);

#endif
