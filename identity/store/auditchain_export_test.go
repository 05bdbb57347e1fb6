package store

import (
	"context"
	"errors"
	"time"
)

// ExecRawForTest runs a raw statement ($N placeholders) so tests can tamper with
// rows the way an attacker with database access would.
func (s *Store) ExecRawForTest(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Rotation is one refresh-token rotation for RotateBatchForTest.
type Rotation struct {
	UsedID   string
	Next     RefreshToken
	NextHash []byte
	Now      time.Time
}

// RotateBatchForTest runs rotations as one batch, as the rotation batcher
// would if they had all arrived while a batch was running, and returns
// what RotateRefreshToken would have returned for each, and how many of them
// the batch sent back to run alone.
func (s *Store) RotateBatchForTest(ctx context.Context, rotations []Rotation) (errs []error, alone int) {
	batch := make([]*rotateReq, len(rotations))
	for i, r := range rotations {
		batch[i] = &rotateReq{usedID: r.UsedID, next: r.Next, nextHash: r.NextHash, now: r.Now, ctx: ctx,
			done: make(chan error, 1)}
	}
	s.runRotations(batch)
	errs = make([]error, len(batch))
	for i, r := range batch {
		if errs[i] = <-r.done; errors.Is(errs[i], errRotateAlone) {
			alone++
			errs[i] = s.rotateAlone(ctx, r.usedID, r.next, r.nextHash, r.now)
		}
	}
	return errs, alone
}
