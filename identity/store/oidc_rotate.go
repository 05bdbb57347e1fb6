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
	if s.rotations != nil && !s.inTx {
		return s.rotateBatched(ctx, usedID, next, nextHash, now)
	}
	return s.rotateAlone(ctx, usedID, next, nextHash, now)
}

// rotateAlone is RotateRefreshToken in a transaction of its own (or the
// caller's).
func (s *Store) rotateAlone(ctx context.Context, usedID string, next RefreshToken, nextHash []byte, now time.Time) error {
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

// rotateManyPostgres marks each token of a batch used and stores its
// successor, in one PostgreSQL statement (data-modifying CTEs: every row of
// it happens or none does). Arrays $1–$14 hold, per rotation, the used
// token's ID and the time of use, then the successor's columns; the used IDs
// must be distinct. A successor is inserted only if its used token was
// unused, unrevoked and unexpired at its time of use; the statement returns
// the IDs of the successors inserted.
const rotateManyPostgres = `WITH v AS (
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[], $14::bigint[])
		AS v(used_id, used_at, id, token_hash, family_id, client_id, practice_id, member_id, session_id,
			scopes, amr, auth_time, created_at, expires_at)),
	used AS (
		UPDATE oidc_refresh_tokens t SET used_at = v.used_at FROM v
		WHERE t.id = v.used_id AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > v.used_at
		RETURNING t.id)
	INSERT INTO oidc_refresh_tokens (id, token_hash, family_id, client_id, practice_id, member_id, session_id,
		scopes, amr, auth_time, created_at, expires_at)
	SELECT id, token_hash, family_id, client_id, practice_id, member_id, session_id,
		scopes, amr, auth_time, created_at, expires_at
	FROM v WHERE used_id IN (SELECT id FROM used)
	RETURNING id`

// rotateMany runs the rotations of batch (distinct used IDs) as one
// statement and reports, per rotation, whether it took place; one that did
// not found its token no longer unused, unrevoked and unexpired.
func (s *Store) rotateMany(ctx context.Context, batch []*rotateReq) ([]bool, error) {
	n := len(batch)
	var (
		usedIDs, ids, families, clients, practices = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		members, sessions, scopes, amrs            = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		hashes                                     = make([][]byte, n)
		usedAt, authTimes, created, expires        = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	)
	byID := make(map[string]int, n)
	for i, r := range batch {
		t := r.next
		usedIDs[i], usedAt[i], ids[i], hashes[i] = r.usedID, micros(r.now), t.ID, r.nextHash
		families[i], clients[i], practices[i], members[i], sessions[i] = t.FamilyID, t.ClientID, t.PracticeID, t.MemberID, t.SessionID
		scopes[i], amrs[i] = strings.Join(t.Scopes, " "), strings.Join(t.AMR, " ")
		authTimes[i], created[i], expires[i] = micros(t.AuthTime), micros(t.CreatedAt), micros(t.ExpiresAt)
		byID[t.ID] = i
	}
	rows, err := s.query(ctx, rotateManyPostgres, usedIDs, usedAt, ids, hashes, families, clients, practices, members,
		sessions, scopes, amrs, authTimes, created, expires)
	if err != nil {
		return nil, fmt.Errorf("store: rotate refresh tokens: %w", err)
	}
	defer rows.Close()
	done := make([]bool, n)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: rotate refresh tokens: %w", err)
		}
		if i, ok := byID[id]; ok {
			done[i] = true
		}
	}
	if err := rows.Err(); err != nil {
		s.health.observe(err)
		return nil, fmt.Errorf("store: rotate refresh tokens: %w", err)
	}
	return done, nil
}
