-- +goose Up
-- Tamper-evident audit trail (#8): every event is hash-chained to the previous
-- event of the same practice. chain_seq numbers a chain's events 1, 2, 3...;
-- prev_hash and hash are lowercase hex SHA-256 (see store/auditchain.go for the
-- canonical encoding). Rows written before this migration have NULL columns and
-- are adopted into the chain, in id order, by the first append after it.
ALTER TABLE audit_events ADD COLUMN chain_seq BIGINT;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_events_chain ON audit_events(COALESCE(practice_id, ''), chain_seq);

-- One head row per chain (chain_key = practice id, '' for events outside any
-- practice). Appenders lock the head row, so concurrent appends serialise per
-- practice and the chain never forks.
CREATE TABLE audit_chain_heads (
    chain_key  TEXT PRIMARY KEY,
    seq        BIGINT NOT NULL,
    hash       TEXT NOT NULL
);

-- Idempotency keys for creating calls of the admin API: a repeated request with
-- the same key replays the stored response instead of acting twice.
CREATE TABLE idempotency_keys (
    practice_id   TEXT NOT NULL,
    actor_id      TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (practice_id, actor_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE audit_chain_heads;
DROP INDEX audit_events_chain;
ALTER TABLE audit_events DROP COLUMN hash;
ALTER TABLE audit_events DROP COLUMN prev_hash;
ALTER TABLE audit_events DROP COLUMN chain_seq;
