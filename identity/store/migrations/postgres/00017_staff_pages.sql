-- +goose Up
-- Issue 18, staff pages and readable records:
-- a practice's time zone (IANA name; audit trail, staff pages and mails show
-- times in it, exports stay UTC) and how it onboards new staff ('' follows
-- the role preset: the Manager Module preset emails a temporary password,
-- the others an invitation link; 'invitation' or 'temporary_password'
-- chosen explicitly);
-- a registered app's display name and launch URL (the staff home lists the
-- apps a member may open);
-- a practitioner's credentials (e.g. "LCSW, PhD"), beside the legal name,
-- NPI and taxonomy code the members table already has.
ALTER TABLE practices ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE practices ADD COLUMN onboarding TEXT NOT NULL DEFAULT '';
ALTER TABLE practice_apps ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE practice_apps ADD COLUMN launch_url TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN credentials TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE members DROP COLUMN credentials;
ALTER TABLE practice_apps DROP COLUMN launch_url;
ALTER TABLE practice_apps DROP COLUMN display_name;
ALTER TABLE practices DROP COLUMN onboarding;
ALTER TABLE practices DROP COLUMN time_zone;
