#include "sha256.h"

#include <openssl/evp.h>

#include "errors.h"
#include "str.h"

int rr_sha256_hex(char out[65], const void *data, size_t len)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;

  out[0] = '\0';
  if (EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL) != 1 || n != 32)
    return RR_ERROR;
  rr_hex_encode(out, digest, 32);
  return 0;
}
