package account

import (
	"time"

	"github.com/frontdeskhq/frontdesk/identity/problem"
)

// Default lifetimes of onboarding links and temporary passwords.
const (
	DefaultInvitationTTL        = 7 * 24 * time.Hour
	DefaultResetTTL             = time.Hour
	DefaultTemporaryPasswordTTL = 24 * time.Hour
)

// Errors of onboarding.
var (
	// ErrAlreadyMember: the address belongs to an active (or locked) member
	// of the practice; nothing was sent.
	ErrAlreadyMember = problem.New(problem.Conflict, "already_member",
		"account: this address already belongs to an active member of the practice",
		"This address already belongs to an active member of the practice.")
	// ErrInvitationNotFound: the practice has no such invitation.
	ErrInvitationNotFound = problem.New(problem.NotFound, "not_found", "account: no such invitation in this practice",
		"There is no such invitation in this practice.")
	// ErrInvitationClosed: the invitation was accepted or revoked; it can
	// no longer be resent or revoked.
	ErrInvitationClosed = problem.New(problem.Conflict, "invitation_closed",
		"account: the invitation was already accepted or revoked",
		"The invitation was already accepted or revoked. Invite the person again if they still need access.")
	// ErrPasswordChangeRequired: the session was started with a temporary
	// password and may only set a new password. It matches ErrNoSession too,
	// so code that only knows ErrNoSession refuses such a session.
	ErrPasswordChangeRequired error = passwordChangeRequired{}
)

type passwordChangeRequired struct{}

func (passwordChangeRequired) Error() string {
	return "account: a new password must be set before anything else"
}

// Is makes errors.Is(err, ErrNoSession) true.
func (passwordChangeRequired) Is(target error) bool { return target == ErrNoSession }

func onboardingDefaults(set Settings) Settings {
	if set.InvitationTTL <= 0 {
		set.InvitationTTL = DefaultInvitationTTL
	}
	if set.ResetTTL <= 0 {
		set.ResetTTL = DefaultResetTTL
	}
	if set.TemporaryPasswordTTL <= 0 {
		set.TemporaryPasswordTTL = DefaultTemporaryPasswordTTL
	}
	return set
}
