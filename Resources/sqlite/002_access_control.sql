-- Reading Room store, SQLite backend, schema version 2: users, revoked
-- tokens and the hash-chained audit trail of the access-control milestone.

CREATE TABLE users (
  id                  INTEGER PRIMARY KEY,
  username            TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name        TEXT NOT NULL DEFAULT '',
  role                TEXT NOT NULL,
  password_hash       TEXT NOT NULL,
  enabled             INTEGER NOT NULL DEFAULT 1,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  password_changed_at INTEGER NOT NULL,
  last_login_at       INTEGER NOT NULL DEFAULT 0,
  failed_logins       INTEGER NOT NULL DEFAULT 0,
  locked_until        INTEGER NOT NULL DEFAULT 0,
  -- bumped whenever every token of the user must stop working
  token_generation    INTEGER NOT NULL DEFAULT 0
);

-- Logged-out tokens, by SHA-256 of the token, until they would expire anyway.
CREATE TABLE revoked_tokens (
  token_hash TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);

-- Append-only audit trail: each record holds the hash of the previous one.
CREATE TABLE audit (
  seq       INTEGER PRIMARY KEY,
  at_ms     INTEGER NOT NULL,
  username  TEXT NOT NULL DEFAULT '',
  role      TEXT NOT NULL DEFAULT '',
  source    TEXT NOT NULL DEFAULT '',
  action    TEXT NOT NULL,
  resource  TEXT NOT NULL DEFAULT '',
  outcome   TEXT NOT NULL,
  detail    TEXT NOT NULL DEFAULT '',
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX audit_username ON audit(username, seq);
CREATE INDEX audit_action ON audit(action, seq);
CREATE INDEX audit_resource ON audit(resource, seq);
CREATE INDEX audit_time ON audit(at_ms);
