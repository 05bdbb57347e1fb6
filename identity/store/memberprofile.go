package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SetMemberDisplayName changes a member's display name.
func (s *Store) SetMemberDisplayName(ctx context.Context, memberID, name string, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE members SET display_name = $1, updated_at = $2 WHERE id = $3`,
		name, micros(at), memberID))("set display name")
}

// PractitionerProfile is a practitioner's clinical information: the legal
// name (claims, superbills), the preferred (display) name, credentials, NPI
// and taxonomy code.
type PractitionerProfile struct {
	LegalName     string
	PreferredName string
	Credentials   string
	NPI           string
	Taxonomy      string
}

// Profile is the member's practitioner profile.
func (m Member) Profile() PractitionerProfile {
	return PractitionerProfile{LegalName: m.LegalName, PreferredName: m.DisplayName, Credentials: m.Credentials,
		NPI: m.NPI, Taxonomy: m.Taxonomy}
}

// SetPractitionerProfile stores a member's practitioner profile (checked by
// the caller); the preferred name is the display name.
func (s *Store) SetPractitionerProfile(ctx context.Context, memberID string, p PractitionerProfile, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE members SET legal_name = $1, display_name = $2, credentials = $3,
		npi = $4, taxonomy = $5, updated_at = $6 WHERE id = $7`,
		p.LegalName, p.PreferredName, p.Credentials, p.NPI, p.Taxonomy, micros(at), memberID))("set practitioner profile")
}

// MemberName is what the audit trail shows of a member.
type MemberName struct {
	ID, Email, DisplayName, LegalName string
	Roles                             []string
}

// MemberNames returns the named members of the practice by ID (at most 500
// IDs are looked up; unknown IDs are left out), with their role keys.
func (s *Store) MemberNames(ctx context.Context, practiceID string, ids []string) (map[string]MemberName, error) {
	out := map[string]MemberName{}
	if len(ids) > 500 {
		ids = ids[:500]
	}
	for start := 0; start < len(ids); start += 100 {
		chunk := ids[start:min(start+100, len(ids))]
		args := []any{practiceID}
		marks := make([]string, 0, len(chunk))
		for _, id := range chunk {
			args = append(args, id)
			marks = append(marks, "$"+strconv.Itoa(len(args)))
		}
		rows, err := s.query(ctx, `SELECT m.id, m.email, m.display_name, m.legal_name, r.role_key FROM members m
			LEFT JOIN member_roles r ON r.member_id = m.id
			WHERE m.practice_id = $1 AND m.id IN (`+strings.Join(marks, ", ")+`) ORDER BY m.id, r.role_key`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: member names: %w", err)
		}
		for rows.Next() {
			var (
				n    MemberName
				role sql.NullString
			)
			if err := rows.Scan(&n.ID, &n.Email, &n.DisplayName, &n.LegalName, &role); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: member names: %w", err)
			}
			prev, seen := out[n.ID]
			if seen {
				n.Roles = prev.Roles
			}
			if role.Valid {
				n.Roles = append(n.Roles, role.String)
			}
			out[n.ID] = n
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: member names: %w", err)
		}
	}
	return out, nil
}
