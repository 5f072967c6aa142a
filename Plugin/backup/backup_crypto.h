/*
 * backup_crypto.h - sealing backup objects with AES-256-GCM, and loading the key.
 *
 * Envelope (every object written to an off-site target):
 *   "RRB1" (4 bytes) | nonce (12 random bytes, RAND_bytes) | ciphertext | tag (16 bytes)
 * The additional authenticated data is the object key (e.g.
 * "studies/<StudyUID>/<SOPUID>.rrb"): an object copied or renamed to another key
 * does not unseal there, so a target cannot swap one instance for another.
 *
 * Contract:
 *  - rr_backup_seal appends the envelope to `out` (initialised by the caller,
 *    its maximum must allow len + RR_BACKUP_SEAL_OVERHEAD). `aad` is a
 *    NUL-terminated string (may be "" but not NULL).
 *  - rr_backup_unseal appends the plaintext to `out`. Any change to the magic,
 *    nonce, ciphertext or tag, a different aad or a different key gives
 *    RR_EINVAL with a sentence in err; nothing is appended then. A truncated
 *    object (shorter than the overhead) is RR_EINVAL too.
 *  - rr_backup_key_load reads the 32-byte key from key_base64 (the Key option,
 *    standard base64 of 32 bytes) when it is not NULL/empty, else from key_file
 *    (32 raw bytes, or base64 text of 32 bytes with optional surrounding white
 *    space). A key file readable or writable by "other" users is refused with
 *    RR_EINVAL and a sentence naming the file and the chmod to apply. Neither
 *    given: RR_EINVAL. The key never appears in err or in the log.
 *  - rr_backup_key_generate fills key with 32 random bytes (for tooling/tests).
 *  - Errors: RR_EINVAL (bad input, tampered, wrong key), RR_ENOMEM, RR_EFULL
 *    (out's maximum too small), RR_ERROR (OpenSSL failed unexpectedly).
 *  - Thread-safe: no shared state (OpenSSL >= 1.1 is thread-safe).
 * Callers should wipe key material with rr_backup_key_wipe when done.
 */
#ifndef RR_BACKUP_CRYPTO_H
#define RR_BACKUP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"

#define RR_BACKUP_MAGIC "RRB1"
#define RR_BACKUP_MAGIC_LEN 4
#define RR_BACKUP_NONCE_LEN 12
#define RR_BACKUP_TAG_LEN 16
#define RR_BACKUP_KEY_LEN 32
#define RR_BACKUP_SEAL_OVERHEAD (RR_BACKUP_MAGIC_LEN + RR_BACKUP_NONCE_LEN + RR_BACKUP_TAG_LEN)

int rr_backup_seal(rr_buf *out, const uint8_t key[32], const void *plain, size_t len, const char *aad, char *err,
                   size_t errsize);
/* RR_EINVAL: tampered / wrong key / wrong aad / not an RRB1 envelope */
int rr_backup_unseal(rr_buf *out, const uint8_t key[32], const void *sealed, size_t len, const char *aad, char *err,
                     size_t errsize);
int rr_backup_key_load(uint8_t key[32], const char *key_base64, const char *key_file, char *err, size_t errsize);
int rr_backup_key_generate(uint8_t key[32], char *err, size_t errsize);
/* Overwrite key material so the compiler cannot drop the store (OPENSSL_cleanse). */
void rr_backup_key_wipe(void *key, size_t len);

#endif
