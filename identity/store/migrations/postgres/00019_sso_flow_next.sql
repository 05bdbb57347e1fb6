-- +goose Up
-- The practice's page a single sign-on login returns to (the login page's
-- next, checked when the flow begins and again when it finishes).
ALTER TABLE sso_flows ADD COLUMN next_path TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sso_flows DROP COLUMN next_path;
