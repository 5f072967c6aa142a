#include "sha256.h"

#include <openssl/evp.h>

#include "errors.h"

int rr_sha256_hex(char out[65], const void *data, size_t len)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0, i;

  out[0] = '\0';
  if (EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL) != 1 || n != 32)
    return RR_ERROR;
  for (i = 0; i < n; i++) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 15];
  }
  out[64] = '\0';
  return 0;
}
