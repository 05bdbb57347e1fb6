-- +goose Up
-- Practice single sign-on (upstream OpenID providers). A provider's client
-- secret is stored only encrypted (AES-256-GCM under a key derived from the
-- master key). A linked identity maps an upstream (issuer, subject) to one
-- member of one practice; it is created only by an invitation accepted via
-- SSO, an explicit link by the signed-in member, or an approved join
-- request — never by matching an email. Flows (a begun login) are stored
-- under the hash of their state, bound to the browser by the hash of a
-- cookie, single use (deleted when finished) and refused after expires_at.
CREATE TABLE sso_providers (
    id                 TEXT PRIMARY KEY,
    practice_id        TEXT NOT NULL REFERENCES practices(id),
    kind               TEXT NOT NULL CHECK (kind IN ('google','entra','generic')),
    display_name       TEXT NOT NULL,
    issuer             TEXT NOT NULL,
    client_id          TEXT NOT NULL,
    client_secret_enc  BLOB NOT NULL,
    allowed_domains    TEXT NOT NULL DEFAULT '',
    join_enabled       INTEGER NOT NULL DEFAULT 0,
    join_role          TEXT NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (practice_id, issuer, client_id)
);

CREATE TABLE sso_identities (
    id            TEXT PRIMARY KEY,
    practice_id   TEXT NOT NULL REFERENCES practices(id),
    provider_id   TEXT NOT NULL REFERENCES sso_providers(id) ON DELETE CASCADE,
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    member_id     TEXT NOT NULL REFERENCES members(id),
    email         TEXT NOT NULL DEFAULT '',
    linked_via    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    UNIQUE (practice_id, issuer, subject)
);
CREATE INDEX sso_identities_member ON sso_identities(member_id);

CREATE TABLE sso_flows (
    state_hash             BLOB PRIMARY KEY,
    binding_hash           BLOB NOT NULL,
    practice_id            TEXT NOT NULL REFERENCES practices(id),
    provider_id            TEXT NOT NULL REFERENCES sso_providers(id) ON DELETE CASCADE,
    purpose                TEXT NOT NULL,
    auth_request           TEXT NOT NULL DEFAULT '',
    invitation_token_hash  BLOB,
    member_id              TEXT NOT NULL DEFAULT '',
    session_id             TEXT NOT NULL DEFAULT '',
    nonce                  TEXT NOT NULL,
    code_verifier          TEXT NOT NULL,
    created_at             INTEGER NOT NULL,
    expires_at             INTEGER NOT NULL
);
CREATE INDEX sso_flows_expiry ON sso_flows(expires_at);

CREATE TABLE sso_join_requests (
    id           TEXT PRIMARY KEY,
    practice_id  TEXT NOT NULL REFERENCES practices(id),
    provider_id  TEXT NOT NULL REFERENCES sso_providers(id) ON DELETE CASCADE,
    issuer       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    email        TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    role_key     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending','approved','rejected')),
    created_at   INTEGER NOT NULL,
    decided_at   INTEGER,
    decided_by   TEXT NOT NULL DEFAULT '',
    member_id    TEXT NOT NULL DEFAULT '',
    UNIQUE (practice_id, issuer, subject)
);

-- +goose Down
DROP TABLE sso_join_requests;
DROP TABLE sso_flows;
DROP TABLE sso_identities;
DROP TABLE sso_providers;
