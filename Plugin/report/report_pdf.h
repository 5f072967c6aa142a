/*
 * report_pdf.h - one signed version of a report (rr_report_doc) as a PDF, the
 * printed hospital report: institution header, patient and study
 * identification, title, the template's sections and their items, the
 * AI-assisted findings marked as such with their analysis reference, key
 * images (two per row, with captions), the critical result and its
 * communication, the signature block, the addenda in order, a correction's
 * reason, a "PRELIMINARY — not final" banner and watermark on every page of a
 * preliminary version, and "Page n of N" with the report id and version in
 * every page's footer.
 *
 * Rendering: Cairo's PDF surface and Pango (shaping, bidirectional text,
 * font fallback through fontconfig: Noto for every script, DejaVu as a last
 * resort). Text from the doc is never read as Pango markup (it is laid out
 * with pango_layout_set_text and styled by attribute ranges), so "<b>" or
 * "&amp;" print as they are. Two passes: the first lays the document out
 * and counts the pages, the second draws it.
 *
 * Deterministic: the PDF's creation date is doc->signed_at (none when 0),
 * its title "Report <id> v<version>: <title>"; the same doc and options give
 * the same bytes (the Pango context's language is fixed, not taken from the
 * process locale; times are printed in UTC).
 *
 * Bounded: a doc whose text exceeds RR_REPORT_PDF_MAX_TEXT bytes, with more
 * than RR_REPORT_PDF_MAX_IMAGES key images, or that would make more than
 * RR_REPORT_PDF_MAX_PAGES pages is refused (RR_EINVAL); the PDF itself is
 * capped at RR_REPORT_PDF_MAX_BYTES (RR_EFULL).
 *
 * Threads: safe to call from any thread, also one with a small stack (an
 * HTTP worker's: renders were tested on 64 KB). Fontconfig and the one Pango
 * font map are initialised once (pthread_once) on a thread of this module's
 * with a 16 MB stack (fontconfig's configuration parser recurses deeply)
 * and kept until the process ends;
 * renders are serialised by one mutex inside this module (Pango's font map
 * and its caches are not safe to share between concurrent layouts), so a
 * second caller waits for the first (a 3-page report with 4 key images takes
 * tens of milliseconds, bench/README.md).
 *
 * Errors: RR_EINVAL (NULL doc or output, unknown paper, a key image that is
 * not a PNG, a doc over the bounds), RR_ENOMEM, RR_EFULL, RR_ERROR (Cairo or
 * Pango failed); each with a sentence in err.
 */
#ifndef RR_REPORT_REPORT_PDF_H
#define RR_REPORT_REPORT_PDF_H

#include <stddef.h>

#include "report/report_doc.h"

#define RR_REPORT_PDF_MAX_PAGES 200
#define RR_REPORT_PDF_MAX_TEXT (4u * 1024u * 1024u)
#define RR_REPORT_PDF_MAX_IMAGES 64
#define RR_REPORT_PDF_MAX_BYTES (256u * 1024u * 1024u)

typedef struct rr_report_pdf_options {
  const char *paper; /* "A4" (default, also for NULL) or "Letter", case-insensitive */
} rr_report_pdf_options;

/* Render `doc` as a PDF into *out (malloc'd, caller frees with free()) of
 * *out_size bytes. `opt` may be NULL (A4). On failure *out is NULL, *out_size
 * 0, and err holds the reason. */
int rr_report_pdf_render(unsigned char **out, size_t *out_size, const rr_report_doc *doc,
                         const rr_report_pdf_options *opt, char *err, size_t errsize);

/* The patient name of a DICOM PN made readable, as printed in the report:
 * "Doe^John^Q^Dr^Jr" → "Dr DOE, John Q, Jr" (family name upper-cased),
 * and the ideographic and phonetic groups after "=" kept, their components
 * separated by spaces: "Yamada^Tarou=山田^太郎=やまだ^たろう" →
 * "YAMADA, Tarou = 山田 太郎 = やまだ たろう". NULL or "" gives "".
 * Returns 0, RR_ENOMEM or RR_EFULL (more than outsize-1 bytes; out holds
 * ""). */
int rr_report_pdf_person_name(char *out, size_t outsize, const char *pn);

#endif
