package account

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/templates"
)

// OwnerRole is the role key of a practice's owner, held by the member created
// with the practice.
const OwnerRole = "owner"

// NewPractice is what it takes to create a practice.
type NewPractice struct {
	Slug       string
	Name       string
	OwnerEmail string
	OwnerName  string // optional
	// Preset is the role preset to install (see roles.Presets); "" means
	// roles.DefaultPreset. The owner gets the preset's owner roles.
	Preset string
}

// CreatedPractice is the result of creating a practice.
type CreatedPractice struct {
	PracticeID string `json:"practice_id"`
	OwnerID    string `json:"owner_id"`
	// SetupURL is the owner's single-use link to set a password. It is a
	// secret: whoever holds it can become the owner.
	SetupURL  string    `json:"setup_url"`
	ExpiresAt time.Time `json:"expires_at"`
	// MailErr is set when the setup email could not be delivered; the practice
	// exists and SetupURL still works.
	MailErr error `json:"-"`
}

// CreatePractice creates a practice and its owner (status invited) and issues
// the owner's setup link, all in one transaction, then emails the link.
func (s *Service) CreatePractice(ctx context.Context, in NewPractice, meta Meta) (CreatedPractice, error) {
	if !config.ValidSlug(in.Slug) {
		return CreatedPractice{}, &InvalidInputError{Field: "slug",
			Reason: "must be 2 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'"}
	}
	name, err := cleanName("name", in.Name, true)
	if err != nil {
		return CreatedPractice{}, err
	}
	ownerName, err := cleanName("owner name", in.OwnerName, false)
	if err != nil {
		return CreatedPractice{}, err
	}
	email, err := ParseEmail(in.OwnerEmail)
	if err != nil {
		return CreatedPractice{}, err
	}
	if in.Preset == "" {
		in.Preset = roles.DefaultPreset
	}
	preset, ok := roles.PresetByKey(in.Preset)
	if !ok {
		return CreatedPractice{}, &InvalidInputError{Field: "preset",
			Reason: "must be one of " + strings.Join(roles.PresetKeys(), ", ") + " (see `frontdesk practice presets`)"}
	}
	now := s.d.Now()
	p := store.Practice{ID: s.d.NewID(), Slug: in.Slug, Name: name, CreatedAt: now}
	owner := store.Member{ID: s.d.NewID(), PracticeID: p.ID, Email: email, DisplayName: ownerName,
		Status: store.StatusInvited, Roles: preset.OwnerRoles, CreatedAt: now}
	token, hash, err := invites.NewToken(s.d.Random)
	if err != nil {
		return CreatedPractice{}, fmt.Errorf("account: %w", err)
	}
	link := store.Link{ID: s.d.NewID(), Purpose: store.PurposeSetup, PracticeID: p.ID, MemberID: owner.ID,
		Email: email, CreatedAt: now, ExpiresAt: now.Add(s.set.SetupTTL)}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePractice(ctx, p); err != nil {
			return err
		}
		if _, err := roles.Install(ctx, tx, p.ID, preset.Key, now); err != nil {
			return err
		}
		if err := tx.CreateMember(ctx, owner); err != nil {
			return err
		}
		if err := tx.CreateLink(ctx, link, hash); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "practice.create", Outcome: "success",
			Details: map[string]string{"slug": p.Slug, "preset": preset.Key}}, meta); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{PracticeID: p.ID, Action: "member.create", Outcome: "success",
			SubjectID: owner.ID, Details: map[string]string{"roles": strings.Join(owner.Roles, ","), "setup_link_expires": link.ExpiresAt.Format(time.RFC3339)}}, meta)
	})
	if errors.Is(err, store.ErrConflict) {
		return CreatedPractice{}, ErrPracticeExists
	}
	if err != nil {
		return CreatedPractice{}, fmt.Errorf("account: create practice: %w", err)
	}
	out := CreatedPractice{PracticeID: p.ID, OwnerID: owner.ID, ExpiresAt: link.ExpiresAt,
		SetupURL: s.link("/p/"+p.Slug+"/setup", url.Values{"token": {token}})}
	out.MailErr = s.sendSetupMail(ctx, p, email, ownerName, link, out.SetupURL)
	return out, nil
}

func (s *Service) sendSetupMail(ctx context.Context, p store.Practice, to, name string, l store.Link, setupURL string) error {
	rendered, err := s.d.Mails.Render(templates.SetupMail{
		PracticeName: p.Name, RecipientName: name, Link: setupURL, Expires: FormatTimeIn(l.ExpiresAt, p),
		LoginURL: s.LoginURL(p),
	})
	if err != nil {
		return fmt.Errorf("account: setup mail: %w", err)
	}
	err = s.d.Mail.Send(ctx, invites.Message{ID: "setup-" + l.ID, To: to, Subject: rendered.Subject,
		Text: rendered.Text, HTML: rendered.HTML, Links: []string{setupURL}})
	if err != nil {
		s.d.Logger.ErrorContext(ctx, "setup mail not delivered; the setup link still works", "practice", p.Slug, "err", err)
		return fmt.Errorf("account: setup mail: %w", err)
	}
	return nil
}

// Bootstrap creates the demo practice when the database holds no practice yet.
// It reports whether it created one; when several replicas start at once, only
// one does.
func (s *Service) Bootstrap(ctx context.Context, in NewPractice) (CreatedPractice, bool, error) {
	n, err := s.d.Store.CountPractices(ctx)
	if err != nil {
		return CreatedPractice{}, false, fmt.Errorf("account: bootstrap: %w", err)
	}
	if n > 0 {
		return CreatedPractice{}, false, nil
	}
	out, err := s.CreatePractice(ctx, in, Meta{RequestID: "bootstrap"})
	if errors.Is(err, ErrPracticeExists) {
		return CreatedPractice{}, false, nil
	}
	if err != nil {
		return CreatedPractice{}, false, err
	}
	return out, true, nil
}

// cleanName checks a human-readable name: trimmed, at most 200 characters, no
// control characters (so it can never break a mail header or a log line).
func cleanName(field, v string, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		return "", &InvalidInputError{Field: field, Reason: "is required"}
	case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
		return "", &InvalidInputError{Field: field, Reason: "must not contain line breaks or control characters"}
	case utf8.RuneCountInString(v) > 200:
		return "", &InvalidInputError{Field: field, Reason: "must be at most 200 characters"}
	}
	return v, nil
}
