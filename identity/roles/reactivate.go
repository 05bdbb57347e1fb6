package roles

import (
	"context"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// CheckReactivation enforces "nobody grants a permission they do not hold"
// for bringing a deactivated member back: the actor (a member; "" is the
// operator) must hold every permission the member's roles, toggles and
// overrides give them. Call it inside the transaction that reactivates the
// member, after the status change. It answers ErrForbidden naming the first
// permission the actor lacks.
func (s *Service) CheckReactivation(ctx context.Context, tx *store.Store, practiceID, actorID, memberID string) error {
	if actorID == "" {
		return nil
	}
	actor, err := s.effective(ctx, tx, practiceID, actorID, false)
	if err != nil {
		return ErrForbidden.Withf("the acting member is not an active member of this practice")
	}
	target, err := s.effective(ctx, tx, practiceID, memberID, false)
	if err != nil {
		return err
	}
	for _, p := range target.Permissions {
		if !Allows(actor.Permissions, p) {
			return ErrForbidden.Withf("you cannot restore %s to this member because you do not hold it", p)
		}
	}
	return nil
}
