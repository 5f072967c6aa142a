/*
 * store_cluster.h - the store's cross-node concern: what several Orthanc
 * nodes sharing one store (PostgreSQL) need to coordinate.
 *
 *  - Leases: a named role held by one store handle at a time (the
 *    "ingestion" lease: following Orthanc's change log). rr_store_lease_try
 *    never waits; it takes the lease when it is free and tells whether this
 *    handle holds it (call it again before each piece of leased work: it
 *    also checks that the lease is still held). The holder keeps the lease
 *    while its handle lives and its link to the database is up; when the
 *    holder dies the lease is free at once (PostgreSQL: a session advisory
 *    lock on a connection of the lease's own, released by the server when
 *    that connection ends). rr_store_lease_release gives it up.
 *  - Signals: rr_store_signal(channel, payload) reaches the subscribers of
 *    that channel on every handle of the same database, this one included,
 *    normally well within a second (PostgreSQL: NOTIFY, and LISTEN on a
 *    listener connection and thread of the backend's own). When a backend
 *    may have missed signals (its listener reconnected), it delivers the
 *    payload "*" to every subscriber: forget everything cached.
 *    Subscribers run on the backend's listener thread (or, for a backend
 *    without this concern, on the signalling thread); they must return
 *    quickly and must not call the store. Payloads are at most
 *    RR_STORE_SIGNAL_MAX - 1 bytes and carry no patient data.
 *  - A backend without this concern (cluster table NULL: SQLite, one node by
 *    construction) holds every lease, and delivers signals to this handle's
 *    subscribers directly, before rr_store_signal returns.
 *
 * Subscriptions are made and removed at start-up and shutdown
 * (rr_store_subscribe, rr_store_unsubscribe); they are guarded by a lock, so
 * delivery may run meanwhile, but a subscriber's `arg` must stay valid until
 * rr_store_unsubscribe has returned.
 */
#ifndef RR_STORE_CLUSTER_H
#define RR_STORE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rr_store rr_store;

#define RR_STORE_SIGNAL_MAX 256     /* channel names and payloads, with the NUL */
#define RR_STORE_MAX_SUBSCRIBERS 8  /* per handle */

typedef void (*rr_store_signal_fn)(void *arg, const char *channel, const char *payload);

/* A backend's implementation; `store` is the handle to deliver to (with
 * rr_store_deliver). Every entry is set. */
typedef struct rr_store_cluster_ops {
  int (*lease_try)(void *impl, bool *held, const char *name, char *err, size_t errsize);
  void (*lease_release)(void *impl, const char *name);
  int (*signal)(void *impl, const char *channel, const char *payload, char *err, size_t errsize);
  /* Start listening on channel (idempotent); signals received are handed to
   * rr_store_deliver(store, …). */
  int (*listen)(void *impl, rr_store *store, const char *channel, char *err, size_t errsize);
} rr_store_cluster_ops;

/* Take or keep the lease `name` (a short word). *held tells the outcome. */
int rr_store_lease_try(rr_store *s, bool *held, const char *name, char *err, size_t errsize);
void rr_store_lease_release(rr_store *s, const char *name);

/* Call fn(arg, channel, payload) for each signal on `channel`. RR_EFULL
 * beyond RR_STORE_MAX_SUBSCRIBERS, RR_EINVAL for a name that is too long. */
int rr_store_subscribe(rr_store *s, const char *channel, rr_store_signal_fn fn, void *arg, char *err, size_t errsize);
/* Remove the subscription (fn, arg); after it returns, fn is not running
 * and will not be called with arg. Accepts a subscription that is absent. */
void rr_store_unsubscribe(rr_store *s, rr_store_signal_fn fn, void *arg);
/* Send payload on channel to every handle of the database. */
int rr_store_signal(rr_store *s, const char *channel, const char *payload, char *err, size_t errsize);

/* For backends: hand a received signal to this handle's subscribers. */
void rr_store_deliver(rr_store *s, const char *channel, const char *payload);

#endif
