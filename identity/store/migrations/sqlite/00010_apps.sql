-- +goose Up
-- Apps (OpenID clients) that a practice registers through the admin API or
-- console, alongside the clients of the configuration file. An app belongs to
-- exactly one practice and may only log in that practice's members. A
-- confidential app's secret is stored only as its SHA-256 hash (the secret is
-- 256 random bits, so a fast hash keeps client authentication cheap without
-- weakening it). A removed app keeps its row (removed_at) so its client ID is
-- never reused and the audit trail keeps pointing at something.
CREATE TABLE practice_apps (
    client_id          TEXT PRIMARY KEY,
    practice_id        TEXT NOT NULL REFERENCES practices(id),
    name               TEXT NOT NULL,
    redirect_uris      TEXT NOT NULL,
    grant_types        TEXT NOT NULL,
    confidential       INTEGER NOT NULL DEFAULT 0,
    secret_hash        BLOB,
    created_by         TEXT NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    secret_rotated_at  INTEGER,
    removed_at         INTEGER
);
CREATE INDEX practice_apps_practice ON practice_apps(practice_id);

-- +goose Down
DROP TABLE practice_apps;
