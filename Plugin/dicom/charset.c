/*
 * charset.c - see charset.h.
 *
 * Two paths: a value whose (0008,0005) is a single set without code
 * extensions is converted whole by iconv; otherwise a small ISO 2022 state
 * machine walks the bytes, keeps the G0/G1 designations, and collects runs of
 * characters of one set that iconv converts together (two-byte sets are
 * rewritten to their EUC form first: JIS X 0208/0212 -> EUC-JP, KS X 1001 ->
 * EUC-KR, GB 2312 -> EUC-CN).
 */
#include "dicom/charset.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "util/errors.h"

typedef enum gkind {
  G_NONE = 0,
  G_ASCII,     /* ISO-IR 6 */
  G_ROMAN,     /* JIS X 0201 Romaji, read as ASCII */
  G_KATAKANA,  /* JIS X 0201 katakana in G1: 0xA1..0xDF -> U+FF61.. */
  G_HIGH,      /* a one-byte set's upper half, converted by iconv (code) */
  G_JIS0208,   /* two bytes 0x21..0x7E in G0 */
  G_JIS0212,   /* two bytes 0x21..0x7E in G0 */
  G_KSC,       /* two bytes 0xA1..0xFE in G1 */
  G_GB2312     /* two bytes 0xA1..0xFE in G1 */
} gkind;

typedef struct designation {
  gkind kind;
  const char *code; /* iconv name for G_HIGH and the two-byte sets */
} designation;

typedef struct term_def {
  const char *name;
  designation g0, g1;
  const char *whole; /* single set without code extensions: iconv name of the whole value */
} term_def;

#define ASCII {G_ASCII, NULL}
#define HIGH(c) {G_HIGH, c}
#define NONE {G_NONE, NULL}

static const term_def TERMS[] = {
  {"ISO_IR 6", ASCII, NONE, "ISO-8859-1"},
  {"ISO_IR 100", ASCII, HIGH("ISO-8859-1"), "ISO-8859-1"},
  {"ISO_IR 101", ASCII, HIGH("ISO-8859-2"), "ISO-8859-2"},
  {"ISO_IR 109", ASCII, HIGH("ISO-8859-3"), "ISO-8859-3"},
  {"ISO_IR 110", ASCII, HIGH("ISO-8859-4"), "ISO-8859-4"},
  {"ISO_IR 144", ASCII, HIGH("ISO-8859-5"), "ISO-8859-5"},
  {"ISO_IR 127", ASCII, HIGH("ISO-8859-6"), "ISO-8859-6"},
  {"ISO_IR 126", ASCII, HIGH("ISO-8859-7"), "ISO-8859-7"},
  {"ISO_IR 138", ASCII, HIGH("ISO-8859-8"), "ISO-8859-8"},
  {"ISO_IR 148", ASCII, HIGH("ISO-8859-9"), "ISO-8859-9"},
  {"ISO_IR 203", ASCII, HIGH("ISO-8859-15"), "ISO-8859-15"},
  {"ISO_IR 166", ASCII, HIGH("TIS-620"), "TIS-620"},
  {"ISO_IR 13", {G_ROMAN, NULL}, {G_KATAKANA, NULL}, NULL},
  {"ISO_IR 192", NONE, NONE, "UTF-8"},
  {"GB18030", NONE, NONE, "GB18030"},
  {"GBK", NONE, NONE, "GBK"},
  {"ISO 2022 IR 6", ASCII, NONE, NULL},
  {"ISO 2022 IR 100", ASCII, HIGH("ISO-8859-1"), NULL},
  {"ISO 2022 IR 101", ASCII, HIGH("ISO-8859-2"), NULL},
  {"ISO 2022 IR 109", ASCII, HIGH("ISO-8859-3"), NULL},
  {"ISO 2022 IR 110", ASCII, HIGH("ISO-8859-4"), NULL},
  {"ISO 2022 IR 144", ASCII, HIGH("ISO-8859-5"), NULL},
  {"ISO 2022 IR 127", ASCII, HIGH("ISO-8859-6"), NULL},
  {"ISO 2022 IR 126", ASCII, HIGH("ISO-8859-7"), NULL},
  {"ISO 2022 IR 138", ASCII, HIGH("ISO-8859-8"), NULL},
  {"ISO 2022 IR 148", ASCII, HIGH("ISO-8859-9"), NULL},
  {"ISO 2022 IR 203", ASCII, HIGH("ISO-8859-15"), NULL},
  {"ISO 2022 IR 166", ASCII, HIGH("TIS-620"), NULL},
  {"ISO 2022 IR 13", {G_ROMAN, NULL}, {G_KATAKANA, NULL}, NULL},
  {"ISO 2022 IR 87", {G_JIS0208, "EUC-JP"}, NONE, NULL},
  {"ISO 2022 IR 159", {G_JIS0212, "EUC-JP"}, NONE, NULL},
  {"ISO 2022 IR 149", NONE, {G_KSC, "EUC-KR"}, NULL},
  {"ISO 2022 IR 58", NONE, {G_GB2312, "EUC-CN"}, NULL},
};

/* The G1 sets of ESC - F (PS3.3 table C.12-3). */
static const struct {
  unsigned char final;
  const char *code;
} HIGH_ESCAPES[] = {
  {'A', "ISO-8859-1"}, {'B', "ISO-8859-2"}, {'C', "ISO-8859-3"}, {'D', "ISO-8859-4"},
  {'L', "ISO-8859-5"}, {'G', "ISO-8859-6"}, {'F', "ISO-8859-7"}, {'H', "ISO-8859-8"},
  {'M', "ISO-8859-9"}, {'b', "ISO-8859-15"}, {'T', "TIS-620"},
};

typedef struct sink {
  char *buf;
  size_t size; /* > 0; one byte kept for the NUL */
  size_t len;
} sink;

typedef struct run {
  const char *code; /* NULL = empty */
  char bytes[192];
  size_t n;
} run;

typedef struct state {
  designation g0, g1;
} state;

/* ----------------------------------------------------------- output */

static int put(sink *s, const char *p, size_t n)
{
  if (n >= s->size - s->len)
    return RR_EFULL;
  memcpy(s->buf + s->len, p, n);
  s->len += n;
  return 0;
}

static int conv(sink *s, const char *code, const char *in, size_t inlen)
{
  iconv_t cd;
  char *ip = (char *)in, *op;
  size_t il = inlen, ol;
  int error = 0;

  if (inlen == 0)
    return 0;
  cd = iconv_open("UTF-8", code);
  if (cd == (iconv_t)-1)
    return RR_EUNSUPPORTED;
  op = s->buf + s->len;
  ol = s->size - s->len - 1;
  if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
    error = errno == E2BIG ? RR_EFULL : RR_EINVAL;
  else if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
    error = RR_EFULL;
  s->len = (size_t)(op - s->buf);
  iconv_close(cd);
  return error;
}

static int flush(sink *s, run *r)
{
  int error = 0;

  if (r->code != NULL)
    error = conv(s, r->code, r->bytes, r->n);
  r->code = NULL;
  r->n = 0;
  return error;
}

/* Append up to 3 bytes of one character in `code` to the run. */
static int add(sink *s, run *r, const char *code, const unsigned char *p, size_t n)
{
  int error;

  if ((r->code != NULL && strcmp(r->code, code) != 0) || r->n + n > sizeof(r->bytes))
    if ((error = flush(s, r)) < 0)
      return error;
  r->code = code;
  memcpy(r->bytes + r->n, p, n);
  r->n += n;
  return 0;
}

/* ----------------------------------------------------------- terms */

static const term_def *find_term(const char *p, size_t n)
{
  size_t i;

  for (i = 0; i < sizeof(TERMS) / sizeof(TERMS[0]); i++)
    if (strlen(TERMS[i].name) == n && memcmp(TERMS[i].name, p, n) == 0)
      return &TERMS[i];
  return NULL;
}

/* The next backslash-separated term of (0008,0005) from *pos, trimmed.
 * false at the end. */
static bool next_term(const char *cs, size_t len, size_t *pos, const char **term, size_t *termlen)
{
  size_t start = *pos, end;

  if (start > len)
    return false;
  end = start;
  while (end < len && cs[end] != '\\')
    end++;
  *pos = end + 1;
  while (start < end && (cs[start] == ' ' || cs[start] == '\0'))
    start++;
  while (end > start && (cs[end - 1] == ' ' || cs[end - 1] == '\0'))
    end--;
  *term = cs + start;
  *termlen = end - start;
  return true;
}

static size_t trimmed_len(const char *cs, size_t len)
{
  while (len > 0 && (cs[len - 1] == ' ' || cs[len - 1] == '\0'))
    len--;
  return len;
}

bool rr_charset_has_extensions(const char *charset, size_t charsetlen)
{
  size_t pos = 0, tl, count = 0;
  const char *t;

  if (charset == NULL)
    return false;
  charsetlen = trimmed_len(charset, charsetlen);
  if (charsetlen == 0)
    return false;
  while (next_term(charset, charsetlen, &pos, &t, &tl)) {
    count++;
    if (tl >= 8 && memcmp(t, "ISO 2022", 8) == 0)
      return true;
  }
  return count > 1;
}

/* ----------------------------------------------------------- ISO 2022 */

/* Read the escape sequence at p (p[0] is ESC) into *st; *used its length. */
static int escape(state *st, const unsigned char *p, size_t n, size_t *used)
{
  size_t i;

  if (n < 3)
    return RR_EINVAL;
  *used = 3;
  if (p[1] == '(' && p[2] == 'B')
    st->g0 = (designation){G_ASCII, NULL};
  else if (p[1] == '(' && p[2] == 'J')
    st->g0 = (designation){G_ROMAN, NULL};
  else if (p[1] == ')' && p[2] == 'I')
    st->g1 = (designation){G_KATAKANA, NULL};
  else if (p[1] == '$' && p[2] == 'B')
    st->g0 = (designation){G_JIS0208, "EUC-JP"};
  else if (p[1] == '-') {
    for (i = 0; i < sizeof(HIGH_ESCAPES) / sizeof(HIGH_ESCAPES[0]); i++)
      if (HIGH_ESCAPES[i].final == p[2]) {
        st->g1 = (designation){G_HIGH, HIGH_ESCAPES[i].code};
        return 0;
      }
    return RR_EINVAL;
  } else if (p[1] == '$' && n >= 4) {
    *used = 4;
    if (p[2] == '(' && p[3] == 'D')
      st->g0 = (designation){G_JIS0212, "EUC-JP"};
    else if (p[2] == ')' && p[3] == 'C')
      st->g1 = (designation){G_KSC, "EUC-KR"};
    else if (p[2] == ')' && p[3] == 'A')
      st->g1 = (designation){G_GB2312, "EUC-CN"};
    else
      return RR_EINVAL;
  } else
    return RR_EINVAL;
  return 0;
}

static bool is_delimiter(unsigned char b, rr_charset_vr vr)
{
  if (b == '\\')
    return vr != RR_CHARSET_TEXT;
  return vr == RR_CHARSET_PN && (b == '^' || b == '=');
}

/* A byte 0x21..0x7E in a two-byte G0 set: the pair as EUC-JP. */
static int g0_pair(sink *s, run *r, const state *st, const unsigned char *v, size_t n, size_t *i)
{
  unsigned char e[3];

  if (*i + 1 >= n || v[*i + 1] < 0x21 || v[*i + 1] > 0x7E)
    return RR_EINVAL;
  if (st->g0.kind == G_JIS0212) {
    e[0] = 0x8F;
    e[1] = v[*i] | 0x80;
    e[2] = v[*i + 1] | 0x80;
    *i += 2;
    return add(s, r, st->g0.code, e, 3);
  }
  e[0] = v[*i] | 0x80;
  e[1] = v[*i + 1] | 0x80;
  *i += 2;
  return add(s, r, st->g0.code, e, 2);
}

/* A byte 0x80..0xFF: a character of the G1 set. */
static int g1_char(sink *s, run *r, const state *st, const unsigned char *v, size_t n, size_t *i)
{
  unsigned char b = v[*i];
  unsigned cp;
  char u[3];
  int error;

  switch (st->g1.kind) {
  case G_HIGH:
    *i += 1;
    return add(s, r, st->g1.code, v + *i - 1, 1);
  case G_KATAKANA:
    if (b < 0xA1 || b > 0xDF)
      return RR_EINVAL;
    if ((error = flush(s, r)) < 0)
      return error;
    cp = 0xFF61u + (unsigned)(b - 0xA1);
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    *i += 1;
    return put(s, u, 3);
  case G_KSC:
  case G_GB2312:
    if (b < 0xA1 || b == 0xFF || *i + 1 >= n || v[*i + 1] < 0xA1 || v[*i + 1] == 0xFF)
      return RR_EINVAL;
    *i += 2;
    return add(s, r, st->g1.code, v + *i - 2, 2);
  default:
    return RR_EINVAL;
  }
}

static int decode_2022(sink *s, const state *initial, const unsigned char *v, size_t n, rr_charset_vr vr)
{
  state st = *initial;
  run r = {NULL, {0}, 0};
  size_t i = 0, used = 0;
  int error = 0;

  while (i < n && error == 0) {
    unsigned char b = v[i];

    if (b == 0x1B) {
      if ((error = flush(s, &r)) == 0 && (error = escape(&st, v + i, n - i, &used)) == 0)
        i += used;
    } else if (b == 0) {
      error = RR_EINVAL;
    } else if (b < 0x20 || b == 0x7F) { /* control characters: CR, LF, FF, TAB reset */
      if (b == '\r' || b == '\n' || b == '\f' || b == '\t')
        st = *initial;
      if ((error = flush(s, &r)) == 0)
        error = put(s, (const char *)&v[i++], 1);
    } else if (b < 0x80 && b != 0x20 && (st.g0.kind == G_JIS0208 || st.g0.kind == G_JIS0212)) {
      error = g0_pair(s, &r, &st, v, n, &i);
    } else if (b < 0x80) {
      if (st.g0.kind != G_JIS0208 && st.g0.kind != G_JIS0212 && is_delimiter(b, vr))
        st = *initial;
      if ((error = flush(s, &r)) == 0)
        error = put(s, (const char *)&v[i++], 1);
    } else {
      error = g1_char(s, &r, &st, v, n, &i);
    }
  }
  if (error == 0)
    error = flush(s, &r);
  return error;
}

/* ----------------------------------------------------------- entry */

static int decode(sink *s, const char *charset, size_t charsetlen, const unsigned char *v, size_t n,
                  rr_charset_vr vr)
{
  const term_def *first = NULL, *def;
  const char *t;
  size_t pos = 0, tl, count = 0;
  state initial;

  charsetlen = charset != NULL ? trimmed_len(charset, charsetlen) : 0;
  while (charsetlen > 0 && next_term(charset, charsetlen, &pos, &t, &tl)) {
    count++;
    if (tl == 0 && count > 1)
      continue; /* an empty further value says nothing */
    def = tl == 0 ? find_term("ISO 2022 IR 6", 13) : find_term(t, tl);
    if (def == NULL)
      return RR_EINVAL;
    if (count == 1)
      first = def;
  }
  if (first == NULL) /* no (0008,0005): the default repertoire, 8-bit bytes read as Latin-1 */
    return memchr(v, 0, n) != NULL ? RR_EINVAL : conv(s, "ISO-8859-1", (const char *)v, n);
  if (first->whole != NULL && (count == 1 || first->g0.kind == G_NONE))
    return memchr(v, 0, n) != NULL ? RR_EINVAL : conv(s, first->whole, (const char *)v, n);
  initial.g0 = first->g0.kind == G_ROMAN ? first->g0 : (designation){G_ASCII, NULL};
  initial.g1 = first->g1;
  return decode_2022(s, &initial, v, n, vr);
}

int rr_charset_decode(char *out, size_t outsize, size_t *outlen, const char *charset, size_t charsetlen,
                      const unsigned char *value, size_t valuelen, rr_charset_vr vr)
{
  sink s = {out, outsize, 0};
  int error;

  if (outlen != NULL)
    *outlen = 0;
  if (out == NULL || outsize == 0 || (value == NULL && valuelen > 0))
    return RR_EINVAL;
  while (valuelen > 0 && (value[valuelen - 1] == ' ' || value[valuelen - 1] == '\0'))
    valuelen--;
  error = valuelen == 0 ? 0 : decode(&s, charset, charsetlen, value, valuelen, vr);
  if (error < 0) {
    out[0] = '\0';
    return error;
  }
  out[s.len] = '\0';
  if (outlen != NULL)
    *outlen = s.len;
  return 0;
}
