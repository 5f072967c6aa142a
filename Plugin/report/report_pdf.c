/*
 * report_pdf.c - the report as a PDF with Cairo and Pango (contract in
 * report_pdf.h).
 *
 * Layout: one content column between fixed margins. lay_out() walks the doc
 * top to bottom, placing blocks at p->y and starting a page when a block (or
 * a line of a paragraph: paragraphs are split between pages line by line)
 * does not fit above the footer. The same walk runs twice: first with no
 * Cairo context (p->cr == NULL: layouts are measured, nothing drawn) to count
 * the pages, then drawing, so every footer can say "Page n of N". All text
 * goes through Pango layouts made from one context per render whose font
 * options (no hinting) and language are fixed, so both passes measure alike
 * and the bytes depend only on the doc.
 */
#include "report/report_pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/big_stack.h"
#include "util/errors.h"
#include "util/str.h"

#define FONT "Noto Sans, DejaVu Sans, sans-serif"
#define MARGIN 48.0       /* pt, every side */
#define FOOTER_H 26.0     /* footer band above the bottom margin */
#define BANNER_H 22.0     /* the PRELIMINARY banner */
#define RUNNING_H 20.0    /* pages 2..N: the patient line on top */
#define IMAGE_GAP 14.0
#define IMAGE_MAX_H 230.0 /* pt, a key image's drawn height at most */
#define IMAGE_MAX_SIDE 8192u
#define IMAGE_MAX_PIXELS (4096u * 4096u)
#define BAR_W 3.0         /* the coloured bar left of a marked block */
#define BAR_INDENT 9.0

typedef struct rgb {
  double r, g, b;
} rgb;

static const rgb INK = {0.08, 0.08, 0.10};
static const rgb GREY = {0.38, 0.40, 0.44};
static const rgb RULE = {0.70, 0.72, 0.76};
static const rgb HEAD = {0.10, 0.22, 0.40};
static const rgb AI_BLUE = {0.12, 0.38, 0.78};
static const rgb CRIT_RED = {0.75, 0.08, 0.08};
static const rgb CORR_ORANGE = {0.85, 0.45, 0.05};
static const rgb BOX_FILL = {0.95, 0.96, 0.97};

/* -------------------------------------------------- once: fonts, one lock */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static PangoFontMap *g_fontmap; /* kept until the process ends */

/* Fontconfig's set-up (FcInit: its configuration parser recursing through
 * the XML files, and the first fallback search) needs more stack than an
 * HTTP server's worker threads have: it runs once on a thread of its own
 * with a large stack (util/big_stack.h), and lays out one line in every script there so that the
 * fonts of each are found before any caller's render. */
static void init_fonts(void *unused)
{
  (void)unused;
  if (!FcInit())
    return;
  PangoFontMap *map = pango_cairo_font_map_new();
  if (map == NULL)
    return;
  pango_cairo_font_map_set_resolution(PANGO_CAIRO_FONT_MAP(map), 72.0);
  PangoContext *ctx = pango_font_map_create_context(map);
  PangoLayout *l = ctx != NULL ? pango_layout_new(ctx) : NULL;
  if (l != NULL) {
    PangoFontDescription *fd = pango_font_description_from_string(FONT " 10");
    int w, h;
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_text(l, "Aé Ω Ж \u0642\u0628 \u05e9\u05e8 \u5c71\u7530 \u3084\u307e \ud64d", -1);
    pango_layout_get_size(l, &w, &h);
    g_object_unref(l);
  }
  if (ctx != NULL)
    g_object_unref(ctx);
  g_fontmap = map;
}

static void init_once(void)
{
  (void)rr_big_stack_run(init_fonts, NULL, 0); /* no thread: g_fontmap stays NULL, renders fail */
}

/* ----------------------------------------------------------- the renderer */

typedef struct pdf {
  const rr_report_doc *doc;
  PangoContext *pctx;
  cairo_t *cr;         /* NULL while measuring */
  double pw, ph;       /* page size in pt */
  double left, width;  /* the content column */
  double bottom;       /* lowest y of the body on every page */
  double y;            /* where the next block goes */
  double page_top;     /* where the body of the current page starts */
  int page;            /* the current page, 1-based */
  int pages;           /* the total (known when drawing) */
  int rc;              /* the first failure */
  char *err;
  size_t errsize;
  bool preliminary;
  char name[1024];     /* the patient name, readable */
} pdf;

static bool failed(const pdf *p)
{
  return p->rc != 0;
}

static void set_ink(pdf *p, rgb c)
{
  if (p->cr != NULL)
    cairo_set_source_rgb(p->cr, c.r, c.g, c.b);
}

static const char *nz(const char *s)
{
  return s != NULL ? s : "";
}

/* A layout of `text` (untrusted: never markup; invalid UTF-8 repaired) in
 * `size` pt, `width` pt wide (0: one unbounded line), bold when `weight` is
 * PANGO_WEIGHT_BOLD, at most `max_lines` lines (0: no limit; more are cut
 * with an ellipsis), its first `bold_prefix` bytes bold. NULL when out of
 * memory (p->rc set). */
static PangoLayout *text_layout(pdf *p, const char *text, double size, PangoWeight weight,
                                double width, int max_lines, size_t bold_prefix)
{
  PangoLayout *l = pango_layout_new(p->pctx);
  PangoFontDescription *fd = pango_font_description_from_string(FONT);
  gchar *valid = g_utf8_make_valid(nz(text), -1);

  if (l == NULL || fd == NULL || valid == NULL) {
    if (l != NULL)
      g_object_unref(l);
    pango_font_description_free(fd);
    g_free(valid);
    p->rc = rr_fail(p->err, p->errsize, RR_ENOMEM, "out of memory laying out the report");
    return NULL;
  }
  pango_font_description_set_size(fd, (gint)(size * PANGO_SCALE));
  pango_font_description_set_weight(fd, weight);
  pango_layout_set_font_description(l, fd);
  pango_font_description_free(fd);
  if (width > 0) {
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
  }
  if (max_lines > 0) {
    pango_layout_set_height(l, -max_lines);
    pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
  }
  pango_layout_set_text(l, valid, -1);
  if (bold_prefix > 0) {
    PangoAttrList *attrs = pango_attr_list_new();
    PangoAttribute *a = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
    a->start_index = 0;
    a->end_index = (guint)(bold_prefix < strlen(valid) ? bold_prefix : strlen(valid));
    pango_attr_list_insert(attrs, a);
    pango_layout_set_attributes(l, attrs);
    pango_attr_list_unref(attrs);
  }
  g_free(valid);
  return l;
}

static double layout_height(PangoLayout *l)
{
  int w, h;

  pango_layout_get_size(l, &w, &h);
  return (double)h / PANGO_SCALE;
}

static double layout_width(PangoLayout *l)
{
  int w, h;

  pango_layout_get_size(l, &w, &h);
  return (double)w / PANGO_SCALE;
}

static void draw_layout(pdf *p, PangoLayout *l, double x, double y, rgb c)
{
  if (p->cr == NULL || l == NULL)
    return;
  set_ink(p, c);
  cairo_move_to(p->cr, x, y);
  pango_cairo_show_layout(p->cr, l);
}

/* One line of small text at (x, y), `align` 0 left, 1 right of x. */
static void draw_text(pdf *p, const char *text, double size, PangoWeight weight, double x, double y,
                      int align, rgb c)
{
  PangoLayout *l;

  if (p->cr == NULL || failed(p))
    return;
  l = text_layout(p, text, size, weight, 0, 0, 0);
  if (l == NULL)
    return;
  draw_layout(p, l, align ? x - layout_width(l) : x, y, c);
  g_object_unref(l);
}

static void hrule(pdf *p, double y, double lw, rgb c)
{
  if (p->cr == NULL)
    return;
  set_ink(p, c);
  cairo_set_line_width(p->cr, lw);
  cairo_move_to(p->cr, p->left, y);
  cairo_line_to(p->cr, p->left + p->width, y);
  cairo_stroke(p->cr);
}

static void fill_rect(pdf *p, double x, double y, double w, double h, rgb c, double alpha)
{
  if (p->cr == NULL)
    return;
  cairo_set_source_rgba(p->cr, c.r, c.g, c.b, alpha);
  cairo_rectangle(p->cr, x, y, w, h);
  cairo_fill(p->cr);
}

/* ------------------------------------------------------------ formatting */

/* DICOM DA "YYYYMMDD" as "YYYY-MM-DD"; anything else as it is. */
static void fmt_da(char *out, size_t size, const char *da)
{
  if (da != NULL && strlen(da) == 8 && rr_date_valid(da))
    snprintf(out, size, "%.4s-%.2s-%.2s", da, da + 4, da + 6);
  else
    rr_str_copy(out, size, nz(da));
}

/* Unix ms as "YYYY-MM-DD HH:MM UTC" ("" for 0). */
static void fmt_time(char *out, size_t size, int64_t ms)
{
  struct tm tm;
  time_t t = (time_t)(ms / 1000);

  if (ms <= 0 || gmtime_r(&t, &tm) == NULL) {
    rr_str_copy(out, size, "");
    return;
  }
  snprintf(out, size, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min);
}

/* Study date and time: "2026-12-01 14:03" (TM "HHMMSS.ffffff" cut to HH:MM). */
static void fmt_study_when(char *out, size_t size, const char *da, const char *tm)
{
  char d[64];

  fmt_da(d, sizeof(d), da);
  if (tm != NULL && strlen(tm) >= 4 && d[0] != '\0')
    snprintf(out, size, "%s %.2s:%.2s", d, tm, tm + 2);
  else
    rr_str_copy(out, size, d);
}

static const char *sex_text(const char *s)
{
  if (s == NULL)
    return "";
  if (strcmp(s, "M") == 0)
    return "Male";
  if (strcmp(s, "F") == 0)
    return "Female";
  if (strcmp(s, "O") == 0)
    return "Other";
  return s;
}

/* Append component `s` (n bytes, spaces trimmed) to b after `sep` when both
 * are non-empty; `upper` upper-cases it (Unicode, g_utf8_strup). */
static int pn_put(rr_buf *b, const char *s, size_t n, const char *sep, bool upper)
{
  int rc;

  while (n > 0 && (*s == ' ' || *s == '\0'))
    s++, n--;
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\0'))
    n--;
  if (n == 0)
    return 0;
  if (b->len > 0 && (rc = rr_buf_puts(b, sep)) != 0)
    return rc;
  if (!upper)
    return rr_buf_append(b, s, n);
  gchar *valid = g_utf8_make_valid(s, (gssize)n);
  gchar *up = valid != NULL ? g_utf8_strup(valid, -1) : NULL;
  rc = up != NULL ? rr_buf_puts(b, up) : RR_ENOMEM;
  g_free(up);
  g_free(valid);
  return rc;
}

/* One component group ("Doe^John^Q^Dr^Jr") into b. The first (alphabetic)
 * group reads "Dr DOE, John Q, Jr"; the others "山田 太郎". */
static int pn_group(rr_buf *b, const char *g, size_t n, bool first)
{
  const char *c[5] = {"", "", "", "", ""};
  size_t len[5] = {0, 0, 0, 0, 0};
  size_t k = 0, start = 0;
  rr_buf t;
  int rc = 0;

  for (size_t i = 0; i <= n && k < 5; i++)
    if (i == n || g[i] == '^') {
      c[k] = g + start;
      len[k++] = i - start;
      start = i + 1;
    }
  rr_buf_init(&t, b->max);
  if (first) {
    size_t before;
    if ((rc = pn_put(&t, c[3], len[3], " ", false)) != 0 || (rc = pn_put(&t, c[0], len[0], " ", true)) != 0)
      goto out;
    before = t.len;
    if ((rc = pn_put(&t, c[1], len[1], before > 0 ? ", " : "", false)) != 0 ||
        (rc = pn_put(&t, c[2], len[2], " ", false)) != 0 || (rc = pn_put(&t, c[4], len[4], ", ", false)) != 0)
      goto out;
  } else {
    for (size_t i = 0; i < 5 && rc == 0; i++)
      rc = pn_put(&t, c[i], len[i], " ", false);
  }
  if (rc == 0 && t.len > 0)
    rc = pn_put(b, t.ptr, t.len, " = ", false);
out:
  rr_buf_dispose(&t);
  return rc;
}

int rr_report_pdf_person_name(char *out, size_t outsize, const char *pn)
{
  rr_buf b;
  size_t n, start = 0;
  int rc = 0, group = 0;

  if (out == NULL || outsize == 0)
    return RR_EINVAL;
  out[0] = '\0';
  if (pn == NULL)
    return 0;
  n = strlen(pn);
  rr_buf_init(&b, outsize - 1);
  for (size_t i = 0; i <= n && rc == 0; i++)
    if (i == n || pn[i] == '=') {
      if (group < 3)
        rc = pn_group(&b, pn + start, i - start, group == 0);
      group++;
      start = i + 1;
    }
  if (rc == 0 && b.len > 0)
    memcpy(out, b.ptr, b.len + 1);
  rr_buf_dispose(&b);
  return rc;
}

/* ------------------------------------------------------ pages and flowing */

static void page_decorations(pdf *p);

static void page_begin(pdf *p)
{
  p->y = MARGIN;
  if (p->preliminary)
    p->y += BANNER_H + 8;
  if (p->page > 1)
    p->y += RUNNING_H;
  p->page_top = p->y;
  page_decorations(p);
}

static void new_page(pdf *p)
{
  if (failed(p))
    return;
  if (p->cr != NULL)
    cairo_show_page(p->cr);
  p->page++;
  if (p->page > RR_REPORT_PDF_MAX_PAGES) {
    p->rc = rr_fail(p->err, p->errsize, RR_EINVAL,
                    "the report would need more than %d pages; shorten its text or its key images",
                    RR_REPORT_PDF_MAX_PAGES);
    return;
  }
  page_begin(p);
}

/* Start a page unless `h` pt fit below p->y. On a page still empty a block
 * taller than the page stays (and overflows it: callers bound their blocks),
 * so no block can start pages without end. */
static void ensure(pdf *p, double h)
{
  if (p->y + h > p->bottom && p->y > p->page_top + 0.5)
    new_page(p);
}

/* Place layout `l` at x, line by line, continuing on the next page when a
 * line does not fit; `bar` (when not NULL) draws a coloured bar left of x
 * beside every line. Advances p->y past it. */
static void flow(pdf *p, PangoLayout *l, double x, const rgb *bar, rgb ink)
{
  PangoLayoutIter *it;
  double origin = p->y; /* page y of the layout's y = 0 */

  if (l == NULL || failed(p))
    return;
  it = pango_layout_get_iter(l);
  do {
    PangoRectangle lr;
    pango_layout_iter_get_line_extents(it, NULL, &lr);
    double top = (double)lr.y / PANGO_SCALE, h = (double)lr.height / PANGO_SCALE;
    if (origin + top + h > p->bottom) {
      new_page(p);
      if (failed(p))
        break;
      origin = p->y - top;
    }
    if (p->cr != NULL) {
      if (bar != NULL)
        fill_rect(p, x - BAR_INDENT, origin + top, BAR_W, h, *bar, 1.0);
      set_ink(p, ink);
      cairo_move_to(p->cr, x + (double)lr.x / PANGO_SCALE,
                    origin + (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE);
      pango_cairo_show_layout_line(p->cr, pango_layout_iter_get_line_readonly(it));
    }
    p->y = origin + top + h;
  } while (pango_layout_iter_next_line(it));
  pango_layout_iter_free(it);
}

/* A paragraph: text in the column (from x_indent on), its first
 * `bold_prefix` bytes bold, then `after` pt of space. */
static void paragraph(pdf *p, const char *text, double size, PangoWeight weight, size_t bold_prefix,
                      double x_indent, const rgb *bar, rgb ink, double after)
{
  PangoLayout *l;

  if (failed(p))
    return;
  l = text_layout(p, text, size, weight, p->width - x_indent, 0, bold_prefix);
  if (l == NULL)
    return;
  flow(p, l, p->left + x_indent, bar, ink);
  g_object_unref(l);
  p->y += after;
}

/* "Label: text" with the label bold (no label: the text alone). */
static void labelled(pdf *p, const char *label, const char *text, double size, double x_indent,
                     const rgb *bar, rgb ink, double after)
{
  rr_buf b;
  size_t prefix = 0;

  rr_buf_init(&b, RR_REPORT_PDF_MAX_TEXT + 1024);
  if (label != NULL && label[0] != '\0') {
    if (rr_buf_puts(&b, label) != 0 || rr_buf_puts(&b, ": ") != 0)
      goto oom;
    prefix = b.len;
  }
  if (rr_buf_puts(&b, nz(text)) != 0)
    goto oom;
  paragraph(p, b.ptr != NULL ? b.ptr : "", size, PANGO_WEIGHT_NORMAL, prefix, x_indent, bar, ink, after);
  rr_buf_dispose(&b);
  return;
oom:
  rr_buf_dispose(&b);
  p->rc = rr_fail(p->err, p->errsize, RR_ENOMEM, "out of memory laying out the report");
}

static void section_heading(pdf *p, const char *title, rgb c)
{
  PangoLayout *l;

  if (failed(p))
    return;
  p->y += 10;
  l = text_layout(p, title, 11.5, PANGO_WEIGHT_BOLD, p->width, 2, 0);
  if (l == NULL)
    return;
  ensure(p, layout_height(l) + 4 + 30); /* keep the heading with what follows */
  if (!failed(p)) {
    draw_layout(p, l, p->left, p->y, c);
    p->y += layout_height(l) + 2;
    hrule(p, p->y, 0.5, RULE);
    p->y += 5;
  }
  g_object_unref(l);
}

/* -------------------------------------------------------- page furniture */

static const char *status_word(const rr_report_doc *d)
{
  if (d->status != NULL && strcmp(d->status, "preliminary") == 0)
    return "Preliminary";
  if (d->kind != NULL && strcmp(d->kind, "correction") == 0)
    return "Final, corrected";
  if (d->addendum_count > 0)
    return "Final, with addenda";
  return "Final";
}

static void watermark(pdf *p)
{
  PangoLayout *l = text_layout(p, "PRELIMINARY", 88, PANGO_WEIGHT_BOLD, 0, 0, 0);

  if (l == NULL)
    return;
  cairo_save(p->cr);
  cairo_translate(p->cr, p->pw / 2, p->ph / 2);
  cairo_rotate(p->cr, -atan2(p->ph, p->pw));
  cairo_set_source_rgba(p->cr, CRIT_RED.r, CRIT_RED.g, CRIT_RED.b, 0.11);
  cairo_move_to(p->cr, -layout_width(l) / 2, -layout_height(l) / 2);
  pango_cairo_show_layout(p->cr, l);
  cairo_restore(p->cr);
  g_object_unref(l);
}

static void banner(pdf *p)
{
  PangoLayout *l = text_layout(p, "PRELIMINARY \u2014 not final", 10.5, PANGO_WEIGHT_BOLD, 0, 0, 0);

  if (l == NULL)
    return;
  fill_rect(p, p->left, MARGIN, p->width, BANNER_H, CRIT_RED, 0.10);
  cairo_set_source_rgb(p->cr, CRIT_RED.r, CRIT_RED.g, CRIT_RED.b);
  cairo_set_line_width(p->cr, 0.8);
  cairo_rectangle(p->cr, p->left, MARGIN, p->width, BANNER_H);
  cairo_stroke(p->cr);
  draw_layout(p, l, p->left + (p->width - layout_width(l)) / 2, MARGIN + (BANNER_H - layout_height(l)) / 2,
              CRIT_RED);
  g_object_unref(l);
}

/* Pages 2..N: who the page is about, on one line. */
static void running_header(pdf *p)
{
  const rr_report_doc *d = p->doc;
  double y = MARGIN + (p->preliminary ? BANNER_H + 8 : 0);
  char when[64];
  rr_buf b;
  PangoLayout *l;

  fmt_da(when, sizeof(when), d->study_date);
  rr_buf_init(&b, 8192);
  if (rr_buf_printf(&b, "%.1000s \u00b7 ID %.200s \u00b7 %.300s%s%s", p->name, nz(d->patient_id),
                    d->title != NULL && d->title[0] ? d->title : "Diagnostic imaging report",
                    when[0] ? " \u00b7 " : "", when) != 0) {
    rr_buf_dispose(&b);
    return;
  }
  l = text_layout(p, b.ptr, 8, PANGO_WEIGHT_NORMAL, p->width, 1, 0);
  rr_buf_dispose(&b);
  if (l == NULL)
    return;
  draw_layout(p, l, p->left, y, GREY);
  hrule(p, y + RUNNING_H - 6, 0.4, RULE);
  g_object_unref(l);
}

static void footer(pdf *p)
{
  char left[160], right[64];
  double y = p->ph - MARGIN - FOOTER_H + 10;

  snprintf(left, sizeof(left), "Report %lld \u00b7 version %lld \u00b7 %s", (long long)p->doc->report_id,
           (long long)p->doc->version, status_word(p->doc));
  snprintf(right, sizeof(right), "Page %d of %d", p->page, p->pages);
  hrule(p, y - 4, 0.4, RULE);
  draw_text(p, left, 8, PANGO_WEIGHT_NORMAL, p->left, y, 0, GREY);
  draw_text(p, right, 8, PANGO_WEIGHT_NORMAL, p->left + p->width, y, 1, GREY);
}

/* What every page carries: drawn before the body, so under it. */
static void page_decorations(pdf *p)
{
  if (p->cr == NULL || failed(p))
    return;
  if (p->preliminary) {
    watermark(p);
    banner(p);
  }
  if (p->page > 1)
    running_header(p);
  footer(p);
}

/* ---------------------------------------------------- the report's blocks */

/* Institution, report id and status, title. */
static void title_block(pdf *p)
{
  const rr_report_doc *d = p->doc;
  double rw = 180, lh = 0, rh = 0;
  char ref[128];
  PangoLayout *inst, *r1, *r2, *title;

  snprintf(ref, sizeof(ref), "Report %lld \u00b7 version %lld", (long long)d->report_id, (long long)d->version);
  inst = text_layout(p, nz(d->institution), 14, PANGO_WEIGHT_BOLD, p->width - rw - 10, 2, 0);
  r1 = text_layout(p, ref, 8.5, PANGO_WEIGHT_NORMAL, rw, 1, 0);
  r2 = text_layout(p, status_word(d), 9.5, PANGO_WEIGHT_BOLD, rw, 1, 0);
  title = text_layout(p, d->title != NULL && d->title[0] ? d->title : "Diagnostic imaging report", 16,
                      PANGO_WEIGHT_BOLD, p->width, 2, 0);
  if (!failed(p)) {
    pango_layout_set_alignment(r1, PANGO_ALIGN_RIGHT);
    pango_layout_set_alignment(r2, PANGO_ALIGN_RIGHT);
    lh = layout_height(inst);
    rh = layout_height(r1) + layout_height(r2);
    draw_layout(p, inst, p->left, p->y, HEAD);
    draw_layout(p, r1, p->left + p->width - rw, p->y, GREY);
    draw_layout(p, r2, p->left + p->width - rw, p->y + layout_height(r1), p->preliminary ? CRIT_RED : INK);
    p->y += (lh > rh ? lh : rh) + 6;
    draw_layout(p, title, p->left, p->y, INK);
    p->y += layout_height(title) + 4;
    hrule(p, p->y, 1.2, HEAD);
    p->y += 8;
  }
  if (inst != NULL)
    g_object_unref(inst);
  if (r1 != NULL)
    g_object_unref(r1);
  if (r2 != NULL)
    g_object_unref(r2);
  if (title != NULL)
    g_object_unref(title);
}

typedef struct kv {
  const char *label;
  const char *value;
} kv;

#define KV_LABEL_W 66.0

/* A column of label/value rows at (x, y), w wide: its height. Values take at
 * most 3 lines (cut with an ellipsis); rows with an empty value are left out. */
static double kv_column(pdf *p, const char *heading, const kv *rows, size_t n, double x, double y, double w)
{
  double top = y;

  draw_text(p, heading, 7.5, PANGO_WEIGHT_BOLD, x, y, 0, HEAD);
  y += 12;
  for (size_t i = 0; i < n && !failed(p); i++) {
    if (rows[i].value == NULL || rows[i].value[0] == '\0')
      continue;
    PangoLayout *l = text_layout(p, rows[i].label, 8, PANGO_WEIGHT_NORMAL, KV_LABEL_W - 4, 1, 0);
    PangoLayout *v = text_layout(p, rows[i].value, 9.5, PANGO_WEIGHT_NORMAL, w - KV_LABEL_W, 3, 0);
    if (l != NULL && v != NULL) {
      pango_layout_set_auto_dir(v, FALSE); /* left-aligned beside its label, whatever its script */
      draw_layout(p, l, x, y + 1.2, GREY);
      draw_layout(p, v, x + KV_LABEL_W, y, INK);
      y += layout_height(v) + 2.5;
    }
    if (l != NULL)
      g_object_unref(l);
    if (v != NULL)
      g_object_unref(v);
  }
  return y - top;
}

/* The grey box: the patient's name across it (bold, at most 2 lines), then
 * the patient on the left and the study on the right. */
static void patient_box(pdf *p)
{
  const rr_report_doc *d = p->doc;
  char birth[64], when[96], referring[1024];
  double pad = 8, colw = (p->width - 3 * pad) / 2, h1, h2, h, nh;
  cairo_t *cr = p->cr;
  PangoLayout *name;

  fmt_da(birth, sizeof(birth), d->patient_birth_date);
  fmt_study_when(when, sizeof(when), d->study_date, d->study_time);
  if (rr_report_pdf_person_name(referring, sizeof(referring), d->referring_physician) != 0)
    rr_str_copy(referring, sizeof(referring), nz(d->referring_physician));
  const kv pat[] = {{"Patient ID", d->patient_id != NULL && d->patient_id[0] ? d->patient_id : "\u2014"},
                    {"Birth date", birth},
                    {"Sex", sex_text(d->patient_sex)}};
  const kv study[] = {{"Study date", when},      {"Description", d->study_description},
                      {"Accession", d->accession_number}, {"Referring", referring},
                      {"Modality", d->modalities}};

  name = text_layout(p, p->name[0] ? p->name : "\u2014", 12.5, PANGO_WEIGHT_BOLD, p->width - 2 * pad, 2, 0);
  if (name == NULL)
    return;
  pango_layout_set_auto_dir(name, FALSE); /* an Arabic or Hebrew name reads right to left, flush left */
  nh = layout_height(name) + 6;
  p->cr = NULL; /* measure first */
  h1 = kv_column(p, "PATIENT", pat, 3, 0, 0, colw);
  h2 = kv_column(p, "STUDY", study, 5, 0, 0, colw);
  p->cr = cr;
  h = nh + (h1 > h2 ? h1 : h2) + 2 * pad;
  ensure(p, h);
  if (!failed(p)) {
    fill_rect(p, p->left, p->y, p->width, h, BOX_FILL, 1.0);
    draw_layout(p, name, p->left + pad, p->y + pad, INK);
    kv_column(p, "PATIENT", pat, 3, p->left + pad, p->y + pad + nh, colw);
    kv_column(p, "STUDY", study, 5, p->left + 2 * pad + colw, p->y + pad + nh, colw);
    p->y += h + 6;
  }
  g_object_unref(name);
}

/* A correction's reason and a critical result's communication: marked by a
 * coloured bar, right under the identification. */
static void notices(pdf *p)
{
  const rr_report_doc *d = p->doc;
  char line[128], when[64];
  rr_buf b;

  if (d->correction_reason != NULL && d->correction_reason[0] != '\0') {
    snprintf(line, sizeof(line), "Corrected report (version %lld)", (long long)d->version);
    p->y += 2;
    paragraph(p, line, 10, PANGO_WEIGHT_BOLD, 0, BAR_INDENT, &CORR_ORANGE, CORR_ORANGE, 1);
    labelled(p, "Reason for correction", d->correction_reason, 9.5, BAR_INDENT, &CORR_ORANGE, INK, 8);
  }
  if (!d->critical || failed(p))
    return;
  p->y += 2;
  paragraph(p, "CRITICAL RESULT", 10, PANGO_WEIGHT_BOLD, 0, BAR_INDENT, &CRIT_RED, CRIT_RED, 1);
  rr_buf_init(&b, 16384);
  fmt_time(when, sizeof(when), d->critical_at);
  if (d->critical_recipient != NULL && d->critical_recipient[0] != '\0') {
    if (rr_buf_printf(&b, "to %.4000s", d->critical_recipient) != 0 ||
        (d->critical_method != NULL && d->critical_method[0] &&
         rr_buf_printf(&b, " by %.1000s", d->critical_method) != 0) ||
        (when[0] && rr_buf_printf(&b, " on %s", when) != 0))
      p->rc = rr_fail(p->err, p->errsize, RR_ENOMEM, "out of memory laying out the report");
    labelled(p, "Communicated", b.ptr, 9.5, BAR_INDENT, &CRIT_RED, INK, 8);
  } else {
    paragraph(p, "The communication of this critical result is not recorded yet.", 9.5, PANGO_WEIGHT_NORMAL,
              0, BAR_INDENT, &CRIT_RED, INK, 8);
  }
  rr_buf_dispose(&b);
}

static void sections(pdf *p)
{
  const rr_report_doc *d = p->doc;

  for (size_t i = 0; i < d->section_count && !failed(p); i++) {
    const rr_report_doc_section *s = &d->sections[i];
    const char *title = s->title != NULL && s->title[0] ? s->title : nz(s->meaning);
    if (s->item_count == 0)
      continue;
    section_heading(p, title[0] ? title : "Section", HEAD);
    for (size_t j = 0; j < s->item_count && !failed(p); j++)
      labelled(p, s->items[j].label, s->items[j].text, 9.5, 0, NULL, INK, 4);
  }
}

static void findings(pdf *p)
{
  const rr_report_doc *d = p->doc;

  if (d->finding_count == 0)
    return;
  section_heading(p, "AI-assisted findings", AI_BLUE);
  paragraph(p, "Suggested by an AI analysis, then confirmed or modified by the reporting radiologist.", 8,
            PANGO_WEIGHT_NORMAL, 0, 0, NULL, GREY, 5);
  for (size_t i = 0; i < d->finding_count && !failed(p); i++) {
    labelled(p, "AI-assisted", d->findings[i].text, 9.5, BAR_INDENT, &AI_BLUE, INK, 1);
    labelled(p, "Reference", d->findings[i].analysis_ref != NULL && d->findings[i].analysis_ref[0]
                                  ? d->findings[i].analysis_ref : "\u2014",
             8, BAR_INDENT, &AI_BLUE, GREY, 6);
  }
}

/* ------------------------------------------------------------ key images */

/* The size a PNG says it has (IHDR), checked against the bounds. */
static bool png_size(const unsigned char *png, size_t n, unsigned *w, unsigned *h)
{
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  if (png == NULL || n < 33 || memcmp(png, sig, 8) != 0 || memcmp(png + 12, "IHDR", 4) != 0)
    return false;
  *w = (unsigned)png[16] << 24 | (unsigned)png[17] << 16 | (unsigned)png[18] << 8 | png[19];
  *h = (unsigned)png[20] << 24 | (unsigned)png[21] << 16 | (unsigned)png[22] << 8 | png[23];
  return *w > 0 && *h > 0 && *w <= IMAGE_MAX_SIDE && *h <= IMAGE_MAX_SIDE &&
         (uint64_t)*w * *h <= IMAGE_MAX_PIXELS;
}

typedef struct png_src {
  const unsigned char *data;
  size_t size, off;
} png_src;

static cairo_status_t png_read(void *closure, unsigned char *data, unsigned int length)
{
  png_src *s = closure;

  if (length > s->size - s->off)
    return CAIRO_STATUS_READ_ERROR;
  memcpy(data, s->data + s->off, length);
  s->off += length;
  return CAIRO_STATUS_SUCCESS;
}

/* Key image i drawn into the box (x, y, w, h). */
static void draw_png(pdf *p, size_t i, double x, double y, double w, double h)
{
  const rr_report_doc_image *im = &p->doc->images[i];
  png_src src = {im->png, im->png_size, 0};
  cairo_surface_t *s = cairo_image_surface_create_from_png_stream(png_read, &src);

  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS || cairo_image_surface_get_width(s) <= 0) {
    p->rc = rr_fail(p->err, p->errsize, RR_EINVAL, "key image %zu is not a readable PNG (%s)", i + 1,
                    cairo_status_to_string(cairo_surface_status(s)));
    cairo_surface_destroy(s);
    return;
  }
  cairo_save(p->cr);
  cairo_translate(p->cr, x, y);
  cairo_scale(p->cr, w / cairo_image_surface_get_width(s), h / cairo_image_surface_get_height(s));
  cairo_set_source_surface(p->cr, s, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(p->cr), CAIRO_FILTER_GOOD);
  cairo_rectangle(p->cr, 0, 0, cairo_image_surface_get_width(s), cairo_image_surface_get_height(s));
  cairo_fill(p->cr);
  cairo_restore(p->cr);
  cairo_surface_destroy(s);
  cairo_set_source_rgb(p->cr, RULE.r, RULE.g, RULE.b);
  cairo_set_line_width(p->cr, 0.5);
  cairo_rectangle(p->cr, x, y, w, h);
  cairo_stroke(p->cr);
}

/* The drawn size of key image i in a cell `cw` wide (no picture: a box). */
static void image_box(const pdf *p, size_t i, double cw, double *w, double *h)
{
  const rr_report_doc_image *im = &p->doc->images[i];
  unsigned pw, ph;

  if (!png_size(im->png, im->png_size, &pw, &ph)) {
    *w = cw;
    *h = 40;
    return;
  }
  double s = cw / pw < IMAGE_MAX_H / ph ? cw / pw : IMAGE_MAX_H / ph;
  *w = pw * s;
  *h = ph * s;
}

/* One row of the grid: images first..first+count-1 side by side. */
static void image_row(pdf *p, size_t first, size_t count, double cw)
{
  double w[2], h[2], rowh = 0;
  PangoLayout *cap[2] = {NULL, NULL};

  for (size_t k = 0; k < count && !failed(p); k++) {
    const rr_report_doc_image *im = &p->doc->images[first + k];
    image_box(p, first + k, cw, &w[k], &h[k]);
    cap[k] = text_layout(p, im->caption != NULL && im->caption[0] ? im->caption : "Key image", 8.5,
                         PANGO_WEIGHT_NORMAL, cw, 2, 0);
    if (cap[k] != NULL) {
      pango_layout_set_alignment(cap[k], PANGO_ALIGN_CENTER);
      double rh = h[k] + 4 + layout_height(cap[k]);
      rowh = rh > rowh ? rh : rowh;
    }
  }
  ensure(p, rowh);
  for (size_t k = 0; k < count && !failed(p) && p->cr != NULL; k++) {
    double x = p->left + k * (cw + IMAGE_GAP);
    if (p->doc->images[first + k].png != NULL) {
      draw_png(p, first + k, x + (cw - w[k]) / 2, p->y, w[k], h[k]);
    } else {
      fill_rect(p, x, p->y, w[k], h[k], BOX_FILL, 1.0);
      draw_text(p, "(no picture)", 8, PANGO_WEIGHT_NORMAL, x + 6, p->y + 14, 0, GREY);
    }
    draw_layout(p, cap[k], x, p->y + h[k] + 4, GREY);
  }
  for (size_t k = 0; k < count; k++)
    if (cap[k] != NULL)
      g_object_unref(cap[k]);
  p->y += rowh + IMAGE_GAP;
}

static void images(pdf *p)
{
  double cw = (p->width - IMAGE_GAP) / 2;
  size_t n = p->doc->image_count;

  if (n == 0)
    return;
  section_heading(p, "Key images", HEAD);
  for (size_t i = 0; i < n && !failed(p); i += 2)
    image_row(p, i, n - i >= 2 ? 2 : 1, cw);
}

/* --------------------------------------------------- signature, addenda */

/* "Electronically signed by Jane Doe (jdoe) on 2026-12-04 14:03 UTC". */
static int signed_line(rr_buf *b, const char *prefix, const char *name, const char *user, int64_t at)
{
  char when[64];
  const char *who = name != NULL && name[0] ? name : nz(user);

  fmt_time(when, sizeof(when), at);
  if (who[0] == '\0' && when[0] == '\0')
    return rr_buf_puts(b, "Not signed.");
  if (rr_buf_printf(b, "%s %.1000s", prefix, who[0] ? who : "(unknown)") != 0)
    return RR_EFULL;
  if (user != NULL && user[0] && name != NULL && name[0] && strcmp(name, user) != 0 &&
      rr_buf_printf(b, " (%.200s)", user) != 0)
    return RR_EFULL;
  return when[0] ? rr_buf_printf(b, " on %s", when) : 0;
}

static void signature(pdf *p)
{
  const rr_report_doc *d = p->doc;
  bool own = d->body_signed_at <= 0 && (d->body_signed_by_name == NULL || !d->body_signed_by_name[0]);
  rr_buf b;
  int rc;

  p->y += 12;
  ensure(p, 44);
  if (failed(p))
    return;
  hrule(p, p->y, 0.8, INK);
  p->y += 6;
  rr_buf_init(&b, 8192);
  if (p->preliminary)
    rc = signed_line(&b, "Preliminary report, electronically signed by", d->signed_by_name, d->signed_by,
                     d->signed_at);
  else if (own)
    rc = signed_line(&b, "Electronically signed by", d->signed_by_name, d->signed_by, d->signed_at);
  else
    rc = signed_line(&b, "Electronically signed by", d->body_signed_by_name, NULL, d->body_signed_at);
  if (rc == 0 && p->preliminary)
    rc = rr_buf_puts(&b, ". Not final: this report may still change.");
  if (rc != 0)
    p->rc = rr_fail(p->err, p->errsize, RR_ENOMEM, "out of memory laying out the report");
  paragraph(p, b.ptr, 10, PANGO_WEIGHT_BOLD, 0, 0, NULL, p->preliminary ? CRIT_RED : INK, 2);
  rr_buf_dispose(&b);
}

static void addenda(pdf *p)
{
  const rr_report_doc *d = p->doc;
  char title[96];

  for (size_t i = 0; i < d->addendum_count && !failed(p); i++) {
    const rr_report_doc_addendum *a = &d->addenda[i];
    rr_buf b;
    snprintf(title, sizeof(title), "Addendum %zu (version %lld)", i + 1, (long long)a->version);
    section_heading(p, title, HEAD);
    paragraph(p, nz(a->text), 9.5, PANGO_WEIGHT_NORMAL, 0, 0, NULL, INK, 4);
    rr_buf_init(&b, 8192);
    if (signed_line(&b, "Electronically signed by", a->signed_by_name, NULL, a->signed_at) != 0)
      p->rc = rr_fail(p->err, p->errsize, RR_ENOMEM, "out of memory laying out the report");
    paragraph(p, b.ptr, 8.5, PANGO_WEIGHT_BOLD, 0, 0, NULL, GREY, 4);
    rr_buf_dispose(&b);
  }
}

static void lay_out(pdf *p)
{
  p->page = 1;
  page_begin(p);
  title_block(p);
  patient_box(p);
  notices(p);
  sections(p);
  findings(p);
  images(p);
  signature(p);
  addenda(p);
}

/* ------------------------------------------------------------- rendering */

typedef struct sink {
  rr_buf buf;
  int rc;
} sink;

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int length)
{
  sink *s = closure;
  int rc = s->rc == 0 ? rr_buf_append(&s->buf, data, length) : s->rc;

  s->rc = rc;
  return rc == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static size_t text_size(const char *s)
{
  return s != NULL ? strlen(s) : 0;
}

/* The bytes of every string of the doc (what Pango would have to shape). */
static size_t doc_text_size(const rr_report_doc *d)
{
  const char *top[] = {d->institution, d->patient_name, d->patient_id, d->patient_birth_date, d->patient_sex,
                       d->study_date, d->study_time, d->study_description, d->accession_number,
                       d->referring_physician, d->modalities, d->title, d->correction_reason,
                       d->critical_recipient, d->critical_method, d->signed_by, d->signed_by_name,
                       d->body_signed_by_name, d->status, d->kind};
  size_t total = 0;

  for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
    total += text_size(top[i]);
  for (size_t i = 0; i < d->section_count; i++) {
    total += text_size(d->sections[i].title) + text_size(d->sections[i].meaning);
    for (size_t j = 0; j < d->sections[i].item_count; j++)
      total += text_size(d->sections[i].items[j].label) + text_size(d->sections[i].items[j].text);
  }
  for (size_t i = 0; i < d->finding_count; i++)
    total += text_size(d->findings[i].text) + text_size(d->findings[i].analysis_ref);
  for (size_t i = 0; i < d->image_count; i++)
    total += text_size(d->images[i].caption);
  for (size_t i = 0; i < d->addendum_count; i++)
    total += text_size(d->addenda[i].text) + text_size(d->addenda[i].signed_by_name);
  return total;
}

/* The bounds of the contract, checked before anything is laid out. */
static int check_doc(const rr_report_doc *d, char *err, size_t errsize)
{
  size_t total;
  unsigned w, h;

  if (d->image_count > RR_REPORT_PDF_MAX_IMAGES)
    return rr_fail(err, errsize, RR_EINVAL, "the report has %zu key images; a PDF shows at most %d",
                   d->image_count, RR_REPORT_PDF_MAX_IMAGES);
  if ((total = doc_text_size(d)) > RR_REPORT_PDF_MAX_TEXT)
    return rr_fail(err, errsize, RR_EINVAL, "the report's text (%zu bytes) is over the PDF's limit of %u bytes",
                   total, RR_REPORT_PDF_MAX_TEXT);
  for (size_t i = 0; i < d->image_count; i++)
    if (d->images[i].png != NULL && !png_size(d->images[i].png, d->images[i].png_size, &w, &h))
      return rr_fail(err, errsize, RR_EINVAL,
                     "key image %zu is not a PNG of at most %u pixels a side and %u pixels in all", i + 1,
                     IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
  return 0;
}

static PangoContext *new_context(void)
{
  PangoContext *ctx = pango_font_map_create_context(g_fontmap);
  cairo_font_options_t *fo;

  if (ctx == NULL)
    return NULL;
  fo = cairo_font_options_create();
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  pango_cairo_context_set_font_options(ctx, fo);
  cairo_font_options_destroy(fo);
  pango_cairo_context_set_resolution(ctx, 72.0);
  pango_context_set_language(ctx, pango_language_from_string("en"));
  pango_context_set_round_glyph_positions(ctx, FALSE);
  return ctx;
}

/* The PDF's Info dictionary: title, creator, creation date = signing time. */
static void set_metadata(cairo_surface_t *s, const rr_report_doc *d)
{
  char title[1024], when[64];
  gchar *valid = g_utf8_make_valid(d->title != NULL && d->title[0] ? d->title : "Diagnostic imaging report", -1);
  struct tm tm;
  time_t t = (time_t)(d->signed_at / 1000);

  snprintf(title, sizeof(title), "Report %lld v%lld: %.900s", (long long)d->report_id, (long long)d->version,
           valid != NULL ? valid : "");
  g_free(valid);
  /* a cut inside a UTF-8 sequence would make Cairo refuse the title */
  title[rr_utf8_valid_prefix(title, strlen(title))] = '\0';
  cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
  cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "Orthanc Reading Room " RR_VERSION);
  if (d->signed_at > 0 && gmtime_r(&t, &tm) != NULL) {
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, when);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_MOD_DATE, when);
  }
}

/* The drawing pass into sk: the same walk as the measuring one, on a PDF
 * surface. */
static void draw_pass(pdf *p, sink *sk)
{
  cairo_surface_t *s = cairo_pdf_surface_create_for_stream(sink_write, sk, p->pw, p->ph);
  cairo_status_t st;

  set_metadata(s, p->doc);
  p->cr = cairo_create(s);
  lay_out(p);
  if (!failed(p)) {
    cairo_show_page(p->cr);
    if (p->page != p->pages)
      p->rc = rr_fail(p->err, p->errsize, RR_ERROR, "the PDF's pages came out %d, not the %d measured",
                      p->page, p->pages);
  }
  st = cairo_status(p->cr);
  cairo_destroy(p->cr);
  p->cr = NULL;
  cairo_surface_finish(s);
  if (st == CAIRO_STATUS_SUCCESS)
    st = cairo_surface_status(s);
  cairo_surface_destroy(s);
  if (failed(p))
    return;
  if (sk->rc != 0)
    p->rc = rr_fail(p->err, p->errsize, sk->rc, "the PDF is over its limit of %u bytes or memory ran out",
                    RR_REPORT_PDF_MAX_BYTES);
  else if (st != CAIRO_STATUS_SUCCESS)
    p->rc = rr_fail(p->err, p->errsize, RR_ERROR, "Cairo could not write the PDF: %s", cairo_status_to_string(st));
}

static int paper_size(double *w, double *h, const rr_report_pdf_options *opt, char *err, size_t errsize)
{
  const char *paper = opt != NULL && opt->paper != NULL ? opt->paper : "A4";

  if (rr_str_ieq(paper, "A4")) {
    *w = 595.2756; /* 210 x 297 mm */
    *h = 841.8898;
  } else if (rr_str_ieq(paper, "Letter")) {
    *w = 612;
    *h = 792;
  } else {
    return rr_fail(err, errsize, RR_EINVAL, "unknown paper size \"%.40s\" (A4 or Letter)", paper);
  }
  return 0;
}

int rr_report_pdf_render(unsigned char **out, size_t *out_size, const rr_report_doc *doc,
                         const rr_report_pdf_options *opt, char *err, size_t errsize)
{
  pdf p;
  sink sk;
  int rc;

  if (out == NULL || out_size == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no place for the PDF was given");
  *out = NULL;
  *out_size = 0;
  if (doc == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no report to render");
  memset(&p, 0, sizeof(p));
  if ((rc = paper_size(&p.pw, &p.ph, opt, err, errsize)) != 0 || (rc = check_doc(doc, err, errsize)) != 0)
    return rc;
  pthread_once(&g_once, init_once);
  if (g_fontmap == NULL)
    return rr_fail(err, errsize, RR_ERROR, "fontconfig or Pango could not be initialised (are fonts installed?)");
  p.doc = doc;
  p.err = err;
  p.errsize = errsize;
  p.left = MARGIN;
  p.width = p.pw - 2 * MARGIN;
  p.bottom = p.ph - MARGIN - FOOTER_H;
  p.preliminary = doc->status != NULL && strcmp(doc->status, "preliminary") == 0;
  if ((rc = rr_report_pdf_person_name(p.name, sizeof(p.name), doc->patient_name)) != 0)
    rr_str_copy(p.name, sizeof(p.name), nz(doc->patient_name));
  rr_buf_init(&sk.buf, RR_REPORT_PDF_MAX_BYTES);
  sk.rc = 0;

  pthread_mutex_lock(&g_lock);
  p.pctx = new_context();
  if (p.pctx == NULL) {
    p.rc = rr_fail(err, errsize, RR_ENOMEM, "out of memory creating the Pango context");
  } else {
    lay_out(&p); /* measure: count the pages */
    p.pages = p.page;
    if (!failed(&p))
      draw_pass(&p, &sk);
    g_object_unref(p.pctx);
  }
  pthread_mutex_unlock(&g_lock);

  if (p.rc != 0) {
    rr_buf_dispose(&sk.buf);
    return p.rc;
  }
  *out_size = sk.buf.len;
  *out = (unsigned char *)sk.buf.ptr; /* rr_buf's storage is malloc'd: free() releases it */
  return 0;
}
