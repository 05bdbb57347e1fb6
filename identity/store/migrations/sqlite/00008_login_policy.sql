-- +goose Up
-- Per-practice login policy: the role keys whose holders must log in with a
-- passkey or single sign-on (never with a password alone). No row means no
-- role is restricted.
CREATE TABLE practice_login_policies (
    practice_id   TEXT PRIMARY KEY REFERENCES practices(id),
    strong_roles  TEXT NOT NULL DEFAULT '[]',
    updated_at    INTEGER NOT NULL,
    updated_by    TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE practice_login_policies;
