-- +goose Up
-- The role model: each practice's role definitions and toggle values, per-member
-- overrides, supervision and emergency (break-glass) elevations. Members'
-- role keys stay in member_roles. Lists are JSON arrays of strings.
CREATE TABLE practice_role_models (
    practice_id  TEXT PRIMARY KEY REFERENCES practices(id),
    preset       TEXT NOT NULL,
    toggles      TEXT NOT NULL DEFAULT '{}',
    updated_at   BIGINT NOT NULL
);

CREATE TABLE role_definitions (
    practice_id  TEXT NOT NULL REFERENCES practices(id),
    role_key     TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    permissions  TEXT NOT NULL DEFAULT '[]',
    requires     TEXT NOT NULL DEFAULT '[]',
    exclusive    TEXT NOT NULL DEFAULT '[]',
    position     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (practice_id, role_key)
);

CREATE TABLE member_overrides (
    member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    permission  TEXT NOT NULL,
    effect      TEXT NOT NULL CHECK (effect IN ('grant','deny')),
    PRIMARY KEY (member_id, permission)
);

CREATE TABLE member_supervisors (
    member_id      TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    supervisor_id  TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    cosign_notes   BIGINT NOT NULL DEFAULT 0,
    cosign_plans   BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (member_id, supervisor_id),
    CHECK (member_id <> supervisor_id)
);
CREATE INDEX member_supervisors_supervisor ON member_supervisors(supervisor_id);

CREATE TABLE elevations (
    id           TEXT PRIMARY KEY,
    practice_id  TEXT NOT NULL REFERENCES practices(id),
    member_id    TEXT NOT NULL REFERENCES members(id),
    granted_by   TEXT NOT NULL,
    permissions  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ended_at     BIGINT,
    ended_by     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX elevations_member ON elevations(member_id, expires_at);

-- +goose Down
DROP TABLE elevations;
DROP TABLE member_supervisors;
DROP TABLE member_overrides;
DROP TABLE role_definitions;
DROP TABLE practice_role_models;
