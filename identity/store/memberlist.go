package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// MemberFilter selects a page of a practice's members, ordered by email.
type MemberFilter struct {
	PracticeID string
	// Query matches a substring of the display name, legal name or email,
	// case-insensitively.
	Query string
	Role  string // only members holding this role key
	// Roles, when not empty, keeps members holding at least one of these
	// role keys (the console's multi-role filter); at most 50 are used.
	Roles  []string
	Status MemberStatus // only members with this status
	// After is the cursor: the email_key and id of the last member of the
	// previous page, "" for the first page.
	AfterEmailKey, AfterID string
	Limit                  int // 0 means 50; capped at 200
}

// ListMembers returns a page of the practice's members matching f (without
// password hashes) and whether more follow.
func (s *Store) ListMembers(ctx context.Context, f MemberFilter) ([]Member, bool, error) {
	q := `SELECT id FROM members m WHERE practice_id = $1`
	args := []any{f.PracticeID}
	add := func(cond string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		q += " AND " + cond
	}
	if f.Query != "" {
		like := "%" + escapeLike(strings.ToLower(f.Query)) + "%"
		add(`(LOWER(display_name) LIKE ? ESCAPE '\' OR LOWER(legal_name) LIKE ? ESCAPE '\' OR email_key LIKE ? ESCAPE '\')`,
			like, like, like)
	}
	if f.Role != "" {
		add(`EXISTS (SELECT 1 FROM member_roles r WHERE r.member_id = m.id AND r.role_key = ?)`, f.Role)
	}
	if len(f.Roles) > 0 {
		keys := f.Roles
		if len(keys) > 50 {
			keys = keys[:50]
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ")
		vals := make([]any, len(keys))
		for i, k := range keys {
			vals[i] = k
		}
		add(`EXISTS (SELECT 1 FROM member_roles r WHERE r.member_id = m.id AND r.role_key IN (`+marks+`))`, vals...)
	}
	if f.Status != "" {
		add(`status = ?`, string(f.Status))
	}
	if f.AfterEmailKey != "" || f.AfterID != "" {
		add(`(email_key > ? OR (email_key = ? AND id > ?))`, f.AfterEmailKey, f.AfterEmailKey, f.AfterID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 200 {
		limit = 200
	}
	args = append(args, limit+1)
	q += " ORDER BY email_key, id LIMIT $" + strconv.Itoa(len(args))
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: list members: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("store: list members: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("store: list members: %w", err)
	}
	more := len(ids) > limit
	if more {
		ids = ids[:limit]
	}
	out := make([]Member, 0, len(ids))
	for _, id := range ids {
		m, err := s.MemberByID(ctx, f.PracticeID, id)
		if err != nil {
			return nil, false, err
		}
		m.PasswordHash = ""
		out = append(out, m)
	}
	return out, more, nil
}

// escapeLike escapes LIKE's wildcards (and the escape character) in s.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
