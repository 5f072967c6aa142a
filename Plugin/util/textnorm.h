/*
 * textnorm.h - search normalisation of UTF-8 text (names, descriptions).
 *
 * Folding makes text case- and accent-insensitive for search: Latin letters
 * lose diacritics and become upper case ASCII (ß -> SS, Æ -> AE), Greek and
 * Cyrillic letters become upper case without tonos/diaeresis, combining marks
 * are dropped, other scripts (CJK, Hebrew, Arabic, ...) are kept as they are.
 * DICOM separators (^ =), punctuation and white space become one space;
 * apostrophes vanish ("O'Brien" -> "OBRIEN"). The result is trimmed.
 * In pattern mode the DICOM wildcards * and ? are kept.
 *
 * Every function is pure and thread-safe; output goes to a caller's rr_buf.
 */
#ifndef RR_UTIL_TEXTNORM_H
#define RR_UTIL_TEXTNORM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Append the folded form of in[0..len) to out. */
int rr_text_fold(rr_buf *out, const char *in, size_t len, bool pattern);

/* Does the text hold a DICOM wildcard (* or ?)? */
bool rr_text_has_wildcard(const char *s);

/* Append an SQLite GLOB pattern equivalent to the DICOM wildcard pattern
 * `pattern`: * and ? keep their meaning, every other character is literal
 * ([ is written as [[]). */
int rr_text_glob(rr_buf *out, const char *pattern);

/* Iterate over the space-separated words of folded text. *pos starts at 0;
 * returns false when there are no more words. */
bool rr_text_next_word(const char *folded, size_t *pos, const char **word, size_t *wordlen);

#endif
