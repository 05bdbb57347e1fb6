package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/templates"
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

// enqueue renders the mail data, which must name practice p, and writes it
// to the outbox inside tx, from the practice's name.
func (s *Service) enqueue(ctx context.Context, tx *store.Store, p store.Practice, kind, refID, to string,
	data templates.MailData, links ...string) error {
	if data.Practice() != p.Name {
		return fmt.Errorf("account: %s mail: practice name %q, want %q", data.MailName(), data.Practice(), p.Name)
	}
	r, err := s.d.Mails.Render(data)
	if err != nil {
		return fmt.Errorf("account: %s mail: %w", data.MailName(), err)
	}
	return tx.EnqueueMail(ctx, store.OutboxMail{ID: s.d.NewID(), PracticeID: p.ID, Kind: kind, RefID: refID,
		CreatedAt: s.d.Now(), Message: invites.Message{To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
			Links: links, FromName: p.Name}})
}

// queued wakes the outbox worker after a transaction queued mail.
func (s *Service) queued() {
	if s.d.OutboxNotify != nil {
		s.d.OutboxNotify()
	}
}

// actorPermissions returns what the actor may do in the practice: every
// permission for the operator, the member's effective permissions otherwise
// (none for a member who is not active).
func (s *Service) actorPermissions(ctx context.Context, p store.Practice, a Actor) ([]string, error) {
	if a.Operator {
		return nil, nil
	}
	if s.d.Roles == nil {
		return nil, fmt.Errorf("account: no role model configured")
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, a.MemberID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrForbidden.Withf("the acting member is not a member of this practice")
	}
	if err != nil {
		return nil, fmt.Errorf("account: actor: %w", err)
	}
	if m.Status != store.StatusActive {
		return nil, ErrForbidden.Withf("the acting member is not active")
	}
	eff, err := s.d.Roles.Effective(ctx, p.ID, a.MemberID)
	if errors.Is(err, roles.ErrMemberNotFound) {
		return nil, ErrForbidden.Withf("the acting member is not active")
	}
	if err != nil {
		return nil, fmt.Errorf("account: actor permissions: %w", err)
	}
	return eff.Permissions, nil
}

// require checks that the actor holds perm and returns the actor's
// permissions.
func (s *Service) require(ctx context.Context, p store.Practice, a Actor, perm string) ([]string, error) {
	perms, err := s.actorPermissions(ctx, p, a)
	if err != nil {
		return nil, err
	}
	if !a.Operator && !roles.Allows(perms, perm) {
		return nil, ErrForbidden.Withf("this needs the %s permission", perm)
	}
	return perms, nil
}

// refuseAudit records a refused administrative action.
func (s *Service) refuseAudit(ctx context.Context, p store.Practice, a Actor, action, subject string, err error, meta Meta) {
	s.auditBestEffort(ctx, store.AuditEvent{PracticeID: p.ID, Action: action, Outcome: "failure", ActorID: a.id(),
		SubjectID: subject, Details: map[string]string{"reason": truncate(err.Error(), 300)}}, meta)
}

func formatTime(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006 15:04 MST") }
