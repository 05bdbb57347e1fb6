package roles

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/templates"
)

// renderNotice renders the "elevation" mail template for n, reading names
// through st (the granting transaction, or the store).
func renderNotice(ctx context.Context, st *store.Store, mails *templates.Mails, n ElevationNotice, recipient store.Member) (store.Practice, templates.Mail, error) {
	p, err := st.PracticeByID(ctx, n.PracticeID)
	if err != nil {
		return store.Practice{}, templates.Mail{}, fmt.Errorf("roles: notice: %w", err)
	}
	m, err := loadModel(ctx, st, n.PracticeID)
	if err != nil {
		return store.Practice{}, templates.Mail{}, fmt.Errorf("roles: notice: %w", err)
	}
	byKey := index(m.defs)
	// who names a member by name with their roles ("Dana Reyes (Practice
	// Administrator)"), or by email when they have no name.
	who := func(id string) string {
		if id == "" {
			return "The operator"
		}
		mm, err := st.MemberByID(ctx, n.PracticeID, id)
		if err != nil {
			return "a former member"
		}
		var rs []string
		for _, k := range mm.Roles {
			rs = append(rs, nameOf(byKey, k))
		}
		label := mm.Email
		if mm.DisplayName != "" {
			label = mm.DisplayName
		}
		if len(rs) > 0 {
			label += " (" + strings.Join(rs, ", ") + ")"
		}
		if mm.DisplayName != "" {
			label += ", " + mm.Email
		}
		return label
	}
	e := n.Elevation
	loc := time.UTC // times in the practice's time zone (checked when it was stored)
	if p.TimeZone != "" {
		if l, err := time.LoadLocation(p.TimeZone); err == nil {
			loc = l
		}
	}
	words := make([]string, 0, len(e.Permissions))
	for _, perm := range e.Permissions {
		words = append(words, PermissionWords(perm))
	}
	const layout = "Mon 2 Jan 2006, 15:04 MST"
	rendered, err := mails.Render(templates.ElevationMail{
		PracticeName: p.Name, RecipientName: recipient.DisplayName, Member: who(e.MemberID), GrantedBy: who(e.GrantedBy),
		GrantedAt: e.CreatedAt.In(loc).Format(layout), ExpiresAt: e.ExpiresAt.In(loc).Format(layout),
		Reason: e.Reason, Permissions: words,
	})
	if err != nil {
		return store.Practice{}, templates.Mail{}, fmt.Errorf("roles: notice: %w", err)
	}
	return p, rendered, nil
}

// MailNotifier returns a Deps.Notify that emails every recipient of an
// elevation notice with the "elevation" mail template, directly through
// sender after the grant committed. It tries every recipient and reports the
// failures together. OutboxNotifier is the durable alternative.
func MailNotifier(st *store.Store, sender invites.Sender, mails *templates.Mails) func(context.Context, ElevationNotice) error {
	return func(ctx context.Context, n ElevationNotice) error {
		e := n.Elevation
		var errs []error
		for _, id := range n.RecipientIDs {
			m, err := st.MemberByID(ctx, n.PracticeID, id)
			if err != nil {
				errs = append(errs, fmt.Errorf("recipient %s: %w", id, err))
				continue
			}
			_, rendered, err := renderNotice(ctx, st, mails, n, m)
			if err != nil {
				return err
			}
			err = sender.Send(ctx, invites.Message{ID: "elevation-" + e.ID + "-" + id, To: m.Email,
				Subject: rendered.Subject, Text: rendered.Text, HTML: rendered.HTML})
			if err != nil {
				errs = append(errs, fmt.Errorf("recipient %s: %w", id, err))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("roles: notice: %w", err)
		}
		return nil
	}
}

// OutboxNotifier returns a Deps.NotifyTx that queues the "elevation" email
// for every recipient in the durable mail outbox, inside the transaction that
// grants the elevation: the notices exist exactly when the grant commits, and
// the outbox worker of any replica delivers them with retries. Each row's
// kind is "elevation" and its ref_id the elevation's ID.
func OutboxNotifier(mails *templates.Mails) func(ctx context.Context, tx *store.Store, n ElevationNotice) error {
	return func(ctx context.Context, tx *store.Store, n ElevationNotice) error {
		e := n.Elevation
		for _, id := range n.RecipientIDs {
			m, err := tx.MemberByID(ctx, n.PracticeID, id)
			if err != nil {
				return fmt.Errorf("roles: notice: recipient %s: %w", id, err)
			}
			p, rendered, err := renderNotice(ctx, tx, mails, n, m)
			if err != nil {
				return err
			}
			if err := tx.EnqueueMail(ctx, store.OutboxMail{ID: "elevation-" + e.ID + "-" + id, PracticeID: n.PracticeID,
				Kind: "elevation", RefID: e.ID, CreatedAt: e.CreatedAt,
				Message: invites.Message{To: m.Email, Subject: rendered.Subject, Text: rendered.Text, HTML: rendered.HTML,
					FromName: p.Name}}); err != nil {
				return fmt.Errorf("roles: notice: %w", err)
			}
		}
		return nil
	}
}
