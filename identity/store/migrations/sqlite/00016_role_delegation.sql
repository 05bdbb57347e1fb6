-- +goose Up
-- Delegation ("who staffs whom"): for every role of a practice, the keys of
-- the roles its holders may give (invite with, assign, approve into). NULL
-- marks a role defined before delegation existed: the role model fills it
-- from the practice's preset and records the change in the audit trail, once
-- per practice (roles.Service.MigrateDelegation).
ALTER TABLE role_definitions ADD COLUMN gives TEXT;

-- +goose Down
ALTER TABLE role_definitions DROP COLUMN gives;
