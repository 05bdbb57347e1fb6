package account

import (
	"context"
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // time zones are validated the same on every host, also one without zoneinfo files

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// PracticeSettings are the practice-wide settings an administrator edits
// besides the role model and the login policy.
type PracticeSettings struct {
	// TimeZone is the IANA name of the practice's time zone
	// ("America/Chicago"): the console, staff pages and mails show times in
	// it; exports keep UTC.
	TimeZone string
	// Onboarding is how new staff get access as stored: "" follows the role
	// preset, or store.OnboardingInvitation / store.OnboardingTemporaryPassword.
	Onboarding string
	// TemporaryPasswordOnboarding is what applies now: true when creating
	// access emails a temporary password instead of an invitation link.
	TemporaryPasswordOnboarding bool
	// LoginURL is the practice's permanent login address, to share with
	// staff.
	LoginURL string
}

// PracticeSettingsUpdate changes practice settings; nil fields stay as they
// are.
type PracticeSettingsUpdate struct {
	TimeZone *string
	// Onboarding: "" (the preset's default), "invitation" or
	// "temporary_password".
	Onboarding *string
}

// presetOnboardsByTemporaryPassword names the role presets whose practices,
// by default, email new staff a temporary password instead of an invitation
// link (the Manager Module help article: "This will send an email to the
// user with a temporary password so that they are able to create their own").
func presetOnboardsByTemporaryPassword(preset string) bool { return preset == "manager-module" }

// CheckTimeZone checks an IANA time zone name ("Europe/Berlin", "UTC") and
// returns its location. "Local" and "" are refused: a practice's zone must
// not depend on the server's.
func CheckTimeZone(name string) (*time.Location, error) {
	invalid := &InvalidInputError{Field: "time_zone",
		Reason: "is not a time zone name; use a name from the IANA time zone database such as America/New_York or Europe/London"}
	if name == "" || name == "Local" || len(name) > 64 {
		return nil, invalid
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '_' || r == '-' || r == '+'
		if !ok {
			return nil, invalid
		}
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, invalid
	}
	return loc, nil
}

// Location is the practice's time zone; UTC when the stored name cannot be
// loaded (it was checked when stored).
func Location(p store.Practice) *time.Location {
	if p.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// LoginURL is the practice's permanent login address.
func (s *Service) LoginURL(p store.Practice) string {
	return s.set.PublicURL + "/p/" + p.Slug + "/login"
}

// OnboardsByTemporaryPassword reports whether creating access for a new
// member of the practice emails a temporary password (to be changed at
// first login) instead of an invitation link: the practice's own choice,
// or its role preset's default (Manager Module).
func (s *Service) OnboardsByTemporaryPassword(ctx context.Context, practiceSlug string) (bool, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return false, err
	}
	return s.onboardsByTemporaryPassword(ctx, s.d.Store, p)
}

func (s *Service) onboardsByTemporaryPassword(ctx context.Context, st *store.Store, p store.Practice) (bool, error) {
	switch p.Onboarding {
	case store.OnboardingTemporaryPassword:
		return true, nil
	case store.OnboardingInvitation:
		return false, nil
	}
	m, err := st.RoleModel(ctx, p.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("account: onboarding: %w", err)
	}
	return presetOnboardsByTemporaryPassword(m.Preset), nil
}

func (s *Service) viewSettings(ctx context.Context, p store.Practice) (PracticeSettings, error) {
	temp, err := s.onboardsByTemporaryPassword(ctx, s.d.Store, p)
	if err != nil {
		return PracticeSettings{}, err
	}
	tz := p.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	return PracticeSettings{TimeZone: tz, Onboarding: p.Onboarding, TemporaryPasswordOnboarding: temp,
		LoginURL: s.LoginURL(p)}, nil
}

// PracticeSettings returns the practice's settings. The actor needs
// settings.view (the operator always may).
func (s *Service) PracticeSettings(ctx context.Context, practiceSlug string, a Actor) (PracticeSettings, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return PracticeSettings{}, err
	}
	if _, err := s.require(ctx, p, a, roles.PermViewSettings); err != nil {
		return PracticeSettings{}, err
	}
	return s.viewSettings(ctx, p)
}

// SetPracticeSettings changes the practice's time zone and onboarding. The
// actor needs settings.edit (the operator always may). Every field is
// checked before anything is written; each change is audited as
// practice.settings with the setting, before and after.
func (s *Service) SetPracticeSettings(ctx context.Context, practiceSlug string, a Actor, upd PracticeSettingsUpdate, meta Meta) (PracticeSettings, error) {
	p, err := s.Practice(ctx, practiceSlug)
	if err != nil {
		return PracticeSettings{}, err
	}
	if _, err := s.require(ctx, p, a, roles.PermEditSettings); err != nil {
		s.refuseAudit(ctx, p, a, "practice.settings", "", err, meta)
		return PracticeSettings{}, err
	}
	if upd.TimeZone != nil {
		loc, err := CheckTimeZone(*upd.TimeZone)
		if err != nil {
			return PracticeSettings{}, err
		}
		name := loc.String()
		upd.TimeZone = &name
	}
	if upd.Onboarding != nil {
		switch *upd.Onboarding {
		case "", store.OnboardingInvitation, store.OnboardingTemporaryPassword:
		default:
			return PracticeSettings{}, &InvalidInputError{Field: "onboarding",
				Reason: `must be "invitation", "temporary_password" or "" (the role preset's default)`}
		}
	}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		cur, err := tx.PracticeByID(ctx, p.ID)
		if err != nil {
			return err
		}
		if upd.TimeZone != nil && *upd.TimeZone != cur.TimeZone {
			if err := tx.SetPracticeTimeZone(ctx, p.ID, *upd.TimeZone); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "practice.settings", Outcome: "success",
				ActorID: a.id(), Details: map[string]string{"field": "time_zone", "before": cur.TimeZone, "after": *upd.TimeZone}}, meta); err != nil {
				return err
			}
		}
		if upd.Onboarding != nil && *upd.Onboarding != cur.Onboarding {
			if err := tx.SetPracticeOnboarding(ctx, p.ID, *upd.Onboarding); err != nil {
				return err
			}
			return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "practice.settings", Outcome: "success",
				ActorID: a.id(), Details: map[string]string{"field": "onboarding", "before": cur.Onboarding, "after": *upd.Onboarding}}, meta)
		}
		return nil
	})
	if err != nil {
		return PracticeSettings{}, fmt.Errorf("account: practice settings: %w", err)
	}
	p, err = s.Practice(ctx, practiceSlug)
	if err != nil {
		return PracticeSettings{}, err
	}
	return s.viewSettings(ctx, p)
}
