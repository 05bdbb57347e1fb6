-- +goose Up
-- Failed-login lockout: shared attempt counters (the embedded default; Redis
-- holds them in scale-out) and durable lock records.
CREATE TABLE lockout_counters (
    counter_key  TEXT PRIMARY KEY,
    n            BIGINT NOT NULL,
    expires_at   BIGINT
);

CREATE TABLE member_locks (
    id           TEXT PRIMARY KEY,
    practice_id  TEXT NOT NULL REFERENCES practices(id),
    member_id    TEXT NOT NULL REFERENCES members(id),
    locked_at    BIGINT NOT NULL,
    attempts     BIGINT NOT NULL,
    addresses    TEXT NOT NULL DEFAULT '[]',
    unlocked_at  BIGINT,
    unlocked_by  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX member_locks_member ON member_locks(member_id, locked_at);

-- Lock records name the addresses the failed attempts came from; they are
-- found in the audit trail by subject.
CREATE INDEX audit_events_subject ON audit_events(subject_id, id);

-- +goose Down
DROP INDEX audit_events_subject;
DROP TABLE member_locks;
DROP TABLE lockout_counters;
