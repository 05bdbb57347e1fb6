package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Reassignment is something the practice must hand to someone else in its
// apps after a member leaves.
type Reassignment struct {
	// Kind is "supervisee" (a member the removed member supervised; they are
	// no longer under that supervision).
	Kind     string `json:"kind"`
	MemberID string `json:"member_id"`
	Email    string `json:"email"`
	Note     string `json:"note"`
}

// Removal is the result of deactivating a member.
type Removal struct {
	MemberID           string         `json:"member_id"`
	SessionsEnded      int64          `json:"sessions_ended"`
	InvitationsRevoked int64          `json:"invitations_revoked"`
	LinksVoided        int64          `json:"links_voided"`
	Reassign           []Reassignment `json:"reassign"`
}

// ErrLastManager: the change would leave the practice without a member who
// can manage members and assign roles.
var ErrLastManager = roles.ErrLastManager

// DeactivateMember removes a member's access and keeps every record: in one
// transaction the member is deactivated, their sessions end, and their
// reset links and temporary passwords are voided, and the registered
// deactivation steps run (identity/onboarding's voids their pending
// invitations and withdraws the undelivered mail). The actor needs members.manage; the practice
// must keep a member who can manage members and assign roles. Then the
// OnDeactivate hooks run (refresh-token revocation, back-channel logout) and
// the answer lists what the practice must reassign in its apps.
func (s *Service) DeactivateMember(ctx context.Context, practiceSlug string, a Actor, memberID string, meta Meta) (Removal, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return Removal{}, err
	}
	if _, err := s.require(ctx, p, a, roles.PermManageMembers); err != nil {
		s.refuseAudit(ctx, p, a, "member.deactivate", memberID, err, meta)
		return Removal{}, err
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, memberID)
	if errors.Is(err, store.ErrNotFound) || err == nil && m.Status == store.StatusDeactivated {
		return Removal{}, ErrMemberNotFound
	}
	if err != nil {
		return Removal{}, fmt.Errorf("account: deactivate: %w", err)
	}
	if err := s.MayStaff(ctx, p, a, m, "deactivate"); err != nil {
		s.refuseAudit(ctx, p, a, "member.deactivate", memberID, err, meta)
		return Removal{}, err
	}
	out := Removal{MemberID: m.ID, Reassign: []Reassignment{}}
	now := s.d.Now()
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockPractice(ctx, p.ID); err != nil {
			return err
		}
		if s.d.Roles != nil {
			if err := s.d.Roles.CheckRemoval(ctx, tx, p.ID, m.ID); err != nil {
				return err
			}
		}
		if err := tx.SetMemberStatus(ctx, m.ID, store.StatusDeactivated, now); err != nil {
			return err
		}
		var err error
		if out.SessionsEnded, err = tx.EndMemberSessions(ctx, m.ID, "", now); err != nil {
			return err
		}
		open, err := tx.MemberInvitations(ctx, m.ID)
		if err != nil {
			return err
		}
		for _, i := range open {
			if i.AcceptedAt.IsZero() && i.RevokedAt.IsZero() {
				out.InvitationsRevoked++
			}
		}
		for _, step := range s.hooks.txSteps() {
			if err := step(ctx, tx, m.ID, now); err != nil {
				return err
			}
		}
		if out.LinksVoided, err = tx.VoidMemberLinks(ctx, m.ID, now); err != nil {
			return err
		}
		if _, err := tx.VoidTemporaryPasswords(ctx, m.ID, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "member.deactivate", Outcome: "success",
			ActorID: a.id(), SubjectID: m.ID, Details: map[string]string{"sessions_ended": fmt.Sprint(out.SessionsEnded),
				"invitations_revoked": fmt.Sprint(out.InvitationsRevoked), "links_voided": fmt.Sprint(out.LinksVoided)}}, meta)
	})
	if errors.Is(err, roles.ErrLastManager) {
		s.refuseAudit(ctx, p, a, "member.deactivate", m.ID, err, meta)
		return Removal{}, err
	}
	if err != nil {
		return Removal{}, fmt.Errorf("account: deactivate: %w", err)
	}
	for _, hook := range s.hooks.all(s.d.OnDeactivate) {
		if err := hook(context.WithoutCancel(ctx), p.ID, m.ID); err != nil {
			s.d.Logger.ErrorContext(ctx, "deactivation hook failed; the member is deactivated", "member", m.ID, "err", err)
		}
	}
	sees, err := s.d.Store.Supervisees(ctx, m.ID)
	if err != nil {
		return out, fmt.Errorf("account: the member is deactivated, but their supervisees could not be listed: %w", err)
	}
	for _, v := range sees {
		sm, err := s.d.Store.MemberByID(ctx, p.ID, v.MemberID)
		if err != nil || sm.Status == store.StatusDeactivated {
			continue
		}
		out.Reassign = append(out.Reassign, Reassignment{Kind: "supervisee", MemberID: sm.ID, Email: sm.Email,
			Note: "no longer under this member's supervision; assign another supervisor"})
	}
	return out, nil
}

// DeactivationHook runs after a member is deactivated.
type DeactivationHook func(ctx context.Context, practiceID, memberID string) error

// DeactivationStep runs inside the transaction that deactivates a member,
// after their sessions ended and before the audit row is written; its error
// rolls the deactivation back. Steps see the transaction (tx), so what they
// void is voided if and only if the member is removed.
type DeactivationStep func(ctx context.Context, tx *store.Store, memberID string, now time.Time) error

type deactivationHooks struct {
	mu    sync.Mutex
	extra []func(ctx context.Context, practiceID, memberID string) error
	steps []DeactivationStep
}

func (h *deactivationHooks) txSteps() []DeactivationStep {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.steps)
}

// RegisterDeactivationStep adds a step run inside every deactivation's
// transaction (DeactivationStep); identity/onboarding registers the voiding
// of the member's open invitations with it when it is built.
func (s *Service) RegisterDeactivationStep(fn DeactivationStep) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.steps = append(s.hooks.steps, fn)
}

func (h *deactivationHooks) all(fromDeps []func(ctx context.Context, practiceID, memberID string) error) []func(ctx context.Context, practiceID, memberID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append(slices.Clone(fromDeps), h.extra...)
}

// RegisterDeactivationHook adds a hook run after every deactivation, for
// components built after the account service (the OpenID provider revokes
// the member's refresh tokens and sends back-channel logout from one).
func (s *Service) RegisterDeactivationHook(fn DeactivationHook) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.extra = append(s.hooks.extra, fn)
}
