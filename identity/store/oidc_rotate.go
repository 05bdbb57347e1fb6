package store

import (
	"context"
	"fmt"
	"time"
)

// RotateRefreshToken is one refresh grant's only write: in a single
// transaction it marks the token usedID used and stores next under
// nextHash. usedID must be the ID of a token the caller read (by its hash)
// and found unused, unrevoked and unexpired at now. If it has since been used
// (a concurrent or replayed redemption won), its whole family is revoked, the
// revocation is committed, next is not stored and ErrRefreshReplayed is
// returned; if it has since been revoked or has expired, nothing changes and
// ErrNotFound is returned.
func (s *Store) RotateRefreshToken(ctx context.Context, usedID string, next RefreshToken, nextHash []byte, now time.Time) error {
	var outcome error
	err := s.InTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, `UPDATE oidc_refresh_tokens SET used_at = $1
			WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1`, micros(now), usedID)
		if err != nil {
			return fmt.Errorf("store: use refresh token: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: use refresh token: %w", err)
		}
		if n == 1 {
			return tx.CreateRefreshToken(ctx, next, nextHash)
		}
		var (
			familyID string
			used     *int64
		)
		if err := tx.queryRow(ctx, `SELECT family_id, used_at FROM oidc_refresh_tokens WHERE id = $1`, usedID).
			Scan(&familyID, &used); err != nil {
			return notFound(err, "refresh token")
		}
		if used == nil {
			outcome = fmt.Errorf("refresh token revoked or expired: %w", ErrNotFound)
			return nil
		}
		outcome = ErrRefreshReplayed
		_, err = tx.RevokeRefreshFamily(ctx, familyID, now)
		return err
	})
	if err != nil {
		return err
	}
	return outcome
}
