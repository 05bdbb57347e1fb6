-- +goose Up
-- Onboarding by email: invitations (token stored only as its SHA-256 hash,
-- rotated on resend), temporary passwords (argon2id hash, single use,
-- expiring), the durable mail outbox, and the restriction on sessions started
-- with a temporary password.
CREATE TABLE invitations (
    id                  TEXT PRIMARY KEY,
    practice_id         TEXT NOT NULL REFERENCES practices(id),
    member_id           TEXT NOT NULL REFERENCES members(id),
    email               TEXT NOT NULL,
    roles               TEXT NOT NULL DEFAULT '',
    app                 TEXT NOT NULL DEFAULT '',
    invited_by          TEXT NOT NULL,
    token_hash          BLOB NOT NULL UNIQUE,
    sends               INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    accepted_at         INTEGER,
    revoked_at          INTEGER,
    delivered_at        INTEGER,
    delivery_failed_at  INTEGER
);
CREATE INDEX invitations_practice ON invitations(practice_id, created_at);
CREATE INDEX invitations_member ON invitations(member_id);

CREATE TABLE temporary_passwords (
    id             TEXT PRIMARY KEY,
    practice_id    TEXT NOT NULL REFERENCES practices(id),
    member_id      TEXT NOT NULL REFERENCES members(id),
    password_hash  TEXT NOT NULL,
    issued_by      TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    voided_at      INTEGER
);
CREATE INDEX temporary_passwords_member ON temporary_passwords(member_id);

CREATE TABLE mail_outbox (
    id               TEXT PRIMARY KEY,
    practice_id      TEXT NOT NULL DEFAULT '',
    kind             TEXT NOT NULL,
    ref_id           TEXT NOT NULL DEFAULT '',
    recipient        TEXT NOT NULL,
    from_name        TEXT NOT NULL DEFAULT '',
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    links            TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('pending','sent','failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    claimed_by       TEXT NOT NULL DEFAULT '',
    claim_until      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER,
    failed_at        INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);
CREATE INDEX mail_outbox_ref ON mail_outbox(ref_id);

ALTER TABLE sessions ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sessions DROP COLUMN must_change_password;
DROP TABLE mail_outbox;
DROP TABLE temporary_passwords;
DROP TABLE invitations;
