-- +goose Up
-- Timestamps are Unix microseconds (UTC) in both engines so one set of
-- queries serves SQLite and PostgreSQL and comparisons are exact.
CREATE TABLE practices (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);

CREATE TABLE members (
    id                  TEXT PRIMARY KEY,
    practice_id         TEXT NOT NULL REFERENCES practices(id),
    email               TEXT NOT NULL,
    email_key           TEXT NOT NULL,
    display_name        TEXT NOT NULL DEFAULT '',
    legal_name          TEXT NOT NULL DEFAULT '',
    npi                 TEXT NOT NULL DEFAULT '',
    taxonomy            TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('invited','active','locked','deactivated')),
    password_hash       TEXT,
    password_changed_at INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (practice_id, email_key)
);

CREATE TABLE member_roles (
    member_id  TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    role_key   TEXT NOT NULL,
    PRIMARY KEY (member_id, role_key)
);

CREATE TABLE links (
    id           TEXT PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    purpose      TEXT NOT NULL,
    practice_id  TEXT NOT NULL REFERENCES practices(id),
    member_id    TEXT NOT NULL REFERENCES members(id),
    email        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    consumed_at  INTEGER
);
CREATE INDEX links_member ON links(member_id);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    token_hash    BLOB NOT NULL UNIQUE,
    practice_id   TEXT NOT NULL REFERENCES practices(id),
    member_id     TEXT NOT NULL REFERENCES members(id),
    amr           TEXT NOT NULL,
    auth_time     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ended_at      INTEGER
);
CREATE INDEX sessions_member ON sessions(member_id);

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_id  TEXT,
    at           INTEGER NOT NULL,
    action       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    actor_id     TEXT NOT NULL DEFAULT '',
    subject_id   TEXT NOT NULL DEFAULT '',
    client_addr  TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    request_id   TEXT NOT NULL DEFAULT '',
    details      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_practice ON audit_events(practice_id, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE sessions;
DROP TABLE links;
DROP TABLE member_roles;
DROP TABLE members;
DROP TABLE practices;
