-- +goose Up
-- A registered app may require a permission of the catalogue (as a client of
-- the configuration file may with require_permission): a member without it
-- gets no code and can no longer refresh. '' means none.
ALTER TABLE practice_apps ADD COLUMN require_permission TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE practice_apps DROP COLUMN require_permission;
