package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// LinkPurpose says what a single-use link may be used for; a link for one purpose
// is never accepted for another.
type LinkPurpose string

// Link purposes.
const (
	// PurposeSetup lets a practice owner set the first password.
	PurposeSetup LinkPurpose = "setup"
)

// Link is a single-use, expiring link emailed to a member. Only the SHA-256 hash
// of its token is stored.
type Link struct {
	ID         string
	Purpose    LinkPurpose
	PracticeID string
	MemberID   string
	Email      string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ConsumedAt time.Time // zero while unused
}

// CreateLink stores l under the hash of its token.
func (s *Store) CreateLink(ctx context.Context, l Link, tokenHash []byte) error {
	_, err := s.exec(ctx, `INSERT INTO links (id, token_hash, purpose, practice_id, member_id, email,
		created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		l.ID, tokenHash, string(l.Purpose), l.PracticeID, l.MemberID, l.Email,
		micros(l.CreatedAt), micros(l.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create link: %w", err)
	}
	return nil
}

// LinkByTokenHash finds a link by the hash of its token, used or not.
func (s *Store) LinkByTokenHash(ctx context.Context, tokenHash []byte) (Link, error) {
	var (
		l                Link
		purpose          string
		created, expires int64
		consumed         sql.NullInt64
	)
	err := s.queryRow(ctx, `SELECT id, purpose, practice_id, member_id, email, created_at, expires_at,
		consumed_at FROM links WHERE token_hash = $1`, tokenHash).
		Scan(&l.ID, &purpose, &l.PracticeID, &l.MemberID, &l.Email, &created, &expires, &consumed)
	if err != nil {
		return Link{}, notFound(err, "link")
	}
	l.Purpose = LinkPurpose(purpose)
	l.CreatedAt, l.ExpiresAt, l.ConsumedAt = fromMicros(created), fromMicros(expires), fromNullMicros(consumed)
	return l, nil
}

// ConsumeLink marks the link used at now. It succeeds for exactly one caller: a
// link already consumed, or expired at now, yields ErrLinkUnusable. Two
// concurrent redemptions of one link therefore cannot both succeed.
func (s *Store) ConsumeLink(ctx context.Context, id string, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE links SET consumed_at = $1
		WHERE id = $2 AND consumed_at IS NULL AND expires_at > $1`, micros(now), id)
	if err != nil {
		return fmt.Errorf("store: consume link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: consume link: %w", err)
	}
	if n != 1 {
		return fmt.Errorf("consume link: %w", ErrLinkUnusable)
	}
	return nil
}

// VoidLinks consumes every unused link of the member for purpose, so that issuing
// a new link voids the older ones.
func (s *Store) VoidLinks(ctx context.Context, memberID string, purpose LinkPurpose, now time.Time) error {
	_, err := s.exec(ctx, `UPDATE links SET consumed_at = $1
		WHERE member_id = $2 AND purpose = $3 AND consumed_at IS NULL`, micros(now), memberID, string(purpose))
	if err != nil {
		return fmt.Errorf("store: void links: %w", err)
	}
	return nil
}
