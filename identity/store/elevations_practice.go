package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// maxPracticeElevations bounds one listing of a practice's running
// elevations.
const maxPracticeElevations = 500

// PracticeActiveElevations returns the practice's elevations in force at now
// (every member), soonest to expire first, at most 500.
func (s *Store) PracticeActiveElevations(ctx context.Context, practiceID string, now time.Time) ([]Elevation, error) {
	rows, err := s.query(ctx, `SELECT id, practice_id, member_id, granted_by, permissions, reason, created_at,
		expires_at, ended_at, ended_by FROM elevations
		WHERE practice_id = $1 AND ended_at IS NULL AND expires_at > $2 AND created_at <= $2
		ORDER BY expires_at, id LIMIT $3`, practiceID, micros(now), maxPracticeElevations)
	if err != nil {
		return nil, fmt.Errorf("store: practice elevations: %w", err)
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
			return nil, fmt.Errorf("store: practice elevations: %w", err)
		}
		if err := json.Unmarshal([]byte(perms), &e.Permissions); err != nil {
			return nil, fmt.Errorf("store: elevation permissions: %w", err)
		}
		e.CreatedAt, e.ExpiresAt, e.EndedAt = fromMicros(created), fromMicros(expires), fromNullMicros(ended)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: practice elevations: %w", err)
	}
	return out, nil
}
