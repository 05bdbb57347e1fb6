package store

import (
	"context"
	"fmt"
	"strings"
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
	if s.d.oneStatementRotate && !s.inTx {
		// The usual case in one statement (one round trip instead of four);
		// if it stored nothing, the transaction below finds out why.
		if ok, err := s.rotateOneStatement(ctx, usedID, next, nextHash, now); err != nil || ok {
			return err
		}
	}
	if s.rotations != nil && !s.inTx {
		return s.rotateBatched(ctx, usedID, next, nextHash, now)
	}
	var outcome error
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		outcome, err = tx.rotateIn(ctx, usedID, next, nextHash, now)
		return err
	})
	if err != nil {
		return err
	}
	return outcome
}

// rotateIn is RotateRefreshToken's work inside the transaction tx. It
// returns the grant's outcome (nil, ErrRefreshReplayed or ErrNotFound; each
// leaves tx fit to commit) or an error that must abort it.
func (tx *Store) rotateIn(ctx context.Context, usedID string, next RefreshToken, nextHash []byte, now time.Time) (outcome, err error) {
	res, err := tx.exec(ctx, `UPDATE oidc_refresh_tokens SET used_at = $1
		WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1`, micros(now), usedID)
	if err != nil {
		return nil, fmt.Errorf("store: use refresh token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, fmt.Errorf("store: use refresh token: %w", err)
	}
	if n == 1 {
		return nil, tx.CreateRefreshToken(ctx, next, nextHash)
	}
	var (
		familyID string
		used     *int64
	)
	if err := tx.queryRow(ctx, `SELECT family_id, used_at FROM oidc_refresh_tokens WHERE id = $1`, usedID).
		Scan(&familyID, &used); err != nil {
		return nil, notFound(err, "refresh token")
	}
	if used == nil {
		return fmt.Errorf("refresh token revoked or expired: %w", ErrNotFound), nil
	}
	if _, err := tx.RevokeRefreshFamily(ctx, familyID, now); err != nil {
		return nil, err
	}
	return ErrRefreshReplayed, nil
}

// rotateOneStatement marks usedID used and stores next in one PostgreSQL
// statement (a data-modifying CTE: both happen or neither). It reports
// whether they did; false means usedID was not unused, unrevoked and
// unexpired when the statement ran.
func (s *Store) rotateOneStatement(ctx context.Context, usedID string, next RefreshToken, nextHash []byte, now time.Time) (bool, error) {
	res, err := s.exec(ctx, `WITH used AS (
			UPDATE oidc_refresh_tokens SET used_at = $1
			WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 RETURNING id)
		INSERT INTO oidc_refresh_tokens (id, token_hash, family_id, client_id, practice_id,
			member_id, session_id, scopes, amr, auth_time, created_at, expires_at)
		SELECT $3::text, $4::bytea, $5::text, $6::text, $7::text, $8::text, $9::text, $10::text, $11::text,
			$12::bigint, $13::bigint, $14::bigint
		WHERE EXISTS (SELECT 1 FROM used)`,
		micros(now), usedID, next.ID, nextHash, next.FamilyID, next.ClientID, next.PracticeID, next.MemberID,
		next.SessionID, strings.Join(next.Scopes, " "), strings.Join(next.AMR, " "), micros(next.AuthTime),
		micros(next.CreatedAt), micros(next.ExpiresAt))
	if err != nil {
		return false, fmt.Errorf("store: rotate refresh token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: rotate refresh token: %w", err)
	}
	return n == 1, nil
}
