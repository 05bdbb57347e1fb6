-- +goose Up
-- OpenID provider state: auth requests (bound to the browser that started
-- them), authorization codes (hashed, single use), refresh tokens (hashed,
-- rotated, grouped in families), revoked access-token IDs and signing keys
-- (private part encrypted under the master key).
CREATE TABLE oidc_auth_requests (
    id               TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL,
    practice_id      TEXT NOT NULL REFERENCES practices(id),
    binding_hash     BYTEA NOT NULL,
    params           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    member_id        TEXT,
    session_id       TEXT,
    auth_time        BIGINT,
    amr              TEXT NOT NULL DEFAULT '',
    done_at          BIGINT,
    code_hash        BYTEA UNIQUE,
    code_expires_at  BIGINT,
    code_used_at     BIGINT
);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests(expires_at);
CREATE INDEX oidc_auth_requests_session ON oidc_auth_requests(session_id);

CREATE TABLE oidc_refresh_tokens (
    id           TEXT PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    family_id    TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    practice_id  TEXT NOT NULL REFERENCES practices(id),
    member_id    TEXT NOT NULL REFERENCES members(id),
    session_id   TEXT NOT NULL DEFAULT '',
    scopes       TEXT NOT NULL,
    amr          TEXT NOT NULL DEFAULT '',
    auth_time    BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens(family_id);
CREATE INDEX oidc_refresh_tokens_member ON oidc_refresh_tokens(member_id);
CREATE INDEX oidc_refresh_tokens_session ON oidc_refresh_tokens(session_id);

CREATE TABLE oidc_revoked_tokens (
    jti         TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE oidc_signing_keys (
    id           TEXT PRIMARY KEY,
    alg          TEXT NOT NULL,
    public_jwk   TEXT NOT NULL,
    private_enc  BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    active_from  BIGINT NOT NULL,
    expires_at   BIGINT
);
CREATE INDEX oidc_signing_keys_alg ON oidc_signing_keys(alg, active_from);

-- +goose Down
DROP TABLE oidc_signing_keys;
DROP TABLE oidc_revoked_tokens;
DROP TABLE oidc_refresh_tokens;
DROP TABLE oidc_auth_requests;
