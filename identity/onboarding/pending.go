package onboarding

import (
	"github.com/frontdeskhq/frontdesk/identity/problem"
)

// ErrPendingInvitation: the address already has a pending invitation
// (neither accepted nor revoked). Nothing was changed; send the invitation
// again with InviteRequest.UpdatePending to replace its roles (its old link
// stops working and the new email says so). Returned as a
// *PendingInvitationError, which carries the pending invitation.
var ErrPendingInvitation = problem.New(problem.Conflict, "invitation_pending",
	"onboarding: the address has a pending invitation",
	"This address already has a pending invitation. Update it to change its roles; the earlier link will stop working.")

// PendingInvitationError is ErrPendingInvitation with the pending
// invitation, for the surfaces to show.
type PendingInvitationError struct {
	Invitation Invitation
}

func (e *PendingInvitationError) Error() string { return ErrPendingInvitation.Error() }

// Unwrap makes errors.Is(err, ErrPendingInvitation) hold.
func (e *PendingInvitationError) Unwrap() error { return ErrPendingInvitation }
