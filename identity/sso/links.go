package sso

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// ErrMemberExists: approving a join request whose email already belongs to a
// member; invite or link that member instead.
var ErrMemberExists = errors.New("sso: a member with this email already exists; link their account from the account page instead")

// Linked is one of the signed-in member's linked upstream accounts.
type Linked struct {
	ID           string
	ProviderName string
	Email        string
	LinkedAt     time.Time
	LastUsedAt   time.Time
}

// Linked lists the signed-in member's linked upstream accounts.
func (s *Service) Linked(ctx context.Context, pr account.Principal) ([]Linked, error) {
	ids, err := s.d.Store.MemberSSOIdentities(ctx, pr.Practice.ID, pr.Member.ID)
	if err != nil {
		return nil, fmt.Errorf("sso: linked: %w", err)
	}
	names := map[string]string{}
	if provs, err := s.d.Store.SSOProviders(ctx, pr.Practice.ID); err == nil {
		for _, p := range provs {
			names[p.ID] = p.DisplayName
		}
	}
	out := make([]Linked, 0, len(ids))
	for _, i := range ids {
		out = append(out, Linked{ID: i.ID, ProviderName: names[i.ProviderID], Email: i.Email, LinkedAt: i.CreatedAt,
			LastUsedAt: i.LastUsedAt})
	}
	return out, nil
}

// Unlink removes one of the signed-in member's links.
func (s *Service) Unlink(ctx context.Context, pr account.Principal, id string, meta account.Meta) error {
	if len(id) > 64 {
		return ErrProviderNotFound
	}
	err := s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteSSOIdentity(ctx, pr.Practice.ID, pr.Member.ID, id); err != nil {
			return err
		}
		return s.d.Accounts.Audit(ctx, tx, store.AuditEvent{PracticeID: pr.Practice.ID, Action: "sso.unlink",
			Outcome: "success", ActorID: pr.Member.ID, SubjectID: pr.Member.ID,
			Details: map[string]string{"identity": id}}, meta)
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrProviderNotFound
	}
	if err != nil {
		return fmt.Errorf("sso: unlink: %w", err)
	}
	return nil
}

// JoinRequest is a pending (or decided) join request as administrators see it.
type JoinRequest struct {
	ID         string    `json:"id"`
	ProviderID string    `json:"provider_id"`
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	Role       string    `json:"role"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
}

// JoinRequests lists the practice's join requests with status ("" for all).
// The actor needs members.manage.
func (s *Service) JoinRequests(ctx context.Context, practiceSlug string, a account.Actor, status string) ([]JoinRequest, error) {
	pr, err := s.d.Accounts.Practice(ctx, practiceSlug)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, pr, a, roles.PermManageMembers); err != nil {
		return nil, err
	}
	list, err := s.d.Store.SSOJoinRequests(ctx, pr.ID, status)
	if err != nil {
		return nil, fmt.Errorf("sso: join requests: %w", err)
	}
	out := make([]JoinRequest, 0, len(list))
	for _, j := range list {
		out = append(out, JoinRequest{ID: j.ID, ProviderID: j.ProviderID, Email: j.Email, Name: j.Name, Role: j.RoleKey,
			Status: j.Status, CreatedAt: j.CreatedAt})
	}
	return out, nil
}

// DecideJoin approves (creating an active member with the request's role,
// no password, linked to the upstream identity — one transaction) or
// rejects a pending join request. The actor needs members.manage; to
// approve, they must also be allowed to give the request's role
// (account.Service.MayGrantRoles), checked at approval whoever configured
// the provider. It returns the new member's ID when approved.
func (s *Service) DecideJoin(ctx context.Context, practiceSlug string, a account.Actor, id string, approve bool, meta account.Meta) (string, error) {
	pr, err := s.d.Accounts.Practice(ctx, practiceSlug)
	if err != nil {
		return "", err
	}
	if err := s.authorize(ctx, pr, a, roles.PermManageMembers); err != nil {
		return "", err
	}
	if len(id) > 64 {
		return "", ErrJoinNotFound
	}
	j, err := s.d.Store.SSOJoinRequestByID(ctx, pr.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && j.Status != "pending") {
		return "", ErrJoinNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sso: join request: %w", err)
	}
	if approve {
		// Checked now, whoever set the provider's join role: the approver
		// gives the role, so they must be allowed to give it.
		if err := s.d.Accounts.MayGrantRoles(ctx, pr, a, []string{j.RoleKey}); err != nil {
			s.d.Accounts.AuditBestEffort(ctx, store.AuditEvent{PracticeID: pr.ID, Action: "sso.join.approved", Outcome: "failure",
				ActorID: actorID(a), Details: map[string]string{"request": j.ID, "role": j.RoleKey,
					"reason": "role_not_grantable"}}, meta)
			return "", err
		}
	}
	now := s.d.Now()
	memberID := ""
	status := "rejected"
	if approve {
		memberID, status = s.d.NewID(), "approved"
	}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.DecideSSOJoinRequest(ctx, j.ID, status, actorID(a), memberID, now); errors.Is(err, store.ErrNotFound) {
			return ErrJoinNotFound
		} else if err != nil {
			return err
		}
		if approve {
			m := store.Member{ID: memberID, PracticeID: pr.ID, Email: j.Email, DisplayName: j.Name,
				Status: store.StatusActive, Roles: []string{j.RoleKey}, CreatedAt: now}
			if err := tx.CreateMember(ctx, m); errors.Is(err, store.ErrConflict) {
				return ErrMemberExists
			} else if err != nil {
				return err
			}
			if err := tx.CreateSSOIdentity(ctx, store.SSOIdentity{ID: s.d.NewID(), PracticeID: pr.ID,
				ProviderID: j.ProviderID, Issuer: j.Issuer, Subject: j.Subject, MemberID: memberID, Email: j.Email,
				LinkedVia: "join", CreatedAt: now}); errors.Is(err, store.ErrConflict) {
				return ErrAlreadyLinked
			} else if err != nil {
				return err
			}
		}
		return s.d.Accounts.Audit(ctx, tx, store.AuditEvent{PracticeID: pr.ID, Action: "sso.join." + status,
			Outcome: "success", ActorID: actorID(a), SubjectID: memberID,
			Details: map[string]string{"request": j.ID, "email": j.Email, "role": j.RoleKey}}, meta)
	})
	if errors.Is(err, ErrJoinNotFound) || errors.Is(err, ErrMemberExists) || errors.Is(err, ErrAlreadyLinked) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("sso: decide join request: %w", err)
	}
	return memberID, nil
}
