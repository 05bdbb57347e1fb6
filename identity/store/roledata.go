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

// Role-model versions. practice_role_models.updated_at (microseconds) moves
// forward on every change of a practice's role model: PutRoleModel and
// ReplaceRoleDefinitions set it to the change's time or, if that is not
// later, one microsecond past the stored value, in the same transaction as
// the change. So two reads of the same value saw the same toggles and
// definitions, on every replica, and a process may keep a practice's parsed
// role model for as long as the stored value is unchanged (identity/roles
// does, for token grants).

// bumpVersion is the SQL for the new updated_at in PutRoleModel's upsert.
const bumpVersion = `CASE WHEN excluded.updated_at > practice_role_models.updated_at
	THEN excluded.updated_at ELSE practice_role_models.updated_at + 1 END`

// bumpRoleModel moves the practice's role-model version forward for a change
// of its definitions (to the latest UpdatedAt of defs, or by one).
func (s *Store) bumpRoleModel(ctx context.Context, practiceID string, defs []RoleDefinition) error {
	var at int64
	for _, d := range defs {
		at = max(at, micros(d.UpdatedAt))
	}
	_, err := s.exec(ctx, `UPDATE practice_role_models SET updated_at =
		CASE WHEN $2 > updated_at THEN $2 ELSE updated_at + 1 END WHERE practice_id = $1`, practiceID, at)
	if err != nil {
		return fmt.Errorf("store: role model version: %w", err)
	}
	return nil
}

// MemberRoleData is what a member's effective permissions are computed from,
// besides the role keys on the member row and the practice's role model.
type MemberRoleData struct {
	// ModelVersion is the practice's role-model version (RoleModel.UpdatedAt
	// in microseconds); HasModel is false for a practice that predates role
	// models.
	ModelVersion int64
	HasModel     bool
	Overrides    []MemberOverride // by permission
	Supervisors  []string         // supervisor member IDs, sorted
	// CosignNotes and CosignPlans are the supervisors who must co-sign the
	// member's clinical notes and treatment plans, sorted.
	CosignNotes []string
	CosignPlans []string
	// Supervisees are the members this member supervises, sorted.
	Supervisees []string
	Elevations  []Elevation // active at now: Permissions, CreatedAt, ExpiresAt only
}

// MemberRoleData reads, in one query, the practice's role-model version and
// the member's overrides, supervisors and elevations active at now. It is
// the per-grant read of token issuing: MemberOverrides, Supervisors,
// ActiveElevations and RoleModel would be four.
func (s *Store) MemberRoleData(ctx context.Context, practiceID, memberID string, now time.Time) (MemberRoleData, error) {
	rows, err := s.query(ctx, `
		SELECT 0, '', '', updated_at, 0 FROM practice_role_models WHERE practice_id = $1
		UNION ALL SELECT 1, permission, effect, 0, 0 FROM member_overrides WHERE member_id = $2
		UNION ALL SELECT 2, supervisor_id, '', cosign_notes, cosign_plans FROM member_supervisors WHERE member_id = $2
		UNION ALL SELECT 4, member_id, '', 0, 0 FROM member_supervisors WHERE supervisor_id = $2
		UNION ALL SELECT 3, id, permissions, created_at, expires_at FROM elevations
			WHERE member_id = $2 AND ended_at IS NULL AND expires_at > $3 AND created_at <= $3`,
		practiceID, memberID, micros(now))
	if err != nil {
		return MemberRoleData{}, fmt.Errorf("store: member role data: %w", err)
	}
	defer rows.Close()
	var d MemberRoleData
	for rows.Next() {
		var (
			kind   int
			a, b   string
			n1, n2 int64
		)
		if err := rows.Scan(&kind, &a, &b, &n1, &n2); err != nil {
			return MemberRoleData{}, fmt.Errorf("store: member role data: %w", err)
		}
		switch kind {
		case 0:
			d.ModelVersion, d.HasModel = n1, true
		case 1:
			d.Overrides = append(d.Overrides, MemberOverride{Permission: a, Grant: b == "grant"})
		case 2:
			d.Supervisors = append(d.Supervisors, a)
			if n1 != 0 {
				d.CosignNotes = append(d.CosignNotes, a)
			}
			if n2 != 0 {
				d.CosignPlans = append(d.CosignPlans, a)
			}
		case 4:
			d.Supervisees = append(d.Supervisees, a)
		case 3:
			e := Elevation{ID: a, PracticeID: practiceID, MemberID: memberID, CreatedAt: fromMicros(n1), ExpiresAt: fromMicros(n2)}
			if err := json.Unmarshal([]byte(b), &e.Permissions); err != nil {
				return MemberRoleData{}, fmt.Errorf("store: elevation permissions: %w", err)
			}
			d.Elevations = append(d.Elevations, e)
		}
	}
	if err := rows.Err(); err != nil {
		return MemberRoleData{}, fmt.Errorf("store: member role data: %w", err)
	}
	d.sort()
	return d, nil
}

// sort puts d's lists in their documented order (sorted here rather than
// by the queries: ORDER BY over the UNION cost a temporary b-tree per grant
// on SQLite).
func (d *MemberRoleData) sort() {
	slices.SortFunc(d.Overrides, func(x, y MemberOverride) int { return strings.Compare(x.Permission, y.Permission) })
	slices.Sort(d.Supervisors)
	slices.Sort(d.CosignNotes)
	slices.Sort(d.CosignPlans)
	slices.Sort(d.Supervisees)
	slices.SortFunc(d.Elevations, func(x, y Elevation) int {
		if c := x.ExpiresAt.Compare(y.ExpiresAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
}

// roleDataColumnsSQLite and roleDataColumnsPostgres read MemberRoleData's
// rows of the member t.member_id of practice t.practice_id, as of $2, in
// five columns of a statement that reads the member (RefreshTokenWithMember):
// the role-model version, then the overrides, supervisors, supervisees and
// active elevations, each a JSON array of objects (NULL or [] when there are
// none). The scans are MemberRoleData's, with the same indexes.
const (
	roleDataColumnsSQLite = `(SELECT updated_at FROM practice_role_models WHERE practice_id = t.practice_id),
		(SELECT json_group_array(json_object('p', permission, 'e', effect)) FROM member_overrides WHERE member_id = t.member_id),
		(SELECT json_group_array(json_object('s', supervisor_id, 'n', cosign_notes, 'c', cosign_plans)) FROM member_supervisors
			WHERE member_id = t.member_id),
		(SELECT json_group_array(member_id) FROM member_supervisors WHERE supervisor_id = t.member_id),
		(SELECT json_group_array(json_object('i', id, 'p', permissions, 'c', created_at, 'x', expires_at)) FROM elevations
			WHERE member_id = t.member_id AND ended_at IS NULL AND expires_at > $2 AND created_at <= $2)`
	roleDataColumnsPostgres = `(SELECT updated_at FROM practice_role_models WHERE practice_id = t.practice_id),
		(SELECT json_agg(json_build_object('p', permission, 'e', effect))::text FROM member_overrides WHERE member_id = t.member_id),
		(SELECT json_agg(json_build_object('s', supervisor_id, 'n', cosign_notes, 'c', cosign_plans))::text FROM member_supervisors
			WHERE member_id = t.member_id),
		(SELECT json_agg(member_id)::text FROM member_supervisors WHERE supervisor_id = t.member_id),
		(SELECT json_agg(json_build_object('i', id, 'p', permissions, 'c', created_at, 'x', expires_at))::text FROM elevations
			WHERE member_id = t.member_id AND ended_at IS NULL AND expires_at > $2::bigint AND created_at <= $2::bigint)`
)

// roleDataRow receives roleDataColumns*.
type roleDataRow struct {
	version                                         sql.NullInt64
	overrides, supervisors, supervisees, elevations sql.NullString
}

func (r *roleDataRow) dest() []any {
	return []any{&r.version, &r.overrides, &r.supervisors, &r.supervisees, &r.elevations}
}

// data decodes r as MemberRoleData of the member memberID of practiceID.
func (r *roleDataRow) data(practiceID, memberID string) (MemberRoleData, error) {
	d := MemberRoleData{ModelVersion: r.version.Int64, HasModel: r.version.Valid}
	var (
		overrides []struct {
			Permission string `json:"p"`
			Effect     string `json:"e"`
		}
		supervisors []struct {
			ID          string `json:"s"`
			CosignNotes int64  `json:"n"`
			CosignPlans int64  `json:"c"`
		}
		elevations []struct {
			ID          string `json:"i"`
			Permissions string `json:"p"`
			CreatedAt   int64  `json:"c"`
			ExpiresAt   int64  `json:"x"`
		}
	)
	for _, c := range []struct {
		col  sql.NullString
		into any
	}{{r.overrides, &overrides}, {r.supervisors, &supervisors}, {r.supervisees, &d.Supervisees}, {r.elevations, &elevations}} {
		if !c.col.Valid || c.col.String == "[]" {
			continue
		}
		if err := json.Unmarshal([]byte(c.col.String), c.into); err != nil {
			return MemberRoleData{}, fmt.Errorf("store: member role data: %w", err)
		}
	}
	for _, o := range overrides {
		d.Overrides = append(d.Overrides, MemberOverride{Permission: o.Permission, Grant: o.Effect == "grant"})
	}
	for _, s := range supervisors {
		d.Supervisors = append(d.Supervisors, s.ID)
		if s.CosignNotes != 0 {
			d.CosignNotes = append(d.CosignNotes, s.ID)
		}
		if s.CosignPlans != 0 {
			d.CosignPlans = append(d.CosignPlans, s.ID)
		}
	}
	for _, e := range elevations {
		el := Elevation{ID: e.ID, PracticeID: practiceID, MemberID: memberID, CreatedAt: fromMicros(e.CreatedAt),
			ExpiresAt: fromMicros(e.ExpiresAt)}
		if err := json.Unmarshal([]byte(e.Permissions), &el.Permissions); err != nil {
			return MemberRoleData{}, fmt.Errorf("store: elevation permissions: %w", err)
		}
		d.Elevations = append(d.Elevations, el)
	}
	d.sort()
	return d, nil
}
