package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// LoginPolicy is a practice's login policy: holders of StrongRoles must log in
// with a passkey or single sign-on, never with a password alone.
type LoginPolicy struct {
	PracticeID string
	// StrongRoles are role keys, sorted and without duplicates.
	StrongRoles []string
	// UpdatedAt and UpdatedBy are zero when the practice never set a policy.
	UpdatedAt time.Time
	UpdatedBy string
}

// LoginPolicy returns the practice's login policy; a practice that never set
// one gets an empty policy (no role restricted), not ErrNotFound.
func (s *Store) LoginPolicy(ctx context.Context, practiceID string) (LoginPolicy, error) {
	var (
		raw     string
		updated int64
		lp      = LoginPolicy{PracticeID: practiceID}
	)
	err := s.queryRow(ctx, `SELECT strong_roles, updated_at, updated_by FROM practice_login_policies
		WHERE practice_id = $1`, practiceID).Scan(&raw, &updated, &lp.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return lp, nil
	}
	if err != nil {
		return LoginPolicy{}, fmt.Errorf("store: login policy: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &lp.StrongRoles); err != nil {
		return LoginPolicy{}, fmt.Errorf("store: login policy roles: %w", err)
	}
	lp.UpdatedAt = fromMicros(updated)
	return lp, nil
}

// PutLoginPolicy stores the practice's login policy, replacing the previous one.
func (s *Store) PutLoginPolicy(ctx context.Context, lp LoginPolicy) error {
	roles := lp.StrongRoles
	if roles == nil {
		roles = []string{}
	}
	raw, err := json.Marshal(roles)
	if err != nil {
		return fmt.Errorf("store: login policy roles: %w", err)
	}
	_, err = s.exec(ctx, `INSERT INTO practice_login_policies (practice_id, strong_roles, updated_at, updated_by)
		VALUES ($1, $2, $3, $4) ON CONFLICT (practice_id) DO UPDATE SET
		strong_roles = excluded.strong_roles, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		lp.PracticeID, string(raw), micros(lp.UpdatedAt), lp.UpdatedBy)
	if err != nil {
		return fmt.Errorf("store: put login policy: %w", err)
	}
	return nil
}
