package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/frontdeskhq/frontdesk/lockout"
)

// IncrLockoutCounter atomically adds one to the counter key and returns the new
// count, in one statement on both engines. A counter whose expiry has passed
// at now starts again at 1. expiresAt is the expiry a new count gets (zero:
// none); an existing unexpired count keeps its expiry, except that a count
// without one gets expiresAt.
func (s *Store) IncrLockoutCounter(ctx context.Context, key string, now, expiresAt time.Time) (int64, error) {
	var n int64
	err := s.queryRow(ctx, `INSERT INTO lockout_counters (counter_key, n, expires_at) VALUES ($1, 1, $2)
		ON CONFLICT (counter_key) DO UPDATE SET
			n = CASE WHEN lockout_counters.expires_at IS NOT NULL AND lockout_counters.expires_at <= $3
				THEN 1 ELSE lockout_counters.n + 1 END,
			expires_at = CASE WHEN lockout_counters.expires_at IS NULL OR lockout_counters.expires_at <= $3
				THEN excluded.expires_at ELSE lockout_counters.expires_at END
		RETURNING n`, key, nullMicros(expiresAt), micros(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: lockout counter: %w", err)
	}
	return n, nil
}

// PeekLockoutCounter returns the counter's value at now and its expiry (zero
// when it has none). A missing or expired counter is 0.
func (s *Store) PeekLockoutCounter(ctx context.Context, key string, now time.Time) (int64, time.Time, error) {
	var (
		n   int64
		exp sql.NullInt64
	)
	err := s.queryRow(ctx, `SELECT n, expires_at FROM lockout_counters
		WHERE counter_key = $1 AND (expires_at IS NULL OR expires_at > $2)`, key, micros(now)).Scan(&n, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: lockout counter: %w", err)
	}
	return n, fromNullMicros(exp), nil
}

// DecrLockoutCounter subtracts one from the counter key when it is above
// zero; a missing counter stays missing.
func (s *Store) DecrLockoutCounter(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, `UPDATE lockout_counters SET n = n - 1 WHERE counter_key = $1 AND n > 0`, key); err != nil {
		return fmt.Errorf("store: decrement lockout counter: %w", err)
	}
	return nil
}

// DeleteLockoutCounter removes the counter key.
func (s *Store) DeleteLockoutCounter(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM lockout_counters WHERE counter_key = $1`, key); err != nil {
		return fmt.Errorf("store: reset lockout counter: %w", err)
	}
	return nil
}

// PurgeLockoutCounters deletes counters that expired before now and reports
// how many.
func (s *Store) PurgeLockoutCounters(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM lockout_counters WHERE expires_at IS NOT NULL AND expires_at <= $1`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("store: purge lockout counters: %w", err)
	}
	return res.RowsAffected()
}

// MemberLock is the durable record of one lock: who was locked, when, after
// how many attempts, from which client addresses, and when and by whom it was
// lifted.
type MemberLock struct {
	ID         string
	PracticeID string
	MemberID   string
	LockedAt   time.Time
	Attempts   int
	Addresses  []string
	UnlockedAt time.Time // zero while locked
	UnlockedBy string    // the unlocking member's ID, or "operator"
}

// LockMember locks an active member: in one transaction the status becomes
// locked and l is recorded. It reports false (and records nothing) when the
// member was not active — already locked, deactivated or not yet set up.
func (s *Store) LockMember(ctx context.Context, l MemberLock) (bool, error) {
	addrs, err := json.Marshal(orEmptyList(l.Addresses))
	if err != nil {
		return false, fmt.Errorf("store: lock addresses: %w", err)
	}
	locked := false
	err = s.InTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, `UPDATE members SET status = 'locked', updated_at = $1
			WHERE id = $2 AND practice_id = $3 AND status = 'active'`, micros(l.LockedAt), l.MemberID, l.PracticeID)
		if err != nil {
			return fmt.Errorf("store: lock member: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO member_locks (id, practice_id, member_id, locked_at, attempts, addresses)
			VALUES ($1, $2, $3, $4, $5, $6)`, l.ID, l.PracticeID, l.MemberID, micros(l.LockedAt), l.Attempts, string(addrs))
		if err != nil {
			return fmt.Errorf("store: lock record: %w", err)
		}
		locked = true
		return nil
	})
	return locked, err
}

// UnlockMember lifts a member's lock: in one transaction a locked member
// becomes active and the open lock record is closed with at and by. It reports
// false when the member was not locked (nothing changes then).
func (s *Store) UnlockMember(ctx context.Context, practiceID, memberID, by string, at time.Time) (bool, error) {
	unlocked := false
	err := s.InTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, `UPDATE members SET status = 'active', updated_at = $1
			WHERE id = $2 AND practice_id = $3 AND status = 'locked'`, micros(at), memberID, practiceID)
		if err != nil {
			return fmt.Errorf("store: unlock member: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE member_locks SET unlocked_at = $1, unlocked_by = $2
			WHERE member_id = $3 AND unlocked_at IS NULL`, micros(at), by, memberID); err != nil {
			return fmt.Errorf("store: close lock record: %w", err)
		}
		unlocked = true
		return nil
	})
	return unlocked, err
}

// MemberLocks returns the member's lock records, newest first.
func (s *Store) MemberLocks(ctx context.Context, practiceID, memberID string) ([]MemberLock, error) {
	rows, err := s.query(ctx, `SELECT id, practice_id, member_id, locked_at, attempts, addresses, unlocked_at, unlocked_by
		FROM member_locks WHERE practice_id = $1 AND member_id = $2 ORDER BY locked_at DESC, id DESC`, practiceID, memberID)
	if err != nil {
		return nil, fmt.Errorf("store: member locks: %w", err)
	}
	defer rows.Close()
	var out []MemberLock
	for rows.Next() {
		var (
			l        MemberLock
			at       int64
			addrs    string
			unlocked sql.NullInt64
		)
		if err := rows.Scan(&l.ID, &l.PracticeID, &l.MemberID, &at, &l.Attempts, &addrs, &unlocked, &l.UnlockedBy); err != nil {
			return nil, fmt.Errorf("store: member locks: %w", err)
		}
		l.LockedAt, l.UnlockedAt = fromMicros(at), fromNullMicros(unlocked)
		if err := json.Unmarshal([]byte(addrs), &l.Addresses); err != nil {
			return nil, fmt.Errorf("store: lock addresses: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: member locks: %w", err)
	}
	return out, nil
}

// RequireActiveMember succeeds only when the member is active. Inside a
// transaction it also takes the member's row lock (PostgreSQL), so a session
// started in that transaction and a concurrent lock are ordered: the session
// either exists before the lock or is not created. It returns ErrNotFound when
// the member is not active.
func (s *Store) RequireActiveMember(ctx context.Context, memberID string) error {
	return s.expectOne(s.exec(ctx, `UPDATE members SET status = status WHERE id = $1 AND status = 'active'`,
		memberID))("active member")
}

// RecentFailureAddrs returns up to limit distinct client addresses of the
// member's failed logins recorded after their last successful login or unlock.
func (s *Store) RecentFailureAddrs(ctx context.Context, practiceID, memberID string, limit int) ([]string, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT client_addr FROM audit_events
		WHERE subject_id = $2 AND practice_id = $1 AND action = 'login' AND outcome = 'failure' AND client_addr <> ''
		AND id > COALESCE((SELECT MAX(id) FROM audit_events WHERE subject_id = $2 AND practice_id = $1
			AND action IN ('login', 'member.unlock') AND outcome = 'success'), 0)
		ORDER BY client_addr LIMIT $3`, practiceID, memberID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: failure addresses: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("store: failure addresses: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: failure addresses: %w", err)
	}
	return out, nil
}

// ActiveMembersWithRoleFor returns the practice's active members holding any of
// roles, with all their roles, ordered by ID. Lock notifications go to
// them.
func (s *Store) ActiveMembersWithRoleFor(ctx context.Context, practiceID string, roles []string) ([]Member, error) {
	var ids []string
	for _, r := range dedupe(roles) {
		rows, err := s.query(ctx, `SELECT m.id FROM members m JOIN member_roles r ON r.member_id = m.id
			WHERE m.practice_id = $1 AND m.status = 'active' AND r.role_key = $2`, practiceID, r)
		if err != nil {
			return nil, fmt.Errorf("store: members with role: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: members with role: %w", err)
			}
			ids = append(ids, id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: members with role: %w", err)
		}
	}
	var out []Member
	for _, id := range dedupe(ids) {
		m, err := s.MemberByID(ctx, practiceID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func orEmptyList(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// RecentFailures counts the failed password attempts (login, reauthentication,
// password change) at the practice's member whose email has the key
// accountKey (EmailKey), recorded in the audit trail after since (zero: ever)
// and after the member's last successful login, reauthentication, password
// change or unlock — the durable record a lost Redis count is rebuilt from
// (lockout.FailureRecord). An address without a member has none.
func (s *Store) RecentFailures(ctx context.Context, practiceID, accountKey string, since time.Time) (int64, error) {
	var n int64
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM audit_events a
		JOIN members m ON m.id = a.subject_id AND m.practice_id = a.practice_id
		WHERE m.practice_id = $1 AND m.email_key = $2 AND a.outcome = 'failure'
		AND a.action IN ('login', 'reauthenticate', 'password.change') AND a.at > $3
		AND a.id > COALESCE((SELECT MAX(b.id) FROM audit_events b WHERE b.subject_id = m.id AND b.practice_id = $1
			AND b.action IN ('login', 'reauthenticate', 'password.change', 'member.unlock') AND b.outcome = 'success'), 0)`,
		practiceID, accountKey, micros(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: recent failures: %w", err)
	}
	return n, nil
}

// The lockout feature's storage (lockout.LockStore): the durable lock and
// unlock, each one transaction with its audit event.

// Lockout is what the lockout feature needs of p.
func (p Practice) Lockout() lockout.Practice {
	return lockout.Practice{ID: p.ID, Slug: p.Slug, Name: p.Name, Settings: p.Settings, TimeZone: p.TimeZone}
}

// Lockout is what the lockout feature needs of m.
func (m Member) Lockout() lockout.Member {
	return lockout.Member{ID: m.ID, Email: m.Email, AccountKey: EmailKey(m.Email),
		Active: m.Status == StatusActive, Locked: m.Status == StatusLocked, Name: m.lockoutName()}
}

// LockoutMember returns the practice's member with that ID, or when id is
// empty with that email (lockout.LockStore); found is false when none.
func (s *Store) LockoutMember(ctx context.Context, practiceID, id, email string) (lockout.Member, bool, error) {
	var (
		m   Member
		err error
	)
	if id != "" {
		m, err = s.MemberByID(ctx, practiceID, id)
	} else {
		m, err = s.MemberByEmail(ctx, practiceID, email)
	}
	if errors.Is(err, ErrNotFound) {
		return lockout.Member{}, false, nil
	}
	if err != nil {
		return lockout.Member{}, false, err
	}
	return m.Lockout(), true, nil
}

// LockAndAudit locks an active member (LockMember) and appends e in the same
// transaction (lockout.LockStore). It reports false, recording nothing, when
// the member was not active.
func (s *Store) LockAndAudit(ctx context.Context, l lockout.Lock, e lockout.AuditEvent) (bool, error) {
	locked := false
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		locked, err = tx.LockMember(ctx, MemberLock{ID: l.ID, PracticeID: l.PracticeID, MemberID: l.MemberID,
			LockedAt: l.LockedAt, Attempts: l.Attempts, Addresses: l.Addresses})
		if err != nil || !locked {
			return err
		}
		return tx.appendLockoutAudit(ctx, e)
	})
	return locked, err
}

// UnlockAndAudit lifts the member's lock (UnlockMember) and appends the event
// audit returns for whether the member was locked, in one transaction
// (lockout.LockStore).
func (s *Store) UnlockAndAudit(ctx context.Context, practiceID, memberID, by string, at time.Time,
	audit func(wasLocked bool) lockout.AuditEvent) (bool, error) {
	var was bool
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if was, err = tx.UnlockMember(ctx, practiceID, memberID, by, at); err != nil {
			return err
		}
		return tx.appendLockoutAudit(ctx, audit(was))
	})
	return was, err
}

// AppendLockoutAudit appends a lockout event on its own (lockout.LockStore).
func (s *Store) AppendLockoutAudit(ctx context.Context, e lockout.AuditEvent) error {
	return s.appendLockoutAudit(ctx, e)
}

func (s *Store) appendLockoutAudit(ctx context.Context, e lockout.AuditEvent) error {
	if err := s.AppendAudit(ctx, AuditEvent{PracticeID: e.PracticeID, At: e.At, Action: e.Action, Outcome: e.Outcome,
		ActorID: e.ActorID, SubjectID: e.SubjectID, ClientAddr: e.ClientAddr, UserAgent: e.UserAgent,
		RequestID: e.RequestID, Details: e.Details}); err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Action, err)
	}
	return nil
}

// NoteRedisRun records run as the Redis run the lockout counter last saw, at,
// and reports whether the database had never seen a Redis run before
// (lockout.RunRecord). Of replicas noting the first run at once, one is
// first.
func (s *Store) NoteRedisRun(ctx context.Context, run string, at time.Time) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO lockout_redis_run (id, run_id, seen_at) VALUES (1, $1, $2)
		ON CONFLICT (id) DO NOTHING`, run, micros(at))
	if err != nil {
		return false, fmt.Errorf("store: note redis run: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, fmt.Errorf("store: note redis run: %w", err)
	} else if n == 1 {
		return true, nil
	}
	if _, err := s.exec(ctx, `UPDATE lockout_redis_run SET run_id = $1, seen_at = $2 WHERE id = 1 AND run_id <> $1`,
		run, micros(at)); err != nil {
		return false, fmt.Errorf("store: note redis run: %w", err)
	}
	return false, nil
}

var (
	_ lockout.LockStore     = (*Store)(nil)
	_ lockout.FailureRecord = (*Store)(nil)
	_ lockout.RunRecord     = (*Store)(nil)
)

// lockoutName is the member's name for the lock notices: the display or
// legal name, "" when there is none.
func (m Member) lockoutName() string {
	if m.DisplayName != "" {
		return m.DisplayName
	}
	return m.LegalName
}
