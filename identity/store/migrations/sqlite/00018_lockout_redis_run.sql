-- +goose Up
-- The Redis run the lockout counter last saw (lockout.RunRecord): a new Redis
-- run waits out lockout.redis_recovery_grace only when the database has seen
-- a run before, so a brand-new deployment does not wait. A database that
-- already holds logins was counting before this table existed: it gets a row
-- (run unknown), so its next new run keeps the grace.
CREATE TABLE lockout_redis_run (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    run_id  TEXT NOT NULL,
    seen_at BIGINT NOT NULL
);
INSERT INTO lockout_redis_run (id, run_id, seen_at)
    SELECT 1, '', 0 WHERE EXISTS (SELECT 1 FROM audit_events WHERE action = 'login');

-- +goose Down
DROP TABLE lockout_redis_run;
