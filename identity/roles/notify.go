package roles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/templates"
)

// MailNotifier returns a Deps.Notify that emails every recipient of an
// elevation notice with the "elevation" mail template. It tries every
// recipient and reports the failures together.
func MailNotifier(st *store.Store, sender invites.Sender, mails *templates.Mails) func(context.Context, ElevationNotice) error {
	return func(ctx context.Context, n ElevationNotice) error {
		p, err := st.PracticeByID(ctx, n.PracticeID)
		if err != nil {
			return fmt.Errorf("roles: notice: %w", err)
		}
		who := func(id string) string {
			if id == "" {
				return "The operator"
			}
			m, err := st.MemberByID(ctx, n.PracticeID, id)
			if err != nil {
				return "member " + id
			}
			if m.DisplayName != "" {
				return m.DisplayName + " <" + m.Email + ">"
			}
			return m.Email
		}
		e := n.Elevation
		rendered, err := mails.Render("elevation", map[string]any{
			"PracticeName": p.Name, "Member": who(e.MemberID), "GrantedBy": who(e.GrantedBy),
			"GrantedAt": e.CreatedAt.UTC().Format(time.RFC1123), "ExpiresAt": e.ExpiresAt.UTC().Format(time.RFC1123),
			"Reason": e.Reason, "Permissions": e.Permissions,
		})
		if err != nil {
			return fmt.Errorf("roles: notice: %w", err)
		}
		var errs []error
		for _, id := range n.RecipientIDs {
			m, err := st.MemberByID(ctx, n.PracticeID, id)
			if err != nil {
				errs = append(errs, fmt.Errorf("recipient %s: %w", id, err))
				continue
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
