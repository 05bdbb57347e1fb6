package account

import (
	"context"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// MethodFederated is the amr value (RFC 8176) of a login through the
// practice's upstream OpenID provider (single sign-on).
const MethodFederated = "fed"

// StartFederatedSession starts a session with amr ["fed"] for a member whose
// upstream identity the caller (package sso) has already verified and
// resolved through an explicit link. It mirrors StartPasskeySession:
// deactivated or unfinished members get ErrInvalidCredentials, and so does a
// locked member when the practice's lockout policy blocks every method
// (lockout.blocks: all). Password attempt counters are never consulted.
// details (no secrets) are added to the audit event.
func (s *Service) StartFederatedSession(ctx context.Context, p store.Practice, memberID string,
	details map[string]string, meta Meta) (Principal, string, error) {
	return s.startMethodSession(ctx, p, memberID, MethodFederated, []string{MethodFederated}, details, meta)
}

// RequireRecentLogin reports ErrReauthRequired when the session's login is
// older than window: linking a new way to log in needs a fresh login.
func (s *Service) RequireRecentLogin(pr Principal, window time.Duration) error {
	if s.d.Now().Sub(pr.Session.AuthTime) > window {
		return ErrReauthRequired
	}
	return nil
}
