package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Session is a signed-in browser. Only the SHA-256 hash of its cookie token is
// stored. It ends at ExpiresAt (absolute lifetime), after an idle period measured
// from LastSeenAt, or when EndedAt is set (logout, password change, removal).
type Session struct {
	ID         string
	PracticeID string
	MemberID   string
	// AMR lists how the person authenticated ("pwd", later "hwk", "fed"), as in
	// the amr claim of OpenID Connect.
	AMR        []string
	AuthTime   time.Time
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	EndedAt    time.Time // zero while the session is open
	// MustChangePassword marks a session started with a temporary password:
	// it may only set a new password, and no app gets a token for it.
	MustChangePassword bool
}

// CreateSession stores sess under the hash of its cookie token.
func (s *Store) CreateSession(ctx context.Context, sess Session, tokenHash []byte) error {
	restricted := 0
	if sess.MustChangePassword {
		restricted = 1
	}
	_, err := s.exec(ctx, `INSERT INTO sessions (id, token_hash, practice_id, member_id, amr, auth_time,
		created_at, last_seen_at, expires_at, must_change_password) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		sess.ID, tokenHash, sess.PracticeID, sess.MemberID, strings.Join(sess.AMR, " "),
		micros(sess.AuthTime), micros(sess.CreatedAt), micros(sess.LastSeenAt), micros(sess.ExpiresAt), restricted)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionByTokenHash finds a session by the hash of its token, ended or not; the
// caller decides whether it is still valid.
func (s *Store) SessionByTokenHash(ctx context.Context, tokenHash []byte) (Session, error) {
	var (
		sess                             Session
		amr                              string
		authTime, created, seen, expires int64
		ended                            sql.NullInt64
		restricted                       int
	)
	err := s.queryRow(ctx, `SELECT id, practice_id, member_id, amr, auth_time, created_at, last_seen_at,
		expires_at, ended_at, must_change_password FROM sessions WHERE token_hash = $1`, tokenHash).
		Scan(&sess.ID, &sess.PracticeID, &sess.MemberID, &amr, &authTime, &created, &seen, &expires, &ended, &restricted)
	sess.MustChangePassword = restricted != 0
	if err != nil {
		return Session{}, notFound(err, "session")
	}
	sess.AMR = strings.Fields(amr)
	sess.AuthTime, sess.CreatedAt, sess.LastSeenAt = fromMicros(authTime), fromMicros(created), fromMicros(seen)
	sess.ExpiresAt, sess.EndedAt = fromMicros(expires), fromNullMicros(ended)
	return sess, nil
}

// TouchSession records activity on an open session, extending its idle timeout.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL`, micros(at), id)
	if err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// EndSession ends one session. Ending an already-ended session is not an error.
func (s *Store) EndSession(ctx context.Context, id string, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL`, micros(at), id)
	if err != nil {
		return fmt.Errorf("store: end session: %w", err)
	}
	return nil
}

// EndMemberSessions ends every open session of the member except keepID (which
// may be ""), and reports how many it ended. The refresh tokens issued under
// the ended sessions are revoked with them, in the same transaction, as a
// logout revokes its session's: an access token of an ended session is
// refused (CheckAccessToken), so its refresh token must not mint more.
func (s *Store) EndMemberSessions(ctx context.Context, memberID, keepID string, at time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, `UPDATE sessions SET ended_at = $1
			WHERE member_id = $2 AND id <> $3 AND ended_at IS NULL`, micros(at), memberID, keepID)
		if err != nil {
			return fmt.Errorf("store: end member sessions: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("store: end member sessions: %w", err)
		}
		if n == 0 {
			return nil
		}
		_, err = tx.revokeRefresh(ctx, `member_id = $2 AND session_id IN
			(SELECT id FROM sessions WHERE member_id = $2 AND ended_at = $1)`, memberID, at)
		return err
	})
	return n, err
}
