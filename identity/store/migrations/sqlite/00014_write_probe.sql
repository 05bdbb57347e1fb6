-- +goose Up
-- While writes fail (a full disk, a read-only database), /readyz probes with
-- a row written and deleted in one transaction; the table is otherwise empty.
CREATE TABLE write_probe (
    id      INTEGER PRIMARY KEY,
    payload BLOB NOT NULL
);

-- +goose Down
DROP TABLE write_probe;
