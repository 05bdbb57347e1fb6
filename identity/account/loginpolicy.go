package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// methodFederated is the amr value of a login through the practice's own
// (upstream) single sign-on; the SSO login sets it on the session.
const methodFederated = "fed"

// maxStrongRoles bounds a login policy's role list.
const maxStrongRoles = 64

// ErrStrongLoginRequired: the member holds a role for which the practice
// requires a passkey or single sign-on, and the session was started with a
// password alone. Such a session may only enrol a first passkey
// (AuthenticateEnrolment); no app gets a code or token for it. It matches
// ErrNoSession too, so code that only knows ErrNoSession refuses it.
var ErrStrongLoginRequired error = strongLoginRequired{}

type strongLoginRequired struct{}

func (strongLoginRequired) Error() string {
	return "account: this account must log in with a passkey or single sign-on"
}

// Is makes errors.Is(err, ErrNoSession) true.
func (strongLoginRequired) Is(target error) bool { return target == ErrNoSession }

// LoginPolicy is a practice's login policy as shown to administrators.
type LoginPolicy struct {
	// RequireStrongLogin are the role keys whose holders must log in with a
	// passkey or single sign-on (amr hwk or fed); a password alone gets them
	// no token for any app.
	RequireStrongLogin []string  `json:"require_strong_login"`
	UpdatedAt          time.Time `json:"updated_at,omitzero"`
	UpdatedBy          string    `json:"updated_by,omitempty"`
}

func viewLoginPolicy(lp store.LoginPolicy) LoginPolicy {
	r := lp.StrongRoles
	if r == nil {
		r = []string{}
	}
	return LoginPolicy{RequireStrongLogin: r, UpdatedAt: lp.UpdatedAt, UpdatedBy: lp.UpdatedBy}
}

// StrongLogin reports whether amr names a passkey (hwk) or single sign-on
// (fed) login: what a login policy asks for.
func StrongLogin(amr []string) bool {
	return slices.Contains(amr, MethodHardwareKey) || slices.Contains(amr, methodFederated)
}

// LoginPolicy returns the practice's login policy. The actor needs
// settings.view (the operator always may).
func (s *Service) LoginPolicy(ctx context.Context, practiceSlug string, a Actor) (LoginPolicy, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return LoginPolicy{}, err
	}
	if _, err := s.require(ctx, p, a, roles.PermViewSettings); err != nil {
		return LoginPolicy{}, err
	}
	lp, err := s.d.Store.LoginPolicy(ctx, p.ID)
	if err != nil {
		return LoginPolicy{}, fmt.Errorf("account: login policy: %w", err)
	}
	return viewLoginPolicy(lp), nil
}

// SetLoginPolicy replaces the practice's login policy: holders of any of
// roleKeys (keys of the practice's roles; empty lifts every requirement) must
// log in with a passkey or single sign-on from their next login on. The actor
// needs settings.edit (the operator always may). The change is audited with
// the roles before and after.
func (s *Service) SetLoginPolicy(ctx context.Context, practiceSlug string, a Actor, roleKeys []string, meta Meta) (LoginPolicy, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return LoginPolicy{}, err
	}
	if _, err := s.require(ctx, p, a, roles.PermEditSettings); err != nil {
		s.refuseAudit(ctx, p, a, "practice.login_policy", "", err, meta)
		return LoginPolicy{}, err
	}
	if len(roleKeys) > maxStrongRoles {
		return LoginPolicy{}, &InvalidInputError{Field: "require_strong_login",
			Reason: fmt.Sprintf("names more than %d roles", maxStrongRoles)}
	}
	defs, err := s.d.Store.RoleDefinitions(ctx, p.ID)
	if err != nil {
		return LoginPolicy{}, fmt.Errorf("account: login policy: %w", err)
	}
	known := make(map[string]bool, len(defs))
	for _, d := range defs {
		known[d.Key] = true
	}
	if len(defs) == 0 {
		// No role model installed: the roles members hold are the roles.
		held, err := s.d.Store.PracticeMemberRoles(ctx, p.ID)
		if err != nil {
			return LoginPolicy{}, fmt.Errorf("account: login policy: %w", err)
		}
		for _, rs := range held {
			for _, r := range rs {
				if r != "" {
					known[r] = true
				}
			}
		}
	}
	keys := make([]string, 0, len(roleKeys))
	for _, k := range roleKeys {
		k = strings.TrimSpace(k)
		if !known[k] {
			if len(k) > 64 {
				k = k[:64]
			}
			return LoginPolicy{}, &InvalidInputError{Field: "require_strong_login",
				Reason: fmt.Sprintf("names %q, which is not a role of this practice; list the roles with GET .../roles or frontdesk practice presets", k)}
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	lp := store.LoginPolicy{PracticeID: p.ID, StrongRoles: keys, UpdatedAt: s.d.Now(), UpdatedBy: a.id()}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		before, err := tx.LoginPolicy(ctx, p.ID)
		if err != nil {
			return err
		}
		if err := tx.PutLoginPolicy(ctx, lp); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "practice.login_policy", Outcome: "success",
			ActorID: a.id(), Details: map[string]string{"require_strong_login_before": strings.Join(before.StrongRoles, ","),
				"require_strong_login_after": strings.Join(keys, ",")}}, meta)
	})
	if err != nil {
		return LoginPolicy{}, fmt.Errorf("account: set login policy: %w", err)
	}
	return viewLoginPolicy(lp), nil
}

// strongLoginRequired reports whether member m of practice p must log in with
// a passkey or single sign-on and a session with amr does not satisfy that.
// The policy is read live, so a change applies at once to new logins and
// to every further authorization request.
func (s *Service) strongLoginRequired(ctx context.Context, practiceID string, m store.Member, amr []string) (bool, error) {
	if StrongLogin(amr) || len(m.Roles) == 0 {
		return false, nil
	}
	lp, err := s.d.Store.LoginPolicy(ctx, practiceID)
	if err != nil {
		return false, fmt.Errorf("account: login policy: %w", err)
	}
	for _, r := range m.Roles {
		if slices.Contains(lp.StrongRoles, r) {
			return true, nil
		}
	}
	return false, nil
}

// CheckLoginPolicy returns ErrStrongLoginRequired when pr's member holds a
// role for which the practice requires a passkey or single sign-on and pr's
// session was not started with one. The OpenID provider calls it before it
// gives any app a code; it reads the member's current roles and policy.
func (s *Service) CheckLoginPolicy(ctx context.Context, pr Principal) error {
	if StrongLogin(pr.Session.AMR) {
		return nil
	}
	m, err := s.d.Store.MemberByID(ctx, pr.Practice.ID, pr.Member.ID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSession
	}
	if err != nil {
		return fmt.Errorf("account: login policy: %w", err)
	}
	required, err := s.strongLoginRequired(ctx, pr.Practice.ID, m, pr.Session.AMR)
	if err != nil {
		return err
	}
	if required {
		return ErrStrongLoginRequired
	}
	return nil
}

// AuthenticateEnrolment is Authenticate for enrolling a passkey: it also
// accepts a session that the login policy restricts (Principal's
// StrongLoginRequired tells which), so that a member who must use a passkey
// can add their first one. A session started with a temporary password still
// yields ErrPasswordChangeRequired.
func (s *Service) AuthenticateEnrolment(ctx context.Context, practiceSlug, token string) (Principal, error) {
	pr, err := s.authenticate(ctx, practiceSlug, token)
	if err == nil && pr.MustChangePassword {
		return Principal{}, ErrPasswordChangeRequired
	}
	return pr, err
}

// PasskeyCount reports how many passkeys pr's member has.
func (s *Service) PasskeyCount(ctx context.Context, pr Principal) (int, error) {
	pks, err := s.d.Store.MemberPasskeys(ctx, pr.Practice.ID, pr.Member.ID)
	if err != nil {
		return 0, fmt.Errorf("account: passkeys: %w", err)
	}
	return len(pks), nil
}

// IsLandingURL reports whether u is exactly the landing URL of one of the
// practice apps (where an accepted invitation sends the person); pages that
// carry a destination accept only these and their own paths.
func (s *Service) IsLandingURL(u string) bool {
	for _, v := range s.set.AppURLs {
		if v != "" && v == u {
			return true
		}
	}
	return false
}
