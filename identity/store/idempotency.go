package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrIdempotencyInProgress reports that a request with the same idempotency
// key is still being processed.
var ErrIdempotencyInProgress = errors.New("store: a request with this idempotency key is in progress")

// IdempotentResponse is the stored outcome of a request made with an
// idempotency key. Status 0 means the request is still in progress.
type IdempotentResponse struct {
	RequestHash string
	Status      int
	Body        string
}

// ReserveIdempotencyKey claims key for actor in practice. It returns
// (nil, nil) when the key is new and now reserved for this request, or the
// stored response when the key was used before (the caller compares
// RequestHash and replays it), or ErrIdempotencyInProgress.
func (s *Store) ReserveIdempotencyKey(ctx context.Context, practiceID, actorID, key, requestHash string, now time.Time) (*IdempotentResponse, error) {
	res, err := s.exec(ctx, `INSERT INTO idempotency_keys (practice_id, actor_id, idem_key, request_hash, status, body, created_at)
		VALUES ($1, $2, $3, $4, 0, '', $5) ON CONFLICT (practice_id, actor_id, idem_key) DO NOTHING`,
		practiceID, actorID, key, requestHash, micros(now))
	if err != nil {
		return nil, fmt.Errorf("store: reserve idempotency key: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return nil, nil
	}
	var r IdempotentResponse
	if err := s.queryRow(ctx, `SELECT request_hash, status, body FROM idempotency_keys
		WHERE practice_id = $1 AND actor_id = $2 AND idem_key = $3`, practiceID, actorID, key).Scan(
		&r.RequestHash, &r.Status, &r.Body); err != nil {
		return nil, notFound(err, "idempotency key")
	}
	if r.Status == 0 && r.RequestHash == requestHash {
		return nil, ErrIdempotencyInProgress
	}
	return &r, nil
}

// CompleteIdempotencyKey stores the response of a reserved key.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, practiceID, actorID, key string, status int, body string) error {
	if _, err := s.exec(ctx, `UPDATE idempotency_keys SET status = $1, body = $2
		WHERE practice_id = $3 AND actor_id = $4 AND idem_key = $5`, status, body, practiceID, actorID, key); err != nil {
		return fmt.Errorf("store: complete idempotency key: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey forgets a reserved key whose request failed without
// effect, so it can be retried.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, practiceID, actorID, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM idempotency_keys WHERE practice_id = $1 AND actor_id = $2 AND idem_key = $3
		AND status = 0`, practiceID, actorID, key); err != nil {
		return fmt.Errorf("store: release idempotency key: %w", err)
	}
	return nil
}

// PurgeIdempotencyKeys deletes keys older than before and returns how many.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency keys: %w", err)
	}
	return res.RowsAffected()
}
