#include "base64.h"

#include <stdint.h>

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t rr_base64_encoded_len(size_t len)
{
  size_t groups = len / 3 + (len % 3 != 0);

  if (groups > ((size_t)-1) / 4)
    return 0;
  return groups * 4;
}

/* Restore the buffer to `len` bytes after a failed multi-part append. */
static void buf_truncate(rr_buf *out, size_t len)
{
  out->len = len;
  if (out->ptr != NULL)
    out->ptr[len] = '\0';
}

int rr_base64_encode(rr_buf *out, const void *data, size_t len)
{
  const unsigned char *p = data;
  size_t old_len = out->len, need = rr_base64_encoded_len(len), i = 0, n = 0;
  char chunk[4096];
  int error = 0;

  if (len > 0 && need == 0)
    return RR_EFULL;
  if (need > out->max || out->len > out->max - need)
    return RR_EFULL;
  while (i + 3 <= len) {
    uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
    chunk[n++] = b64_alphabet[(v >> 18) & 63];
    chunk[n++] = b64_alphabet[(v >> 12) & 63];
    chunk[n++] = b64_alphabet[(v >> 6) & 63];
    chunk[n++] = b64_alphabet[v & 63];
    i += 3;
    if (n + 4 > sizeof(chunk)) {
      if ((error = rr_buf_append(out, chunk, n)) < 0)
        goto out;
      n = 0;
    }
  }
  if (len - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    chunk[n++] = b64_alphabet[(v >> 18) & 63];
    chunk[n++] = b64_alphabet[(v >> 12) & 63];
    chunk[n++] = '=';
    chunk[n++] = '=';
  } else if (len - i == 2) {
    uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8);
    chunk[n++] = b64_alphabet[(v >> 18) & 63];
    chunk[n++] = b64_alphabet[(v >> 12) & 63];
    chunk[n++] = b64_alphabet[(v >> 6) & 63];
    chunk[n++] = '=';
  }
  error = rr_buf_append(out, chunk, n);
out:
  if (error < 0)
    buf_truncate(out, old_len);
  return error;
}

int rr_base64_digit(char c, bool url)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == (url ? '-' : '+'))
    return 62;
  if (c == (url ? '_' : '/'))
    return 63;
  return -1;
}

int rr_base64_decode(rr_buf *out, const char *text, size_t len)
{
  size_t old_len = out->len, i, n = 0;
  unsigned char chunk[3072];
  int error = 0;

  if (len % 4 != 0)
    return RR_EINVAL;
  for (i = 0; i < len; i += 4) {
    int v[4], k, pad = 0;
    uint32_t bits = 0;
    for (k = 0; k < 4; k++) {
      unsigned char c = (unsigned char)text[i + k];
      if (c == '=' && i + 4 == len && k >= 2) {
        v[k] = 0;
        pad++;
      } else if (pad > 0 || (v[k] = rr_base64_digit((char)c, false)) < 0) {
        error = RR_EINVAL;
        goto out;
      }
    }
    bits = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) | (uint32_t)v[3];
    if ((pad == 1 && (bits & 0xFF) != 0) || (pad == 2 && (bits & 0xFFFF) != 0)) {
      error = RR_EINVAL;
      goto out;
    }
    chunk[n++] = (unsigned char)(bits >> 16);
    if (pad < 2)
      chunk[n++] = (unsigned char)(bits >> 8);
    if (pad < 1)
      chunk[n++] = (unsigned char)bits;
    if (n + 3 > sizeof(chunk)) {
      if ((error = rr_buf_append(out, chunk, n)) < 0)
        goto out;
      n = 0;
    }
  }
  error = rr_buf_append(out, chunk, n);
out:
  if (error < 0)
    buf_truncate(out, old_len);
  return error;
}
