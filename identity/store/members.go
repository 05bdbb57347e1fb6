package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MemberStatus is where a member account stands.
type MemberStatus string

// Member statuses.
const (
	// StatusInvited: the account exists but its owner has not set a credential yet.
	StatusInvited MemberStatus = "invited"
	// StatusActive: the member can log in.
	StatusActive MemberStatus = "active"
	// StatusLocked: too many failed attempts; an administrator must unlock.
	StatusLocked MemberStatus = "locked"
	// StatusDeactivated: access removed; every record is kept.
	StatusDeactivated MemberStatus = "deactivated"
)

// Valid reports whether st is one of the defined statuses.
func (st MemberStatus) Valid() bool {
	switch st {
	case StatusInvited, StatusActive, StatusLocked, StatusDeactivated:
		return true
	}
	return false
}

// Member is one person's account in one practice. The same person working for
// two practices has two members.
type Member struct {
	ID          string
	PracticeID  string
	Email       string // as the person wrote it
	DisplayName string // display / preferred name
	LegalName   string
	NPI         string // National Provider Identifier, for practitioners
	Taxonomy    string // provider taxonomy code
	// Credentials are a practitioner's post-nominal letters, e.g.
	// "LCSW, PhD".
	Credentials string
	Status      MemberStatus
	Roles       []string // role keys, sorted
	// PasswordHash is an argon2id PHC string, or "" when no password is set.
	PasswordHash      string
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// EmailKey is the form of an address used for uniqueness and look-up: the whole
// address lower-cased, so case variants are one account.
func EmailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateMember inserts m with its roles. It returns ErrConflict when the practice
// already has a member with that email in any letter case.
func (s *Store) CreateMember(ctx context.Context, m Member) error {
	return s.InTx(ctx, func(tx *Store) error {
		_, err := tx.exec(ctx, `INSERT INTO members (id, practice_id, email, email_key, display_name,
			legal_name, npi, taxonomy, status, password_hash, password_changed_at, created_at, updated_at, credentials)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			m.ID, m.PracticeID, m.Email, EmailKey(m.Email), m.DisplayName, m.LegalName, m.NPI, m.Taxonomy,
			string(m.Status), nullString(m.PasswordHash), nullMicros(m.PasswordChangedAt),
			micros(m.CreatedAt), micros(m.CreatedAt), m.Credentials)
		if isUniqueViolation(err) {
			return fmt.Errorf("member: %w", ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("store: create member: %w", err)
		}
		return tx.setRoles(ctx, m.ID, m.Roles)
	})
}

// SetMemberRoles replaces the member's roles.
func (s *Store) SetMemberRoles(ctx context.Context, memberID string, roles []string) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, `DELETE FROM member_roles WHERE member_id = $1`, memberID); err != nil {
			return fmt.Errorf("store: clear roles: %w", err)
		}
		return tx.setRoles(ctx, memberID, roles)
	})
}

func (s *Store) setRoles(ctx context.Context, memberID string, roles []string) error {
	for _, r := range dedupe(roles) {
		if _, err := s.exec(ctx, `INSERT INTO member_roles (member_id, role_key) VALUES ($1, $2)`, memberID, r); err != nil {
			return fmt.Errorf("store: add role: %w", err)
		}
	}
	return nil
}

const memberColumns = `id, practice_id, email, display_name, legal_name, npi, taxonomy, status,
	password_hash, password_changed_at, created_at, updated_at, credentials`

// memberSelect reads memberColumns and, in the same statement, the member's
// role keys (memberRolesSQLite/Postgres) of the member matching where: one
// round trip instead of two, and members are read on every login and token
// grant. The queries are constants, built once.
func (s *Store) memberSelect(byEmail bool) string {
	if byEmail {
		return s.d.memberByEmail
	}
	return s.d.memberByID
}

const (
	memberSelectSQLite    = `SELECT ` + memberColumns + `, ` + memberRolesSQLite + ` FROM members m`
	memberSelectPostgres  = `SELECT ` + memberColumns + `, ` + memberRolesPostgres + ` FROM members m`
	memberWhereEmail      = ` WHERE practice_id = $1 AND email_key = $2`
	memberWhereID         = ` WHERE practice_id = $1 AND id = $2`
	memberByEmailSQLite   = memberSelectSQLite + memberWhereEmail
	memberByIDSQLite      = memberSelectSQLite + memberWhereID
	memberByEmailPostgres = memberSelectPostgres + memberWhereEmail
	memberByIDPostgres    = memberSelectPostgres + memberWhereID
)

// memberRolesSQLite and memberRolesPostgres are a scalar subquery giving the
// role keys of the member row m as a JSON array.
const (
	memberRolesSQLite   = `(SELECT json_group_array(role_key) FROM member_roles WHERE member_id = m.id)`
	memberRolesPostgres = `(SELECT COALESCE(json_agg(role_key), '[]'::json)::text FROM member_roles WHERE member_id = m.id)`
)

// memberRow receives a member's columns as memberSelect orders them; every
// column is nullable so that it can also come from the far side of an
// outer join.
type memberRow struct {
	id, practiceID, email, displayName, legalName, npi, taxonomy, status, hash sql.NullString
	changed, created, updated                                                  sql.NullInt64
	roles, credentials                                                         sql.NullString
}

func (r *memberRow) dest() []any {
	return []any{&r.id, &r.practiceID, &r.email, &r.displayName, &r.legalName, &r.npi, &r.taxonomy, &r.status,
		&r.hash, &r.changed, &r.created, &r.updated, &r.credentials, &r.roles}
}

func (r *memberRow) member() (Member, error) {
	m := Member{ID: r.id.String, PracticeID: r.practiceID.String, Email: r.email.String,
		DisplayName: r.displayName.String, LegalName: r.legalName.String, NPI: r.npi.String,
		Taxonomy: r.taxonomy.String, Status: MemberStatus(r.status.String), PasswordHash: r.hash.String,
		PasswordChangedAt: fromNullMicros(r.changed), CreatedAt: fromMicros(r.created.Int64),
		UpdatedAt: fromMicros(r.updated.Int64), Credentials: r.credentials.String}
	if r.roles.Valid {
		if err := json.Unmarshal([]byte(r.roles.String), &m.Roles); err != nil {
			return Member{}, fmt.Errorf("store: member roles: %w", err)
		}
	}
	if len(m.Roles) == 0 {
		m.Roles = nil
	}
	slices.Sort(m.Roles)
	return m, nil
}

// MemberByEmail finds a member of a practice by email, ignoring letter case.
func (s *Store) MemberByEmail(ctx context.Context, practiceID, email string) (Member, error) {
	return s.getMember(ctx, s.memberSelect(true), practiceID, EmailKey(email))
}

// MemberByID finds a member of a practice by ID. A member of another practice is
// reported as not found.
func (s *Store) MemberByID(ctx context.Context, practiceID, id string) (Member, error) {
	return s.getMember(ctx, s.memberSelect(false), practiceID, id)
}

func (s *Store) getMember(ctx context.Context, query string, args ...any) (Member, error) {
	var r memberRow
	if err := s.queryRow(ctx, query, args...).Scan(r.dest()...); err != nil {
		return Member{}, notFound(err, "member")
	}
	return r.member()
}

// SetPassword stores a new password hash for the member. When activate is true an
// invited member becomes active in the same statement (setting a first password).
func (s *Store) SetPassword(ctx context.Context, memberID, hash string, at time.Time, activate bool) error {
	q := `UPDATE members SET password_hash = $1, password_changed_at = $2, updated_at = $2 WHERE id = $3`
	if activate {
		q = `UPDATE members SET password_hash = $1, password_changed_at = $2, updated_at = $2,
			status = CASE WHEN status = 'invited' THEN 'active' ELSE status END WHERE id = $3`
	}
	return s.expectOne(s.exec(ctx, q, hash, micros(at), memberID))("set password")
}

// RehashPassword replaces the stored hash only if it still equals old, so a
// transparent parameter upgrade never overwrites a password changed meanwhile.
func (s *Store) RehashPassword(ctx context.Context, memberID, old, hash string, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE members SET password_hash = $1, updated_at = $2
		WHERE id = $3 AND password_hash = $4`, hash, micros(at), memberID, old)
	if err != nil {
		return fmt.Errorf("store: rehash password: %w", err)
	}
	return nil
}

// SetMemberStatus changes a member's status. Deactivation keeps every record.
func (s *Store) SetMemberStatus(ctx context.Context, memberID string, st MemberStatus, at time.Time) error {
	if !st.Valid() {
		return fmt.Errorf("store: invalid member status %q", st)
	}
	return s.expectOne(s.exec(ctx, `UPDATE members SET status = $1, updated_at = $2 WHERE id = $3`,
		string(st), micros(at), memberID))("set member status")
}

// expectOne turns an Exec result into ErrNotFound when no row was touched.
func (s *Store) expectOne(res sql.Result, err error) func(what string) error {
	return func(what string) error {
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if n == 0 {
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		return nil
	}
}

func nullString(v string) sql.NullString { return sql.NullString{String: v, Valid: v != ""} }

func dedupe(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
