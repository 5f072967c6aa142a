-- Reading Room store, PostgreSQL backend, schema version 2: users, revoked
-- tokens and the hash-chained audit trail (as the SQLite backend's 002).

CREATE TABLE users (
  id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username            TEXT NOT NULL COLLATE "C",
  display_name        TEXT NOT NULL DEFAULT '',
  role                TEXT NOT NULL,
  password_hash       TEXT NOT NULL,
  enabled             BOOLEAN NOT NULL DEFAULT true,
  created_at          BIGINT NOT NULL,
  updated_at          BIGINT NOT NULL,
  password_changed_at BIGINT NOT NULL,
  last_login_at       BIGINT NOT NULL DEFAULT 0,
  failed_logins       BIGINT NOT NULL DEFAULT 0,
  locked_until        BIGINT NOT NULL DEFAULT 0,
  -- bumped whenever every token of the user must stop working
  token_generation    BIGINT NOT NULL DEFAULT 0
);
-- user names are unique in any letter case (SQLite: COLLATE NOCASE, ASCII)
CREATE UNIQUE INDEX users_name ON users (lower(username));

-- Logged-out tokens, by SHA-256 of the token, until they would expire anyway.
CREATE TABLE revoked_tokens (
  token_hash TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

-- Append-only audit trail: each record holds the hash of the previous one.
-- Appends from every node are serialised by a transaction-scoped advisory
-- lock (store_pg_audit.c), so the chain never forks.
CREATE TABLE audit (
  seq       BIGINT PRIMARY KEY,
  at_ms     BIGINT NOT NULL,
  username  TEXT NOT NULL DEFAULT '' COLLATE "C",
  role      TEXT NOT NULL DEFAULT '',
  source    TEXT NOT NULL DEFAULT '',
  action    TEXT NOT NULL COLLATE "C",
  resource  TEXT NOT NULL DEFAULT '' COLLATE "C",
  outcome   TEXT NOT NULL,
  detail    TEXT NOT NULL DEFAULT '',
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX audit_username ON audit (username, seq);
CREATE INDEX audit_action ON audit (action, seq);
CREATE INDEX audit_resource ON audit (resource, seq);
CREATE INDEX audit_time ON audit (at_ms);
