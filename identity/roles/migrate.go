package roles

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// ActionDelegationMigrated is the audit action of the one event per
// practice that MigrateDelegation writes.
const ActionDelegationMigrated = "role.delegation.migrate"

// MigrateDelegation gives every practice whose roles predate delegation
// (migration 00016) its preset's "who staffs whom", one transaction per
// practice, and writes one audit event per practice listing what changed:
// for each role whose holders may now give other roles than before (when
// giving needed holding every permission of the role given), the roles
// before and now. Nobody's roles, overrides or permissions change: a role
// whose permissions differ from the current preset's (an Account Owner who
// still deletes signed notes, a practice creator who also holds Clinical
// Director) keeps them, and the event names each difference so the owner can
// decide. It returns how many practices it migrated; running it again finds
// none.
func (s *Service) MigrateDelegation(ctx context.Context) (int, error) {
	ids, err := s.d.Store.PracticesWithoutDelegation(ctx)
	if err != nil {
		return 0, fmt.Errorf("roles: %w", err)
	}
	n := 0
	for _, id := range ids {
		done := false
		err := s.d.Store.InTx(ctx, func(tx *store.Store) error {
			if err := tx.LockPractice(ctx, id); err != nil {
				return err
			}
			m, err := loadModel(ctx, tx, id)
			if err != nil || !m.undelegated {
				return err // another replica migrated it meanwhile
			}
			now := s.d.Now()
			details := delegationReport(m)
			if err := tx.ReplaceRoleDefinitions(ctx, id, toStoreDefs(id, m.defs, now)); err != nil {
				return fmt.Errorf("roles: %w", err)
			}
			done = true
			return tx.AppendAudit(ctx, store.AuditEvent{PracticeID: id, At: now, Action: ActionDelegationMigrated,
				Outcome: "success", ActorID: OperatorActorID, Details: details})
		})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("roles: migrate delegation of practice %s: %w", id, err)
		}
		if done {
			n++
		}
	}
	if n > 0 {
		s.d.Logger.InfoContext(ctx, "role delegation migrated; each practice's audit trail lists what changed", "practices", n)
	}
	return n, nil
}

// delegationReport describes what migrating m changes and what it leaves.
func delegationReport(m model) map[string]string {
	d := map[string]string{"migration": "00016", "kept": "every member keeps their roles, overrides and permissions"}
	for _, r := range m.defs {
		before := givenBeforeDelegation(m, r)
		now := givable(m.defs, []string{r.Key})
		if !slices.Equal(before, now) {
			d["gives."+r.Key] = truncate("before: "+orNone(before)+"; now: "+orNone(now), 1000)
		}
		if p, ok := presetOrDefault(m.preset.Key).Role(r.Key); ok && m.preset.Key != "" {
			var diff []string
			for _, q := range r.Permissions {
				if !slices.Contains(p.Permissions, q) {
					diff = append(diff, "+"+q)
				}
			}
			for _, q := range p.Permissions {
				if !slices.Contains(r.Permissions, q) {
					diff = append(diff, "-"+q)
				}
			}
			if len(diff) > 0 {
				d["differs_from_preset."+r.Key] = truncate(strings.Join(diff, " "), 1000)
			}
		}
	}
	return d
}

// givenBeforeDelegation is what a holder of r alone could give under the
// rule delegation replaces: a role all of whose permissions r holds, when r
// may invite or assign roles at all.
func givenBeforeDelegation(m model, r Role) []string {
	perms := m.compute(memberData{held: []string{r.Key}}, nil, time.Time{}).Permissions
	if !Allows(perms, PermManageMembers) && !Allows(perms, PermAssign) {
		return []string{}
	}
	var out []string
	for _, x := range m.defs {
		given := m.compute(memberData{held: []string{x.Key}}, nil, time.Time{}).Permissions
		if !slices.ContainsFunc(given, func(p string) bool { return !Allows(perms, p) }) {
			out = append(out, x.Key)
		}
	}
	return sortedSet(out)
}

func orNone(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ",")
}
