package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// RoleModel is a practice's role-model settings: the preset it was created
// from (which names its toggles and member options) and its toggle values.
type RoleModel struct {
	PracticeID string
	Preset     string
	Toggles    map[string]bool // toggle key → on; a missing key means the toggle's default
	UpdatedAt  time.Time
}

// RoleDefinition is one role of a practice, as stored.
type RoleDefinition struct {
	PracticeID  string
	Key         string
	Name        string
	Description string
	Permissions []string
	Requires    []string
	Exclusive   []string
	// Gives lists the keys of the roles this role's holders may give; nil
	// means not yet set (a role stored before delegation existed).
	Gives     []string
	Position  int // display order
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MemberOverride is one per-member exception to the role model: Grant true
// adds Permission, false denies it.
type MemberOverride struct {
	Permission string
	Grant      bool
}

// Supervision links a supervisee (MemberID) to a supervisor, with the
// co-signature requirements on the supervisee's notes and treatment plans.
type Supervision struct {
	MemberID     string
	SupervisorID string
	CosignNotes  bool
	CosignPlans  bool
	CreatedAt    time.Time
}

// Elevation is a stored emergency (break-glass) grant.
type Elevation struct {
	ID          string
	PracticeID  string
	MemberID    string
	GrantedBy   string
	Permissions []string
	Reason      string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	EndedAt     time.Time // zero unless ended early
	EndedBy     string
}

// PutRoleModel creates or replaces the practice's role-model settings.
func (s *Store) PutRoleModel(ctx context.Context, m RoleModel) error {
	toggles, err := json.Marshal(orEmptyBools(m.Toggles))
	if err != nil {
		return fmt.Errorf("store: role model toggles: %w", err)
	}
	_, err = s.exec(ctx, `INSERT INTO practice_role_models (practice_id, preset, toggles, updated_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (practice_id) DO UPDATE
		SET preset = excluded.preset, toggles = excluded.toggles, updated_at = `+bumpVersion,
		m.PracticeID, m.Preset, string(toggles), micros(m.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: put role model: %w", err)
	}
	return nil
}

// RoleModel returns the practice's role-model settings, or ErrNotFound for a
// practice created before role models existed.
func (s *Store) RoleModel(ctx context.Context, practiceID string) (RoleModel, error) {
	var (
		m       RoleModel
		toggles string
		updated int64
	)
	err := s.queryRow(ctx, `SELECT practice_id, preset, toggles, updated_at FROM practice_role_models
		WHERE practice_id = $1`, practiceID).Scan(&m.PracticeID, &m.Preset, &toggles, &updated)
	if err != nil {
		return RoleModel{}, notFound(err, "role model")
	}
	if err := json.Unmarshal([]byte(toggles), &m.Toggles); err != nil {
		return RoleModel{}, fmt.Errorf("store: role model toggles: %w", err)
	}
	m.UpdatedAt = fromMicros(updated)
	return m, nil
}

// ReplaceRoleDefinitions replaces every role definition of the practice with
// defs, in one transaction.
func (s *Store) ReplaceRoleDefinitions(ctx context.Context, practiceID string, defs []RoleDefinition) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, `DELETE FROM role_definitions WHERE practice_id = $1`, practiceID); err != nil {
			return fmt.Errorf("store: clear role definitions: %w", err)
		}
		if err := tx.bumpRoleModel(ctx, practiceID, defs); err != nil {
			return err
		}
		for i, d := range defs {
			perms, err1 := jsonList(d.Permissions)
			req, err2 := jsonList(d.Requires)
			excl, err3 := jsonList(d.Exclusive)
			var gives sql.NullString
			if d.Gives != nil {
				var err4 error
				gives.String, err4 = jsonList(d.Gives)
				gives.Valid = err4 == nil
				err3 = firstErr(err3, err4)
			}
			if err := firstErr(err1, err2, err3); err != nil {
				return fmt.Errorf("store: role definition %s: %w", d.Key, err)
			}
			created := d.CreatedAt
			if created.IsZero() {
				created = d.UpdatedAt
			}
			_, err := tx.exec(ctx, `INSERT INTO role_definitions (practice_id, role_key, name, description, permissions,
				requires, exclusive, gives, position, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				practiceID, d.Key, d.Name, d.Description, perms, req, excl, gives, i, micros(created), micros(d.UpdatedAt))
			if isUniqueViolation(err) {
				return fmt.Errorf("role %q: %w", d.Key, ErrConflict)
			}
			if err != nil {
				return fmt.Errorf("store: role definition %s: %w", d.Key, err)
			}
		}
		return nil
	})
}

// RoleDefinitions returns the practice's role definitions in display order.
func (s *Store) RoleDefinitions(ctx context.Context, practiceID string) ([]RoleDefinition, error) {
	rows, err := s.query(ctx, `SELECT practice_id, role_key, name, description, permissions, requires, exclusive, gives,
		position, created_at, updated_at FROM role_definitions WHERE practice_id = $1 ORDER BY position, role_key`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: role definitions: %w", err)
	}
	defer rows.Close()
	var out []RoleDefinition
	for rows.Next() {
		var (
			d                RoleDefinition
			perms, req, excl string
			gives            sql.NullString
			created, updated int64
		)
		if err := rows.Scan(&d.PracticeID, &d.Key, &d.Name, &d.Description, &perms, &req, &excl, &gives, &d.Position,
			&created, &updated); err != nil {
			return nil, fmt.Errorf("store: role definitions: %w", err)
		}
		err1 := json.Unmarshal([]byte(perms), &d.Permissions)
		err2 := json.Unmarshal([]byte(req), &d.Requires)
		err3 := json.Unmarshal([]byte(excl), &d.Exclusive)
		if gives.Valid {
			d.Gives = []string{}
			err3 = firstErr(err3, json.Unmarshal([]byte(gives.String), &d.Gives))
		}
		if err := firstErr(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("store: role definition %s: %w", d.Key, err)
		}
		d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: role definitions: %w", err)
	}
	return out, nil
}

// SetMemberOverrides replaces the member's overrides.
func (s *Store) SetMemberOverrides(ctx context.Context, memberID string, overrides []MemberOverride) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, `DELETE FROM member_overrides WHERE member_id = $1`, memberID); err != nil {
			return fmt.Errorf("store: clear overrides: %w", err)
		}
		for _, o := range overrides {
			effect := "deny"
			if o.Grant {
				effect = "grant"
			}
			_, err := tx.exec(ctx, `INSERT INTO member_overrides (member_id, permission, effect) VALUES ($1, $2, $3)`,
				memberID, o.Permission, effect)
			if isUniqueViolation(err) {
				return fmt.Errorf("override %q given twice: %w", o.Permission, ErrConflict)
			}
			if err != nil {
				return fmt.Errorf("store: add override: %w", err)
			}
		}
		return nil
	})
}

// MemberOverrides returns the member's overrides, sorted by permission.
func (s *Store) MemberOverrides(ctx context.Context, memberID string) ([]MemberOverride, error) {
	rows, err := s.query(ctx, `SELECT permission, effect FROM member_overrides WHERE member_id = $1
		ORDER BY permission`, memberID)
	if err != nil {
		return nil, fmt.Errorf("store: member overrides: %w", err)
	}
	defer rows.Close()
	var out []MemberOverride
	for rows.Next() {
		var (
			o      MemberOverride
			effect string
		)
		if err := rows.Scan(&o.Permission, &effect); err != nil {
			return nil, fmt.Errorf("store: member overrides: %w", err)
		}
		o.Grant = effect == "grant"
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: member overrides: %w", err)
	}
	return out, nil
}

// SetSupervisors replaces the supervisors of the member (the supervisee).
func (s *Store) SetSupervisors(ctx context.Context, memberID string, sups []Supervision) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, `DELETE FROM member_supervisors WHERE member_id = $1`, memberID); err != nil {
			return fmt.Errorf("store: clear supervisors: %w", err)
		}
		for _, v := range sups {
			_, err := tx.exec(ctx, `INSERT INTO member_supervisors (member_id, supervisor_id, cosign_notes, cosign_plans,
				created_at) VALUES ($1, $2, $3, $4, $5)`, memberID, v.SupervisorID, boolInt(v.CosignNotes),
				boolInt(v.CosignPlans), micros(v.CreatedAt))
			if isUniqueViolation(err) {
				return fmt.Errorf("supervisor %q given twice: %w", v.SupervisorID, ErrConflict)
			}
			if err != nil {
				return fmt.Errorf("store: add supervisor: %w", err)
			}
		}
		return nil
	})
}

// Supervisors returns who supervises the member, sorted by supervisor ID.
func (s *Store) Supervisors(ctx context.Context, memberID string) ([]Supervision, error) {
	return s.supervisions(ctx, `WHERE member_id = $1 ORDER BY supervisor_id`, memberID)
}

// Supervisees returns whom the member supervises, sorted by supervisee ID.
func (s *Store) Supervisees(ctx context.Context, supervisorID string) ([]Supervision, error) {
	return s.supervisions(ctx, `WHERE supervisor_id = $1 ORDER BY member_id`, supervisorID)
}

func (s *Store) supervisions(ctx context.Context, where string, arg string) ([]Supervision, error) {
	rows, err := s.query(ctx, `SELECT member_id, supervisor_id, cosign_notes, cosign_plans, created_at
		FROM member_supervisors `+where, arg)
	if err != nil {
		return nil, fmt.Errorf("store: supervisions: %w", err)
	}
	defer rows.Close()
	var out []Supervision
	for rows.Next() {
		var (
			v            Supervision
			notes, plans int64
			created      int64
		)
		if err := rows.Scan(&v.MemberID, &v.SupervisorID, &notes, &plans, &created); err != nil {
			return nil, fmt.Errorf("store: supervisions: %w", err)
		}
		v.CosignNotes, v.CosignPlans, v.CreatedAt = notes != 0, plans != 0, fromMicros(created)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: supervisions: %w", err)
	}
	return out, nil
}

// CreateElevation records an emergency elevation.
func (s *Store) CreateElevation(ctx context.Context, e Elevation) error {
	perms, err := jsonList(e.Permissions)
	if err != nil {
		return fmt.Errorf("store: elevation: %w", err)
	}
	_, err = s.exec(ctx, `INSERT INTO elevations (id, practice_id, member_id, granted_by, permissions, reason,
		created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.ID, e.PracticeID, e.MemberID, e.GrantedBy,
		perms, e.Reason, micros(e.CreatedAt), micros(e.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create elevation: %w", err)
	}
	return nil
}

// ActiveElevations returns the member's elevations in force at now, soonest
// to expire first.
func (s *Store) ActiveElevations(ctx context.Context, memberID string, now time.Time) ([]Elevation, error) {
	rows, err := s.query(ctx, `SELECT id, practice_id, member_id, granted_by, permissions, reason, created_at,
		expires_at, ended_at, ended_by FROM elevations
		WHERE member_id = $1 AND ended_at IS NULL AND expires_at > $2 AND created_at <= $2
		ORDER BY expires_at, id`, memberID, micros(now))
	if err != nil {
		return nil, fmt.Errorf("store: active elevations: %w", err)
	}
	defer rows.Close()
	var out []Elevation
	for rows.Next() {
		var (
			e                Elevation
			perms            string
			created, expires int64
			ended            sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &e.PracticeID, &e.MemberID, &e.GrantedBy, &perms, &e.Reason, &created, &expires,
			&ended, &e.EndedBy); err != nil {
			return nil, fmt.Errorf("store: active elevations: %w", err)
		}
		if err := json.Unmarshal([]byte(perms), &e.Permissions); err != nil {
			return nil, fmt.Errorf("store: elevation permissions: %w", err)
		}
		e.CreatedAt, e.ExpiresAt, e.EndedAt = fromMicros(created), fromMicros(expires), fromNullMicros(ended)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: active elevations: %w", err)
	}
	return out, nil
}

// EndElevation ends an elevation of the practice early. It returns
// ErrNotFound when there is no such elevation still running.
func (s *Store) EndElevation(ctx context.Context, practiceID, id, by string, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE elevations SET ended_at = $1, ended_by = $2
		WHERE id = $3 AND practice_id = $4 AND ended_at IS NULL AND expires_at > $1`,
		micros(at), by, id, practiceID))("end elevation")
}

// PracticeMemberRoles returns the role keys of every member of the practice
// who is not deactivated, by member ID. Members without roles are included
// with an empty list.
func (s *Store) PracticeMemberRoles(ctx context.Context, practiceID string) (map[string][]string, error) {
	rows, err := s.query(ctx, `SELECT m.id, COALESCE(r.role_key, '') FROM members m
		LEFT JOIN member_roles r ON r.member_id = m.id
		WHERE m.practice_id = $1 AND m.status <> 'deactivated' ORDER BY m.id, r.role_key`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: practice member roles: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, role string
		if err := rows.Scan(&id, &role); err != nil {
			return nil, fmt.Errorf("store: practice member roles: %w", err)
		}
		if _, ok := out[id]; !ok {
			out[id] = []string{}
		}
		if role != "" {
			out[id] = append(out[id], role)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: practice member roles: %w", err)
	}
	return out, nil
}

func jsonList(v []string) (string, error) {
	if v == nil {
		v = []string{}
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func orEmptyBools(m map[string]bool) map[string]bool {
	if m == nil {
		return map[string]bool{}
	}
	return m
}

// LockPractice serialises role-model changes of one practice: inside a
// transaction it holds the practice row until commit (PostgreSQL; SQLite's
// immediate transactions already hold the database's write lock). It returns
// ErrNotFound for an unknown practice.
func (s *Store) LockPractice(ctx context.Context, practiceID string) error {
	q := `SELECT id FROM practices WHERE id = $1` + s.d.lockRow
	var id string
	if err := s.queryRow(ctx, q, practiceID).Scan(&id); err != nil {
		return notFound(err, "practice")
	}
	return nil
}

// PracticesWithoutDelegation lists the IDs of the practices having a role
// definition stored before delegation existed (gives NULL), sorted.
func (s *Store) PracticesWithoutDelegation(ctx context.Context) ([]string, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT practice_id FROM role_definitions WHERE gives IS NULL ORDER BY practice_id`)
	if err != nil {
		return nil, fmt.Errorf("store: practices without delegation: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: practices without delegation: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: practices without delegation: %w", err)
	}
	return out, nil
}
