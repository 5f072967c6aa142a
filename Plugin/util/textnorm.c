#include "textnorm.h"

#include <string.h>

#include "str.h"

/* U+00C0..U+00FF folded */
static const char *const latin1_fold[64] = {
  "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
  "D", "N", "O", "O", "O", "O", "O", " ", "O", "U", "U", "U", "U", "Y", "TH", "SS",
  "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
  "D", "N", "O", "O", "O", "O", "O", " ", "O", "U", "U", "U", "U", "Y", "TH", "Y"};

struct fold_range {
  unsigned first, last;
  const char *to;
};

/* Latin Extended-A and a few of Latin Extended-B */
static const struct fold_range latin_ext[] = {
  {0x0100, 0x0105, "A"}, {0x0106, 0x010D, "C"}, {0x010E, 0x0111, "D"},
  {0x0112, 0x011B, "E"}, {0x011C, 0x0123, "G"}, {0x0124, 0x0127, "H"},
  {0x0128, 0x0131, "I"}, {0x0132, 0x0133, "IJ"}, {0x0134, 0x0135, "J"},
  {0x0136, 0x0138, "K"}, {0x0139, 0x0142, "L"}, {0x0143, 0x014B, "N"},
  {0x014C, 0x0151, "O"}, {0x0152, 0x0153, "OE"}, {0x0154, 0x0159, "R"},
  {0x015A, 0x0161, "S"}, {0x0162, 0x0167, "T"}, {0x0168, 0x0173, "U"},
  {0x0174, 0x0175, "W"}, {0x0176, 0x0178, "Y"}, {0x0179, 0x017E, "Z"},
  {0x017F, 0x017F, "S"}, {0x0218, 0x0219, "S"}, {0x021A, 0x021B, "T"}};

static uint32_t fold_greek(uint32_t c)
{
  switch (c) {
  case 0x0386: case 0x03AC: return 0x0391;
  case 0x0388: case 0x03AD: return 0x0395;
  case 0x0389: case 0x03AE: return 0x0397;
  case 0x038A: case 0x03AF: case 0x0390: case 0x03AA: case 0x03CA: return 0x0399;
  case 0x038C: case 0x03CC: return 0x039F;
  case 0x038E: case 0x03CD: case 0x03B0: case 0x03AB: case 0x03CB: return 0x03A5;
  case 0x038F: case 0x03CE: return 0x03A9;
  case 0x03C2: return 0x03A3;
  default: break;
  }
  if (c >= 0x03B1 && c <= 0x03C9)
    return c - 0x20;
  return c;
}

static uint32_t fold_cyrillic(uint32_t c)
{
  if (c == 0x0401 || c == 0x0451)
    return 0x0415; /* Ё -> Е */
  if (c >= 0x0430 && c <= 0x044F)
    return c - 0x20;
  if (c >= 0x0450 && c <= 0x045F)
    return c - 0x50;
  return c;
}

static int put_space(rr_buf *out, size_t start)
{
  /* one space between words, none at the start */
  if (out->len == start || out->ptr[out->len - 1] == ' ')
    return 0;
  return rr_buf_putc(out, ' ');
}

int rr_text_fold(rr_buf *out, const char *in, size_t len, bool pattern)
{
  size_t i = 0, n, k, start = out->len;
  uint32_t c;
  char enc[4];
  int error = 0;

  while (i < len && error == 0) {
    n = rr_utf8_decode(in + i, len - i, &c);
    i += n;
    if (c < 0x80) {
      if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        error = rr_buf_putc(out, (char)c);
      else if (c >= 'a' && c <= 'z')
        error = rr_buf_putc(out, (char)(c - 32));
      else if (pattern && (c == '*' || c == '?'))
        error = rr_buf_putc(out, (char)c);
      else if (c == '\'' || c == '`')
        continue;
      else
        error = put_space(out, start);
      continue;
    }
    if (c == 0xFFFD || (c >= 0x80 && c < 0xC0) || c == 0x2019)
      continue; /* invalid bytes, Latin-1 symbols, right quote */
    if (c >= 0x0300 && c <= 0x036F)
      continue; /* combining diacritical marks */
    if (c >= 0xC0 && c <= 0xFF) {
      const char *to = latin1_fold[c - 0xC0];
      error = to[0] == ' ' ? put_space(out, start) : rr_buf_puts(out, to);
      continue;
    }
    if (c >= 0x0100 && c <= 0x021B) {
      const char *to = NULL;
      for (k = 0; k < sizeof(latin_ext) / sizeof(latin_ext[0]); k++) {
        if (c >= latin_ext[k].first && c <= latin_ext[k].last) {
          to = latin_ext[k].to;
          break;
        }
      }
      if (to != NULL) {
        error = rr_buf_puts(out, to);
        continue;
      }
    } else if (c >= 0x0370 && c <= 0x03FF) {
      c = fold_greek(c);
    } else if (c >= 0x0400 && c <= 0x045F) {
      c = fold_cyrillic(c);
    } else if (c == 0x3000 || (c >= 0x2000 && c <= 0x200B)) {
      error = put_space(out, start); /* ideographic and typographic spaces */
      continue;
    }
    n = rr_utf8_encode(enc, c);
    error = rr_buf_append(out, enc, n);
  }
  if (error == 0 && out->len > start && out->ptr[out->len - 1] == ' ') {
    out->len--;
    out->ptr[out->len] = '\0';
  }
  if (error == 0 && out->ptr == NULL)
    error = rr_buf_append(out, "", 0);
  return error;
}

bool rr_text_has_wildcard(const char *s)
{
  return s != NULL && (strchr(s, '*') != NULL || strchr(s, '?') != NULL);
}

int rr_text_glob(rr_buf *out, const char *pattern)
{
  int error = 0;

  if (out->ptr == NULL && (error = rr_buf_append(out, "", 0)) < 0)
    return error;
  for (; *pattern && error == 0; pattern++) {
    if (*pattern == '[')
      error = rr_buf_puts(out, "[[]");
    else
      error = rr_buf_putc(out, *pattern);
  }
  return error;
}

bool rr_text_next_word(const char *folded, size_t *pos, const char **word, size_t *wordlen)
{
  size_t i = *pos, start;

  while (folded[i] == ' ')
    i++;
  if (folded[i] == '\0') {
    *pos = i;
    return false;
  }
  start = i;
  while (folded[i] != '\0' && folded[i] != ' ')
    i++;
  *word = folded + start;
  *wordlen = i - start;
  *pos = i;
  return true;
}
