-- +goose Up
-- Passkeys (WebAuthn): credentials and server-side ceremony state. A
-- credential ID is unique across the whole service, so a credential belongs
-- to exactly one member of one practice. Ceremony tokens are stored only as
-- their SHA-256 hash; a ceremony is deleted when it is finished (single use)
-- and refused after expires_at.
CREATE TABLE passkey_credentials (
    id                  TEXT PRIMARY KEY,
    credential_id       BLOB NOT NULL UNIQUE,
    practice_id         TEXT NOT NULL REFERENCES practices(id),
    member_id           TEXT NOT NULL REFERENCES members(id),
    public_key          BLOB NOT NULL,
    attestation_type    TEXT NOT NULL DEFAULT '',
    attestation_format  TEXT NOT NULL DEFAULT '',
    aaguid              BLOB,
    transports          TEXT NOT NULL DEFAULT '',
    sign_count          INTEGER NOT NULL DEFAULT 0,
    user_verified       INTEGER NOT NULL DEFAULT 0,
    backup_eligible     INTEGER NOT NULL DEFAULT 0,
    backup_state        INTEGER NOT NULL DEFAULT 0,
    name                TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    last_used_at        INTEGER
);
CREATE INDEX passkey_credentials_member ON passkey_credentials(member_id);

CREATE TABLE passkey_ceremonies (
    token_hash   BLOB PRIMARY KEY,
    kind         TEXT NOT NULL,
    practice_id  TEXT NOT NULL REFERENCES practices(id),
    member_id    TEXT NOT NULL DEFAULT '',
    session_id   TEXT NOT NULL DEFAULT '',
    data         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies(expires_at);

-- +goose Down
DROP TABLE passkey_ceremonies;
DROP TABLE passkey_credentials;
