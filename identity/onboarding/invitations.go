package onboarding

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/templates"
)

// InviteRequest is an administrator's invitation of one email address.
type InviteRequest struct {
	Email string
	// Name is the invitee's display name (optional).
	Name string
	// Roles are role keys of the practice's role model; at least one.
	Roles []string
	// Supervisors optionally places the invitee under supervision (seed 003).
	Supervisors []roles.SupervisorLink
	// App is the client ID of the app the invitee lands in after accepting
	// ("" for the practice's frontdesk home).
	App string
	// UpdatePending replaces a pending invitation to the same address (its
	// roles, and its link, which stops working; the new email says so).
	// Without it such an invitation is refused with *PendingInvitationError.
	UpdatePending bool
}

// Invitation is an invitation as administrators see it. It never carries the
// link: only the invitee's mailbox does.
type Invitation struct {
	ID        string                `json:"invitation_id"`
	MemberID  string                `json:"member_id"`
	Email     string                `json:"email"`
	Roles     []string              `json:"roles"`
	App       string                `json:"app,omitempty"`
	State     store.InvitationState `json:"state"`
	InvitedBy string                `json:"invited_by"`
	Sends     int                   `json:"sends"`
	CreatedAt time.Time             `json:"created_at"`
	ExpiresAt time.Time             `json:"expires_at"`
	// DeliveryError is the last delivery error when State is "delivery failed".
	DeliveryError string `json:"delivery_error,omitempty"`
}

func (s *Service) viewInvitation(ctx context.Context, i store.Invitation) Invitation {
	v := Invitation{ID: i.ID, MemberID: i.MemberID, Email: i.Email, Roles: i.Roles, App: i.App,
		State: i.State(s.d.Now()), InvitedBy: i.InvitedBy, Sends: i.Sends, CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt}
	if v.Roles == nil {
		v.Roles = []string{}
	}
	if v.State == store.InvitationDeliveryFailed {
		if es, err := s.d.Store.OutboxEntries(ctx, i.ID); err == nil && len(es) > 0 {
			v.DeliveryError = es[0].LastError
		}
	}
	return v
}

// Invite invites an email address into the practice with the given roles.
// The actor needs members.manage and must hold every permission the roles
// grant; the roles must be role keys of the practice's model and meet its
// constraints. An address that belongs to an active or locked member is
// refused with ErrAlreadyMember; a pending invitation to the same address is
// replaced (its link voided); a former (deactivated) member is invited back,
// keeping their records. One transaction writes the member, the invitation
// (token stored hashed) and the outbox message; the worker delivers it.
func (s *Service) Invite(ctx context.Context, practiceSlug string, a account.Actor, req InviteRequest, meta account.Meta) (Invitation, error) {
	p, err := s.acc.Practice(ctx, practiceSlug)
	if err != nil {
		return Invitation{}, err
	}
	email, err := account.ParseEmail(req.Email)
	if err != nil {
		return Invitation{}, err
	}
	name, err := account.CleanName("name", req.Name, false)
	if err != nil {
		return Invitation{}, err
	}
	if req.App != "" {
		if _, ok := s.acc.AppURL(req.App); !ok {
			return Invitation{}, &account.InvalidInputError{Field: "app", Reason: "is not a configured app (see clients in the configuration)"}
		}
	}
	keys, err := s.checkInviteRoles(ctx, p, a, req.Roles)
	if err != nil {
		s.acc.RefuseAudit(ctx, p, a, "member.invite", "", err, meta)
		return Invitation{}, err
	}
	token, hash, err := invites.NewToken(s.d.Random)
	if err != nil {
		return Invitation{}, fmt.Errorf("onboarding: %w", err)
	}
	now := s.d.Now()
	inv := store.Invitation{ID: s.d.NewID(), PracticeID: p.ID, Email: email, Roles: keys, App: req.App,
		InvitedBy: a.ID(), CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.set.InvitationTTL), Sends: 1}
	link := s.acc.Link("/p/"+p.Slug+"/invite", url.Values{"token": {token}})
	updated := false
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if len(req.Supervisors) > 0 {
			// Setting supervisors locks the practice (the role model's
			// changes are serialized by it); taking that lock first, before
			// any row of the practice, keeps two such invitations from
			// deadlocking each other.
			if err := tx.LockPractice(ctx, p.ID); err != nil {
				return err
			}
		}
		m, err := tx.MemberByEmail(ctx, p.ID, email)
		switch {
		case errors.Is(err, store.ErrNotFound):
			m = store.Member{ID: s.d.NewID(), PracticeID: p.ID, Email: email, DisplayName: name,
				Status: store.StatusInvited, Roles: keys, CreatedAt: now}
			if err := tx.CreateMember(ctx, m); errors.Is(err, store.ErrConflict) {
				return ErrAlreadyMember
			} else if err != nil {
				return err
			}
		case err != nil:
			return err
		case m.Status == store.StatusActive || m.Status == store.StatusLocked:
			return ErrAlreadyMember
		default: // invited (invitation being replaced) or deactivated (invited back)
			if m.Status == store.StatusInvited {
				if err := s.checkPending(ctx, tx, p, a, m, req.UpdatePending); err != nil {
					return err
				}
				updated = true
			}
			if err := tx.ReactivateInvited(ctx, m.ID, keys, now); err != nil {
				return err
			}
			// The new invitation decides supervision as it decides roles:
			// the earlier one's supervisors go (req.Supervisors, if any, are
			// set below, in this transaction).
			if err := tx.SetSupervisors(ctx, m.ID, nil); err != nil {
				return err
			}
			if err := s.voidInvitations(ctx, tx, m.ID, "replaced by a new invitation", now); err != nil {
				return err
			}
		}
		inv.MemberID = m.ID
		if err := tx.CreateInvitation(ctx, inv, hash); err != nil {
			return err
		}
		// The supervision asked for is part of the invitation: set in this
		// transaction, so a refused supervisor (deactivated since the form
		// was filled, no longer holding a supervisor role, listed twice)
		// leaves no member, invitation, mail or temporary password behind.
		if len(req.Supervisors) > 0 {
			if err := s.d.Roles.SetSupervisorsIn(ctx, tx, roles.Actor{PracticeID: p.ID, MemberID: a.MemberID}, m.ID,
				req.Supervisors, roles.Meta(meta)); err != nil {
				return &supervisionError{err: err}
			}
		}
		byTemp, err := s.acc.OnboardsByTemporaryPassword(ctx, p.Slug)
		if err != nil {
			return err
		}
		if byTemp {
			// Seed 004 (Manager Module): creating access emails a temporary
			// password to change at first login, not the invitation link.
			// The invitation stays on record (listed, revocable; its link is
			// never sent).
			invitee := m
			invitee.Roles, invitee.Status = keys, store.StatusInvited
			if _, err := s.issueTemporary(ctx, tx, p, a, invitee, meta); err != nil {
				return err
			}
		} else if err := s.enqueueInvitation(ctx, tx, p, inv, link, a, updated); err != nil {
			return err
		}
		details := map[string]string{"invitation": inv.ID, "email": email,
			"roles": strings.Join(keys, ","), "expires_at": inv.ExpiresAt.Format(time.RFC3339)}
		if updated {
			details["updated"] = "true"
			details["previous_roles"] = strings.Join(m.Roles, ",")
		}
		return s.acc.Audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "member.invite", Outcome: "success",
			ActorID: a.ID(), SubjectID: m.ID, Details: details}, meta)
	})
	if pending, ok := errors.AsType[*PendingInvitationError](err); ok {
		s.acc.RefuseAudit(ctx, p, a, "member.invite", pending.Invitation.MemberID, err, meta)
		return Invitation{}, err
	}
	if sup, ok := errors.AsType[*supervisionError](err); ok {
		if !roles.Refused(sup.err) {
			return Invitation{}, fmt.Errorf("onboarding: invite: supervisors: %w", sup.err)
		}
		refusal := ErrSupervisorRefused.Sayf("The invitation was not sent and nothing was saved: the supervisor could not be set (%s). "+
			"Choose another supervisor, or invite without one and choose the supervisor on the member's page.", publicReason(sup.err))
		if cause, ok := problem.As(sup.err); ok {
			refusal.Kind, refusal.Code = cause.Kind, cause.Code // a 403 stays a 403
		}
		err = fmt.Errorf("%w: %w", refusal, sup.err)
		s.acc.RefuseAudit(ctx, p, a, "member.invite", "", err, meta)
		return Invitation{}, err
	}
	if errors.Is(err, ErrAlreadyMember) || errors.Is(err, account.ErrForbidden) {
		s.acc.RefuseAudit(ctx, p, a, "member.invite", "", err, meta)
		return Invitation{}, err
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("onboarding: invite: %w", err)
	}
	s.acc.Queued()
	return s.viewInvitation(ctx, inv), nil
}

// ErrSupervisorRefused reports an invitation refused because the supervision
// asked for with it was refused (a supervisor deactivated or without a
// supervisor role, one listed twice, one the actor may not give): the
// invitation was not saved and no mail was sent. The error also matches the
// role model's refusal (roles.ErrInvalid, roles.ErrForbidden, …).
var ErrSupervisorRefused = problem.New(problem.Invalid, "invalid_request", "onboarding: invitation refused: its supervisors were refused",
	"The invitation was not sent: its supervisor could not be set")

// supervisionError carries the role model's refusal of an invitation's
// supervisors out of the invitation's transaction.
type supervisionError struct{ err error }

func (e *supervisionError) Error() string { return "supervisors: " + e.err.Error() }
func (e *supervisionError) Unwrap() error { return e.err }

// publicReason is the part of a refusal that is safe to show: its reason,
// else its public text.
func publicReason(err error) string {
	p, ok := problem.As(err)
	switch {
	case !ok:
		return "it was refused"
	case p.Reason != "":
		return p.Reason
	}
	return p.Public
}

// checkInviteRoles validates the role keys against the practice's model and
// checks the actor may grant them; it returns the sorted keys.
func (s *Service) checkInviteRoles(ctx context.Context, p store.Practice, a account.Actor, keys []string) ([]string, error) {
	if s.d.Roles == nil {
		return nil, errors.New("onboarding: invitations need the role model")
	}
	if _, err := s.acc.Require(ctx, p, a, roles.PermManageMembers); err != nil {
		return nil, err
	}
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	if len(keys) == 0 || keys[0] == "" {
		return nil, &account.InvalidInputError{Field: "role", Reason: "give at least one role"}
	}
	model, err := s.d.Roles.Model(ctx, p.ID)
	if err != nil {
		return nil, fmt.Errorf("onboarding: role model: %w", err)
	}
	var known []string
	for _, r := range model.Roles {
		known = append(known, r.Key)
	}
	for _, k := range keys {
		if !slices.Contains(known, k) {
			return nil, &account.InvalidInputError{Field: "role", Reason: fmt.Sprintf("%q is not a role of this practice; use one of %s",
				truncate(k, 64), strings.Join(known, ", "))}
		}
	}
	if err := roles.CheckHeld(model.Roles, keys); err != nil {
		return nil, &account.InvalidInputError{Field: "role", Reason: err.Error()}
	}
	// Who may give which role is the delegation model's (account's
	// MayGrantRoles calls roles.Service.MayGive), the same for every path
	// that ends with someone holding a role.
	if err := s.acc.MayGrantRoles(ctx, p, a, keys); err != nil {
		return nil, err
	}
	return keys, nil
}

func (s *Service) enqueueInvitation(ctx context.Context, tx *store.Store, p store.Practice, inv store.Invitation,
	link string, a account.Actor, updated bool) error {
	inviter := ""
	if !a.Operator {
		inviter = s.acc.PersonLabel(ctx, tx, p, a.MemberID)
	}
	invitee := ""
	if m, err := tx.MemberByID(ctx, p.ID, inv.MemberID); err == nil {
		invitee = account.GivenName(m)
	}
	model, err := s.d.Roles.Model(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("onboarding: role model: %w", err)
	}
	var names []string
	for _, r := range model.Roles {
		if slices.Contains(inv.Roles, r.Key) {
			names = append(names, r.Name)
		}
	}
	return s.acc.Enqueue(ctx, tx, p, "invitation", inv.ID, inv.Email, templates.InvitationMail{PracticeName: p.Name,
		RecipientName: invitee, Link: link, Expires: account.FormatTimeIn(inv.ExpiresAt, p), InviterName: inviter,
		RoleNames: names, LoginURL: s.acc.LoginURL(p), Updated: updated,
	}, link)
}

// checkPending refuses, with the pending invitation, to replace an invited
// member's open invitation unless update is set; when it is, the actor must
// also be allowed to give the roles the invitation is losing (nobody changes
// someone they do not staff).
func (s *Service) checkPending(ctx context.Context, tx *store.Store, p store.Practice, a account.Actor, m store.Member, update bool) error {
	open, err := tx.MemberInvitations(ctx, m.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(open, func(i store.Invitation) bool { return i.AcceptedAt.IsZero() && i.RevokedAt.IsZero() })
	if i < 0 {
		return nil
	}
	if !update {
		return &PendingInvitationError{Invitation: s.viewInvitation(ctx, open[i])}
	}
	return s.acc.MayGrantRoles(ctx, p, a, m.Roles)
}

// voidInvitations revokes the member's open invitations and withdraws their
// undelivered mail.
func (s *Service) voidInvitations(ctx context.Context, tx *store.Store, memberID, reason string, now time.Time) error {
	open, err := tx.MemberInvitations(ctx, memberID)
	if err != nil {
		return err
	}
	// The outbox rows first, then the invitations: the order the outbox
	// worker's MarkOutboxSent takes them in, so the two cannot deadlock.
	for _, i := range open {
		if i.AcceptedAt.IsZero() && i.RevokedAt.IsZero() {
			if _, err := tx.CancelOutbox(ctx, i.ID, reason, now); err != nil {
				return err
			}
		}
	}
	_, err = tx.RevokeMemberInvitations(ctx, memberID, now)
	return err
}

// Invitations lists the practice's invitations with their states. It needs
// members.manage.
func (s *Service) Invitations(ctx context.Context, practiceSlug string, a account.Actor) ([]Invitation, error) {
	p, err := s.acc.Practice(ctx, practiceSlug)
	if err != nil {
		return nil, err
	}
	if _, err := s.acc.Require(ctx, p, a, roles.PermManageMembers); err != nil {
		return nil, err
	}
	list, err := s.d.Store.ListInvitations(ctx, p.ID)
	if err != nil {
		return nil, fmt.Errorf("onboarding: invitations: %w", err)
	}
	out := make([]Invitation, 0, len(list))
	for _, i := range list {
		out = append(out, s.viewInvitation(ctx, i))
	}
	return out, nil
}

// ResendInvitation issues a new link for an invitation that was not accepted
// or revoked (pending, expired or undelivered), with a fresh expiry; the old
// link stops working and its undelivered mail is withdrawn. In a practice
// that onboards by temporary password the invitee gets a new temporary
// password instead of a link. The actor needs
// members.manage and must be allowed to give the invitation's roles
// (MayGrantRoles), as when inviting.
func (s *Service) ResendInvitation(ctx context.Context, practiceSlug string, a account.Actor, invitationID string, meta account.Meta) (Invitation, error) {
	p, inv, err := s.adminInvitation(ctx, practiceSlug, a, invitationID, "invitation.resend", meta)
	if err != nil {
		return Invitation{}, err
	}
	// A fresh link is a new grant of the invitation's roles: the one who
	// resends must be allowed to give them, whoever invited first.
	if err := s.acc.MayGrantRoles(ctx, p, a, inv.Roles); err != nil {
		s.acc.RefuseAudit(ctx, p, a, "invitation.resend", inv.MemberID, err, meta)
		return Invitation{}, err
	}
	token, hash, err := invites.NewToken(s.d.Random)
	if err != nil {
		return Invitation{}, fmt.Errorf("onboarding: %w", err)
	}
	now := s.d.Now()
	inv.ExpiresAt = now.Add(s.set.InvitationTTL)
	link := s.acc.Link("/p/"+p.Slug+"/invite", url.Values{"token": {token}})
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.CancelOutbox(ctx, inv.ID, "replaced by a resent invitation", now); err != nil {
			return err
		}
		if err := tx.RotateInvitation(ctx, inv.ID, hash, inv.ExpiresAt, now); errors.Is(err, store.ErrLinkUnusable) {
			return ErrInvitationClosed
		} else if err != nil {
			return err
		}
		byTemp, err := s.acc.OnboardsByTemporaryPassword(ctx, p.Slug)
		if err != nil {
			return err
		}
		if byTemp {
			// A practice that onboards by temporary password resends
			// access as a new temporary password (the earlier one stops
			// working), never as the link.
			m, err := tx.MemberByID(ctx, p.ID, inv.MemberID)
			if err != nil {
				return err
			}
			if _, err := s.issueTemporary(ctx, tx, p, a, m, meta); err != nil {
				return err
			}
		} else if err := s.enqueueInvitation(ctx, tx, p, inv, link, a, false); err != nil {
			return err
		}
		return s.acc.Audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "invitation.resend", Outcome: "success",
			ActorID: a.ID(), SubjectID: inv.MemberID, Details: map[string]string{"invitation": inv.ID,
				"expires_at": inv.ExpiresAt.Format(time.RFC3339)}}, meta)
	})
	if errors.Is(err, ErrInvitationClosed) {
		return Invitation{}, err
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("onboarding: resend invitation: %w", err)
	}
	s.acc.Queued()
	inv, err = s.d.Store.InvitationByID(ctx, p.ID, inv.ID)
	if err != nil {
		return Invitation{}, fmt.Errorf("onboarding: resend invitation: %w", err)
	}
	return s.viewInvitation(ctx, inv), nil
}

// RevokeInvitation voids an invitation that was not accepted; its link stops
// working and its undelivered mail is withdrawn. The invited member record
// stays (status invited) for the audit trail.
func (s *Service) RevokeInvitation(ctx context.Context, practiceSlug string, a account.Actor, invitationID string, meta account.Meta) error {
	p, inv, err := s.adminInvitation(ctx, practiceSlug, a, invitationID, "invitation.revoke", meta)
	if err != nil {
		return err
	}
	now := s.d.Now()
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		// The outbox row first, then the invitation: the order the outbox
		// worker's MarkOutboxSent takes them in, so the two cannot deadlock.
		if _, err := tx.CancelOutbox(ctx, inv.ID, "invitation revoked", now); err != nil {
			return err
		}
		if err := tx.RevokeInvitation(ctx, inv.ID, now); errors.Is(err, store.ErrLinkUnusable) {
			return ErrInvitationClosed
		} else if err != nil {
			return err
		}
		// A revoked invitee is nobody's supervisee: the supervision chosen
		// with the invitation ends with it, and so does any temporary
		// password sent instead of its link.
		if m, err := tx.MemberByID(ctx, p.ID, inv.MemberID); err != nil {
			return err
		} else if m.Status == store.StatusInvited {
			if err := tx.SetSupervisors(ctx, m.ID, nil); err != nil {
				return err
			}
			// Where the practice onboards by temporary password, the one
			// emailed with the invitation ends with it.
			if _, err := tx.VoidTemporaryPasswords(ctx, m.ID, now); err != nil {
				return err
			}
		}
		return s.acc.Audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "invitation.revoke", Outcome: "success",
			ActorID: a.ID(), SubjectID: inv.MemberID, Details: map[string]string{"invitation": inv.ID}}, meta)
	})
	if errors.Is(err, ErrInvitationClosed) {
		return err
	}
	if err != nil {
		return fmt.Errorf("onboarding: revoke invitation: %w", err)
	}
	return nil
}

func (s *Service) adminInvitation(ctx context.Context, practiceSlug string, a account.Actor, id, action string, meta account.Meta) (store.Practice, store.Invitation, error) {
	p, err := s.acc.Practice(ctx, practiceSlug)
	if err != nil {
		return store.Practice{}, store.Invitation{}, err
	}
	if _, err := s.acc.Require(ctx, p, a, roles.PermManageMembers); err != nil {
		s.acc.RefuseAudit(ctx, p, a, action, "", err, meta)
		return store.Practice{}, store.Invitation{}, err
	}
	inv, err := s.d.Store.InvitationByID(ctx, p.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Practice{}, store.Invitation{}, ErrInvitationNotFound
	}
	if err != nil {
		return store.Practice{}, store.Invitation{}, fmt.Errorf("onboarding: invitation: %w", err)
	}
	if !inv.AcceptedAt.IsZero() || !inv.RevokedAt.IsZero() {
		return store.Practice{}, store.Invitation{}, ErrInvitationClosed
	}
	return p, inv, nil
}

// InvitationView is what the acceptance page shows before anything is
// consumed.
type InvitationView struct {
	Practice  store.Practice
	Email     string
	RoleNames []string
}

// OpenInvitation checks an invitation link without consuming it: opening it
// any number of times (as mail scanners do) changes nothing. An unknown,
// replaced, revoked, accepted, expired or other practice's link yields
// account.ErrLinkInvalid.
func (s *Service) OpenInvitation(ctx context.Context, practiceSlug, token string) (InvitationView, error) {
	p, inv, m, err := s.checkInvitation(ctx, practiceSlug, token)
	if err != nil {
		return InvitationView{}, err
	}
	v := InvitationView{Practice: p, Email: m.Email}
	if s.d.Roles != nil {
		if model, err := s.d.Roles.Model(ctx, p.ID); err == nil {
			for _, r := range model.Roles {
				if slices.Contains(inv.Roles, r.Key) {
					v.RoleNames = append(v.RoleNames, r.Name)
				}
			}
		}
	}
	return v, nil
}

func (s *Service) checkInvitation(ctx context.Context, practiceSlug, token string) (store.Practice, store.Invitation, store.Member, error) {
	p, err := s.acc.Practice(ctx, practiceSlug)
	if err != nil {
		return store.Practice{}, store.Invitation{}, store.Member{}, err
	}
	if token == "" {
		return store.Practice{}, store.Invitation{}, store.Member{}, account.ErrLinkInvalid
	}
	inv, err := s.d.Store.InvitationByTokenHash(ctx, invites.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Practice{}, store.Invitation{}, store.Member{}, account.ErrLinkInvalid
	}
	if err != nil {
		return store.Practice{}, store.Invitation{}, store.Member{}, fmt.Errorf("onboarding: invitation: %w", err)
	}
	if inv.PracticeID != p.ID || !inv.Usable(s.d.Now()) {
		return store.Practice{}, store.Invitation{}, store.Member{}, account.ErrLinkInvalid
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, inv.MemberID)
	if err != nil {
		return store.Practice{}, store.Invitation{}, store.Member{}, fmt.Errorf("onboarding: invitation member: %w", err)
	}
	if m.Status != store.StatusInvited || store.EmailKey(m.Email) != store.EmailKey(inv.Email) {
		return store.Practice{}, store.Invitation{}, store.Member{}, account.ErrLinkInvalid
	}
	return p, inv, m, nil
}

// Accepted is the result of accepting an invitation.
type Accepted struct {
	Principal account.Principal
	// SessionToken is the new session's cookie value.
	SessionToken string
	// LandingURL is where to send the browser: the invited app, or "" for
	// the practice's frontdesk home.
	LandingURL string
}

// AcceptInvitation redeems an invitation: it checks the new password against
// the policy, then in one transaction consumes the invitation, stores the
// password, activates the member and queues a notice to the inviter; then it
// starts a session. Of two concurrent acceptances of one link exactly one
// succeeds (the other gets account.ErrLinkInvalid), so there is exactly one account.
func (s *Service) AcceptInvitation(ctx context.Context, practiceSlug, token, newPw, confirm string, meta account.Meta) (Accepted, error) {
	p, inv, m, err := s.checkInvitation(ctx, practiceSlug, token)
	if err != nil {
		return Accepted{}, err
	}
	hash, err := s.acc.NewPasswordHash(ctx, p, m, newPw, confirm)
	if err != nil {
		return Accepted{}, err
	}
	now := s.d.Now()
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.AcceptInvitation(ctx, inv.ID, invites.HashToken(token), now); err != nil {
			return err
		}
		cur, err := tx.MemberByID(ctx, p.ID, m.ID)
		if err != nil {
			return err
		}
		if cur.Status != store.StatusInvited {
			return store.ErrLinkUnusable
		}
		if err := tx.SetPassword(ctx, m.ID, hash, now, true); err != nil {
			return err
		}
		if _, err := tx.VoidMemberLinks(ctx, m.ID, now); err != nil {
			return err
		}
		return s.recordAcceptance(ctx, tx, p, inv, m, now, map[string]string{"invitation": inv.ID}, meta)
	})
	if errors.Is(err, store.ErrLinkUnusable) {
		return Accepted{}, account.ErrLinkInvalid
	}
	if err != nil {
		return Accepted{}, fmt.Errorf("onboarding: accept invitation: %w", err)
	}
	s.acc.Queued()
	m, err = s.d.Store.MemberByID(ctx, p.ID, m.ID)
	if err != nil {
		return Accepted{}, fmt.Errorf("onboarding: accept invitation: %w", err)
	}
	pr, sessionToken, err := s.acc.StartSession(ctx, p, m, []string{account.MethodPassword}, meta)
	if err != nil {
		return Accepted{}, err
	}
	return Accepted{Principal: pr, SessionToken: sessionToken, LandingURL: landing(s.acc, inv.App)}, nil
}

// landing is the URL an invitee to app lands on ("" for the practice's
// frontdesk home).
func landing(acc *account.Service, app string) string {
	u, _ := acc.AppURL(app)
	return u
}

// recordAcceptance ends an accepted invitation's transaction: the audit
// event, and the inviter's "accepted" mail unless the operator invited or
// the inviter is no longer active.
func (s *Service) recordAcceptance(ctx context.Context, tx *store.Store, p store.Practice, inv store.Invitation,
	m store.Member, now time.Time, details map[string]string, meta account.Meta) error {
	if err := s.acc.Audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "invitation.accept", Outcome: "success",
		ActorID: m.ID, SubjectID: m.ID, Details: details}, meta); err != nil {
		return err
	}
	if inv.InvitedBy == account.OperatorActorID {
		return nil
	}
	inviter, err := tx.MemberByID(ctx, p.ID, inv.InvitedBy)
	if err != nil || inviter.Status != store.StatusActive {
		return nil // the inviter left meanwhile: nobody to tell
	}
	return s.acc.Enqueue(ctx, tx, p, "invitation_accepted", inv.ID+"-accepted", inviter.Email,
		templates.AcceptedMail{PracticeName: p.Name, RecipientName: account.GivenName(inviter), MemberName: account.MemberName(m),
			MemberEmail: m.Email, AcceptedAt: account.FormatTimeIn(now, p), MemberURL: s.acc.ConsoleURL(p, "members/"+url.PathEscape(m.ID))})
}
