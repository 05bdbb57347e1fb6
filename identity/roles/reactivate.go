package roles

import (
	"context"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// CheckReactivation applies the delegation model to bringing a deactivated
// member back: the actor (a member; "" is the operator) must be allowed to
// give every role the member holds (MayGive), and some role the actor may
// give must include every permission the member's overrides grant. Call it
// inside the transaction that reactivates the member, after the status
// change. It answers ErrForbidden naming the first role or permission
// refused, in words.
func (s *Service) CheckReactivation(ctx context.Context, tx *store.Store, practiceID, actorID, memberID string) error {
	if actorID == "" {
		return nil
	}
	m, err := loadModel(ctx, tx, practiceID)
	if err != nil {
		return err
	}
	g, err := s.giverFor(ctx, tx, m, Actor{PracticeID: practiceID, MemberID: actorID})
	if err != nil {
		return err
	}
	mem, err := tx.MemberByID(ctx, practiceID, memberID)
	if err != nil {
		return ErrMemberNotFound
	}
	md, err := loadMember(ctx, tx, memberID, mem.Roles)
	if err != nil {
		return err
	}
	if err := g.staff(m, md.held); err != nil {
		return err
	}
	var grants []string
	for _, o := range md.overrides {
		if o.Grant {
			grants = append(grants, o.Permission)
		}
	}
	return g.givePermissions(grants)
}
