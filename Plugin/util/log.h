/*
 * log.h - logging through Orthanc's log (or stderr when no Orthanc context is
 * set, as in unit tests).
 *
 * Messages must never contain patient data (names, IDs, accession numbers,
 * dates of birth): log Orthanc identifiers, counts and error texts only.
 * Thread-safe; each message is bounded to 1 KiB.
 */
#ifndef RR_UTIL_LOG_H
#define RR_UTIL_LOG_H

struct _OrthancPluginContext_t;

void rr_log_set_context(struct _OrthancPluginContext_t *ctx);
void rr_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rr_log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rr_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
