package account_test

import (
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/invites/smtptest"
)

// The login tests that need an issued temporary password or a practice with
// an administrator use the onboarding kit (accounttest.Onboarding).

const strongPw = accounttest.StrongPassword

func onboardingPractice(t *testing.T, o *accounttest.Onboarding, slug string) (ownerID, adminID string) {
	t.Helper()
	return o.Practice(t, slug)
}

func waitMail(t *testing.T, srv *smtptest.Server, addr string, n int) smtptest.Message {
	t.Helper()
	return srv.WaitTo(addr, n)
}

func temporaryIn(t *testing.T, m smtptest.Message) string {
	t.Helper()
	return accounttest.TemporaryIn(t, m)
}
