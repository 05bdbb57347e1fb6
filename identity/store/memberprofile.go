package store

import (
	"context"
	"time"
)

// SetMemberDisplayName changes a member's display name.
func (s *Store) SetMemberDisplayName(ctx context.Context, memberID, name string, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE members SET display_name = $1, updated_at = $2 WHERE id = $3`,
		name, micros(at), memberID))("set display name")
}
