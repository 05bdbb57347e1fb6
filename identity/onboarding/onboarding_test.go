package onboarding_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/invites/smtptest"
)

const strongPw = accounttest.StrongPassword

// onboardingPractice creates a practice with an active owner and an active
// administrator (accounttest.Onboarding.Practice); it returns their IDs.
func onboardingPractice(t *testing.T, o *accounttest.Onboarding, slug string) (ownerID, adminID string) {
	t.Helper()
	return o.Practice(t, slug)
}

// waitMail waits for the n-th message to addr and returns it: it wakes at
// each arrival, with the test's deadline as the only (hang-guard) bound.
func waitMail(t *testing.T, srv *smtptest.Server, addr string, n int) smtptest.Message {
	t.Helper()
	return srv.WaitTo(addr, n)
}

func linkIn(t *testing.T, m smtptest.Message) string { t.Helper(); return accounttest.LinkIn(t, m) }

func temporaryIn(t *testing.T, m smtptest.Message) string {
	t.Helper()
	return accounttest.TemporaryIn(t, m)
}

// tokenOf returns a link's token parameter.
func tokenOf(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func TestInvitationEndToEnd(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{AppURLs: map[string]string{"ehr": "https://ehr.example.org/"}})
		ownerID, adminID := onboardingPractice(t, o, "sunrise")
		inv, err := o.Onboard.Invite(ctx, "sunrise", account.Actor{MemberID: ownerID}, onboarding.InviteRequest{
			Email: "Nina.New@example.org", Name: "Nina", Roles: []string{"practitioner", "scheduler"}, App: "ehr"}, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if inv.State != store.InvitationPending || len(inv.Roles) != 2 {
			t.Errorf("invitation = %+v", inv)
		}
		msg := waitMail(t, o.SMTP, "Nina.New@example.org", 1)
		if !strings.HasPrefix(msg.MessageID(), "outbox-") || !strings.Contains(msg.Header.Get("From"), "Sunrise") {
			t.Errorf("Message-ID %q, From %q", msg.MessageID(), msg.Header.Get("From"))
		}
		html, _ := msg.Part("text/html")
		if !strings.Contains(html, "Sunrise &amp; &lt;Co&gt;") {
			t.Errorf("practice name not escaped in the HTML part:\n%s", html)
		}
		link := linkIn(t, msg)
		if !strings.HasPrefix(link, "https://id.example.org/p/sunrise/invite?token=") {
			t.Fatalf("link = %s", link)
		}
		token := tokenOf(t, link)
		// Opening the link (mail scanners) consumes nothing.
		for range 3 {
			v, err := o.Onboard.OpenInvitation(ctx, "sunrise", token)
			if err != nil || v.Email != "Nina.New@example.org" || len(v.RoleNames) != 2 {
				t.Fatalf("OpenInvitation = %+v, %v", v, err)
			}
		}
		if _, err := o.Onboard.AcceptInvitation(ctx, "sunrise", token, "short", "short", account.Meta{}); err == nil {
			t.Fatal("a password under the policy was accepted")
		}
		acc, err := o.Onboard.AcceptInvitation(ctx, "sunrise", token, strongPw, strongPw, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if acc.LandingURL != "https://ehr.example.org/" || acc.Principal.Member.Status != store.StatusActive {
			t.Errorf("accepted = %+v", acc)
		}
		if _, err := o.Service.Authenticate(ctx, "sunrise", acc.SessionToken); err != nil {
			t.Errorf("not signed in after accepting: %v", err)
		}
		eff, err := o.Roles.Effective(ctx, acc.Principal.Practice.ID, acc.Principal.Member.ID)
		if err != nil || strings.Join(eff.Roles, ",") != "practitioner,scheduler" {
			t.Errorf("roles = %v, %v", eff.Roles, err)
		}
		// The inviter hears of it.
		notice := waitMail(t, o.SMTP, "owner@sunrise.example.org", 1)
		if text, _ := notice.Part("text/plain"); !strings.Contains(text, "Nina (Nina.New@example.org) accepted") || !strings.Contains(text, "Hello Olive Owner,") {
			t.Errorf("acceptance notice:\n%s", text)
		}
		if len(o.SMTP.To("admin@sunrise.example.org")) != 0 {
			t.Error("someone other than the inviter was notified")
		}
		// Replayed: refused.
		if _, err := o.Onboard.OpenInvitation(ctx, "sunrise", token); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("replayed link opened: %v", err)
		}
		// The address is now an active member.
		_, err = o.Onboard.Invite(ctx, "sunrise", account.Operator(), onboarding.InviteRequest{Email: "nina.new@EXAMPLE.org",
			Roles: []string{"practitioner"}}, account.Meta{})
		if !errors.Is(err, onboarding.ErrAlreadyMember) {
			t.Errorf("inviting an active member: %v", err)
		}
		list, err := o.Onboard.Invitations(ctx, "sunrise", account.Actor{MemberID: adminID})
		if err != nil || len(list) != 1 || list[0].State != store.InvitationAccepted {
			t.Errorf("Invitations = %+v, %v", list, err)
		}
	})
}

func TestInviteRules(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
	_, adminID := onboardingPractice(t, o, "sunrise")
	if err := st.CreateMember(ctx, store.Member{ID: "prac", PracticeID: "ob-00001", Email: "p@example.org",
		Status: store.StatusActive, Roles: []string{"practitioner"}, CreatedAt: o.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	var invalid *account.InvalidInputError
	tests := []struct {
		name  string
		actor account.Actor
		req   onboarding.InviteRequest
		check func(error) bool
	}{
		{"no role", account.Operator(), onboarding.InviteRequest{Email: "x@example.org"}, func(err error) bool { return errors.As(err, &invalid) }},
		{"unknown role", account.Operator(), onboarding.InviteRequest{Email: "x@example.org", Roles: []string{"wizard"}},
			func(err error) bool { return errors.As(err, &invalid) && strings.Contains(err.Error(), "practitioner") }},
		{"bad address", account.Operator(), onboarding.InviteRequest{Email: "x@example.org\r\nBcc: y@example.org", Roles: []string{"biller"}},
			func(err error) bool { return errors.As(err, &invalid) }},
		{"name with a line break", account.Operator(), onboarding.InviteRequest{Email: "x@example.org", Name: "A\nBcc: b", Roles: []string{"biller"}},
			func(err error) bool { return errors.As(err, &invalid) }},
		{"unknown app", account.Operator(), onboarding.InviteRequest{Email: "x@example.org", Roles: []string{"biller"}, App: "nope"},
			func(err error) bool { return errors.As(err, &invalid) }},
		{"without members.manage", account.Actor{MemberID: "prac"}, onboarding.InviteRequest{Email: "x@example.org", Roles: []string{"biller"}},
			func(err error) bool { return errors.Is(err, account.ErrForbidden) }},
		{"giving a role the actor may not give", account.Actor{MemberID: adminID}, onboarding.InviteRequest{Email: "x@example.org", Roles: []string{"owner"}},
			func(err error) bool {
				p, ok := problem.As(err)
				return errors.Is(err, account.ErrForbidden) && ok && p.Public == "You can't give the Account Owner role; only an owner can."
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := o.Onboard.Invite(ctx, "sunrise", tt.actor, tt.req, account.Meta{}); !tt.check(err) {
				t.Errorf("err = %v", err)
			}
		})
	}
	if _, err := st.MemberByEmail(ctx, "ob-00001", "x@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused invitation left a member: %v", err)
	}
}

func TestInvitationLinksRefused(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		_, adminID := onboardingPractice(t, o, "sunrise")
		onboardingPractice(t, o, "harbor")
		admin := account.Actor{MemberID: adminID}
		invite := func(email string) (onboarding.Invitation, string) {
			t.Helper()
			inv, err := o.Onboard.Invite(ctx, "sunrise", admin, onboarding.InviteRequest{Email: email, Roles: []string{"practitioner"}}, account.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			return inv, tokenOf(t, linkIn(t, waitMail(t, o.SMTP, email, len(o.SMTP.To(email))+1)))
		}
		refused := func(what, slug, token string) {
			t.Helper()
			if _, err := o.Onboard.OpenInvitation(ctx, slug, token); !errors.Is(err, account.ErrLinkInvalid) {
				t.Errorf("%s: open: %v", what, err)
			}
			if _, err := o.Onboard.AcceptInvitation(ctx, slug, token, strongPw, strongPw, account.Meta{}); !errors.Is(err, account.ErrLinkInvalid) {
				t.Errorf("%s: accept: %v", what, err)
			}
		}

		// Resent: the old link is void, the new one works.
		inv, oldToken := invite("resent@example.org")
		if _, err := o.Onboard.ResendInvitation(ctx, "sunrise", admin, inv.ID, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		newToken := tokenOf(t, linkIn(t, waitMail(t, o.SMTP, "resent@example.org", 2)))
		refused("resent (old link)", "sunrise", oldToken)
		if _, err := o.Onboard.OpenInvitation(ctx, "sunrise", newToken); err != nil {
			t.Errorf("new link after resend: %v", err)
		}
		// Cross-practice: a sunrise link at harbor.
		refused("cross-practice", "harbor", newToken)

		// Revoked.
		inv, token := invite("revoked@example.org")
		if err := o.Onboard.RevokeInvitation(ctx, "sunrise", admin, inv.ID, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		refused("revoked", "sunrise", token)
		if err := o.Onboard.RevokeInvitation(ctx, "sunrise", admin, inv.ID, account.Meta{}); !errors.Is(err, onboarding.ErrInvitationClosed) {
			t.Errorf("revoked twice: %v", err)
		}

		// Replayed after acceptance, and two simultaneous acceptances.
		_, token = invite("twice@example.org")
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i := range results {
			wg.Go(func() {
				_, results[i] = o.Onboard.AcceptInvitation(ctx, "sunrise", token, strongPw, strongPw, account.Meta{})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range results {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, account.ErrLinkInvalid):
				t.Errorf("concurrent acceptance: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d acceptances succeeded, want exactly 1", ok)
		}
		refused("replayed", "sunrise", token)

		// Malformed and unknown tokens.
		refused("unknown", "sunrise", strings.Repeat("A", 43))
		refused("empty", "sunrise", "")
		refused("overlong", "sunrise", strings.Repeat("A", 5000))

		// Expired.
		_, token = invite("late@example.org")
		o.Clock.Advance(7*24*time.Hour + time.Second)
		refused("expired", "sunrise", token)
		list, _ := o.Onboard.Invitations(ctx, "sunrise", admin)
		states := map[string]store.InvitationState{}
		for _, i := range list {
			states[i.Email] = i.State
		}
		want := map[string]store.InvitationState{"resent@example.org": store.InvitationExpired, "revoked@example.org": store.InvitationRevoked,
			"twice@example.org": store.InvitationAccepted, "late@example.org": store.InvitationExpired}
		for k, v := range want {
			if states[k] != v {
				t.Errorf("state of %s = %q, want %q", k, states[k], v)
			}
		}
	})
}

func TestTemporaryPasswordEndToEnd(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		_, adminID := onboardingPractice(t, o, "sunrise")
		owner := "owner@sunrise.example.org"
		// Only holders of passwords.reset may issue one.
		if err := st.CreateMember(ctx, store.Member{ID: "sched", PracticeID: "ob-00001", Email: "s@example.org",
			Status: store.StatusActive, Roles: []string{"scheduler"}, CreatedAt: o.Clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Onboard.IssueTemporaryPassword(ctx, "sunrise", account.Actor{MemberID: "sched"}, owner, account.Meta{}); !errors.Is(err, account.ErrForbidden) {
			t.Fatalf("scheduler issued a temporary password: %v", err)
		}
		issued, err := o.Onboard.IssueTemporaryPassword(ctx, "sunrise", account.Actor{MemberID: adminID}, owner, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if issued.ExpiresAt.Sub(o.Clock.Now()) > 24*time.Hour {
			t.Errorf("expires at %v", issued.ExpiresAt)
		}
		temp := temporaryIn(t, waitMail(t, o.SMTP, owner, 1))
		// The owner's own password still works and is unrestricted.
		if pr, _, err := o.Service.Login(ctx, "sunrise", owner, strongPw, account.Meta{}); err != nil || pr.MustChangePassword {
			t.Fatalf("own password: %+v, %v", pr.MustChangePassword, err)
		}
		pr, token, err := o.Service.Login(ctx, "sunrise", owner, temp, account.Meta{})
		if err != nil || !pr.MustChangePassword || !pr.Session.MustChangePassword {
			t.Fatalf("temporary login: restricted=%v, %v", pr.MustChangePassword, err)
		}
		// The restricted session is good for nothing else.
		if _, err := o.Service.Authenticate(ctx, "sunrise", token); !errors.Is(err, account.ErrPasswordChangeRequired) || !errors.Is(err, account.ErrNoSession) {
			t.Errorf("Authenticate on a restricted session: %v", err)
		}
		// It works once.
		if _, _, err := o.Service.Login(ctx, "sunrise", owner, temp, account.Meta{}); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("temporary password used twice: %v", err)
		}
		rp, err := o.Service.AuthenticateRestricted(ctx, "sunrise", token)
		if err != nil || !rp.MustChangePassword {
			t.Fatalf("AuthenticateRestricted = %v, %v", rp.MustChangePassword, err)
		}
		if _, _, err := o.Service.SetRequiredPassword(ctx, rp, temp, temp, account.Meta{}); !errors.Is(err, account.ErrSamePassword) {
			t.Errorf("new password equal to the temporary one: %v", err)
		}
		const next = "lantern orchard pebble drift 17"
		np, newToken, err := o.Service.SetRequiredPassword(ctx, rp, next, next, account.Meta{})
		if err != nil || np.MustChangePassword {
			t.Fatalf("SetRequiredPassword = %v, %v", np.MustChangePassword, err)
		}
		if _, err := o.Service.Authenticate(ctx, "sunrise", newToken); err != nil {
			t.Errorf("new session: %v", err)
		}
		if _, err := o.Service.AuthenticateRestricted(ctx, "sunrise", token); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("restricted session survived: %v", err)
		}
		if _, _, err := o.Service.Login(ctx, "sunrise", owner, next, account.Meta{}); err != nil {
			t.Errorf("login with the new password: %v", err)
		}

		// A new temporary password voids the old; expiry holds.
		if _, err := o.Onboard.IssueTemporaryPassword(ctx, "sunrise", account.Operator(), owner, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		first := temporaryIn(t, waitMail(t, o.SMTP, owner, 2))
		if _, err := o.Onboard.IssueTemporaryPassword(ctx, "sunrise", account.Operator(), owner, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		second := temporaryIn(t, waitMail(t, o.SMTP, owner, 3))
		if _, _, err := o.Service.Login(ctx, "sunrise", owner, first, account.Meta{}); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("voided temporary password worked: %v", err)
		}
		o.Clock.Advance(24*time.Hour + time.Second)
		if _, _, err := o.Service.Login(ctx, "sunrise", owner, second, account.Meta{}); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("expired temporary password worked: %v", err)
		}
	})
}

func TestForgotPasswordEndToEnd(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		onboardingPractice(t, o, "sunrise")
		owner := "owner@sunrise.example.org"
		_, oldSession, err := o.Service.Login(ctx, "sunrise", owner, strongPw, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		// Same answer for an unknown address; nothing is sent.
		if err := o.Onboard.RequestPasswordReset(ctx, "sunrise", "nobody@example.org", account.Meta{}); err != nil {
			t.Errorf("unknown address: %v", err)
		}
		if err := o.Onboard.RequestPasswordReset(ctx, "sunrise", owner, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		link := linkIn(t, waitMail(t, o.SMTP, owner, 1))
		if !strings.HasPrefix(link, "https://id.example.org/p/sunrise/reset?token=") {
			t.Fatalf("link = %s", link)
		}
		if len(o.SMTP.To("nobody@example.org")) != 0 {
			t.Error("mail sent to an unknown address")
		}
		token := tokenOf(t, link)
		if _, err := o.Onboard.OpenResetLink(ctx, "sunrise", token); err != nil {
			t.Fatal(err)
		}
		const next = "copper meadow sprocket tide 52"
		if err := o.Onboard.CompleteReset(ctx, "sunrise", token, next, next, account.Meta{}); err != nil {
			t.Fatalf("CompleteReset: %v", err)
		}
		// No session is started (F8): the person logs in with the new password.
		if _, _, err := o.Service.Login(ctx, "sunrise", owner, next, account.Meta{}); err != nil {
			t.Errorf("login with the new password after the reset: %v", err)
		}
		if _, err := o.Service.Authenticate(ctx, "sunrise", oldSession); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("old session survived the reset: %v", err)
		}
		if err := o.Onboard.CompleteReset(ctx, "sunrise", token, next, next, account.Meta{}); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("reset link replayed: %v", err)
		}
		// Short-lived: a second link expires after an hour.
		o.Clock.Advance(2 * time.Minute)
		if err := o.Onboard.RequestPasswordReset(ctx, "sunrise", owner, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		token = tokenOf(t, linkIn(t, waitMail(t, o.SMTP, owner, 2)))
		o.Clock.Advance(time.Hour + time.Second)
		if _, err := o.Onboard.OpenResetLink(ctx, "sunrise", token); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("expired reset link: %v", err)
		}
		// A reset link is not an invitation link, nor valid in another practice.
		if _, err := o.Onboard.OpenInvitation(ctx, "sunrise", token); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("reset link as invitation: %v", err)
		}
	})
}

// TestOutboxSurvivesSMTPOutage: the SMTP server is down while 200
// invitations are made; when it comes back every one is delivered exactly
// once.
func TestOutboxSurvivesSMTPOutage(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// The worker's passes are run by the test, one after another, with
		// the clock moved past the back-off in between: nothing waits for
		// real time, and every count below is exact.
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{NoWorker: true})
		onboardingPractice(t, o, "sunrise")
		o.SMTP.Stop()
		const n = 200
		for i := range n {
			if _, err := o.Onboard.Invite(ctx, "sunrise", account.Operator(), onboarding.InviteRequest{
				Email: fmt.Sprintf("staff%03d@example.org", i), Roles: []string{"practitioner"}}, account.Meta{}); err != nil {
				t.Fatal(err)
			}
		}
		o.RunPasses(t, func() bool { return metric(t, o, "frontdesk_mail_attempt_failures_total") >= n })
		if got := metric(t, o, "frontdesk_mail_attempt_failures_total"); got != n {
			t.Fatalf("%v failed attempts while SMTP was down, want one per message (%d)", got, n)
		}
		if len(o.SMTP.Messages()) != 0 {
			t.Fatal("mail delivered while the server was down")
		}
		o.SMTP.Restart()
		// Until the outbox is empty: every message has then been delivered
		// and marked sent, so a duplicate would already be here.
		o.RunPasses(t, o.OutboxEmpty(t))
		msgs := o.SMTP.Messages()
		ids := map[string]int{}
		for _, m := range msgs {
			ids[m.MessageID()]++
		}
		if len(msgs) != n || len(ids) != n {
			t.Fatalf("%d messages with %d distinct Message-IDs; want %d of each", len(msgs), len(ids), n)
		}
		list, err := o.Onboard.Invitations(ctx, "sunrise", account.Operator())
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range list {
			if i.State != store.InvitationPending {
				t.Errorf("%s: state %s", i.Email, i.State)
			}
		}
	})
}

// metric sums the values of the named counter or gauge in o's registry.
func metric(t *testing.T, o *accounttest.Onboarding, name string) float64 {
	t.Helper()
	mfs, err := o.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// TestTwoReplicasShareTheOutbox: two replicas (services with their own
// outbox workers) on one PostgreSQL database deliver every message once.
func TestTwoReplicasShareTheOutbox(t *testing.T) {
	st := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	a := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{WorkerID: "replica-a", IDPrefix: "a-", NoWorker: true})
	b := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{WorkerID: "replica-b", IDPrefix: "b-", SMTP: a.SMTP,
		Clock: a.Clock, NoWorker: true})
	onboardingPractice(t, a, "sunrise")
	const n = 120
	for i := range n {
		svc := a.Onboard
		if i%2 == 1 {
			svc = b.Onboard // invitations made through either replica
		}
		if _, err := svc.Invite(ctx, "sunrise", account.Operator(), onboarding.InviteRequest{
			Email: fmt.Sprintf("staff%03d@example.org", i), Roles: []string{"practitioner"}}, account.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	a.StartWorker()
	b.StartWorker()
	a.SMTP.Wait(n)
	// Both workers stopped (each waits for its pass in progress), every
	// delivered message is marked sent: nothing is left to send twice.
	a.StopWorker()
	b.StopWorker()
	if pending, err := st.CountOutboxPending(ctx); err != nil || pending != 0 {
		t.Fatalf("%d messages still pending (%v) after %d were delivered", pending, err, n)
	}
	ids := map[string]int{}
	for _, m := range a.SMTP.Messages() {
		ids[m.MessageID()]++
	}
	for id, c := range ids {
		if c != 1 {
			t.Errorf("%s delivered %d times", id, c)
		}
	}
	if len(ids) != n {
		t.Errorf("%d distinct messages delivered, want %d", len(ids), n)
	}
	sa, sb := metric(t, a, "frontdesk_mail_sent_total"), metric(t, b, "frontdesk_mail_sent_total")
	if sa+sb != n {
		t.Errorf("sent %v + %v, want %d", sa, sb, n)
	}
	t.Logf("replica a sent %v, replica b sent %v", sa, sb)
}

// TestDeliveryFailureIsVisible: past the retry limit an invitation shows
// "delivery failed" with the error, the failure is counted, and resending
// gives it a fresh start.
func TestDeliveryFailureIsVisible(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{MaxAttempts: 3, NoWorker: true})
	onboardingPractice(t, o, "sunrise")
	o.SMTP.Stop()
	inv, err := o.Onboard.Invite(ctx, "sunrise", account.Operator(), onboarding.InviteRequest{Email: "x@example.org",
		Roles: []string{"practitioner"}}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	o.RunPasses(t, func() bool { return metric(t, o, "frontdesk_mail_failed_total") >= 1 })
	if got := metric(t, o, "frontdesk_mail_attempt_failures_total"); got != 2 {
		t.Errorf("%v attempts retried before giving up, want 2 (the retry limit is 3)", got)
	}
	list, err := o.Onboard.Invitations(ctx, "sunrise", account.Operator())
	if err != nil || len(list) != 1 || list[0].State != store.InvitationDeliveryFailed || list[0].DeliveryError == "" {
		t.Fatalf("Invitations = %+v, %v", list, err)
	}
	if strings.Contains(list[0].DeliveryError, "smtp-secret") {
		t.Error("the delivery error carries the SMTP password")
	}
	o.SMTP.Restart()
	o.StartWorker()
	if _, err := o.Onboard.ResendInvitation(ctx, "sunrise", account.Operator(), inv.ID, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	msg := waitMail(t, o.SMTP, "x@example.org", 1)
	if _, err := o.Onboard.OpenInvitation(ctx, "sunrise", tokenOf(t, linkIn(t, msg))); err != nil {
		t.Errorf("resent link: %v", err)
	}
	list, _ = o.Onboard.Invitations(ctx, "sunrise", account.Operator())
	if list[0].State != store.InvitationPending || list[0].Sends != 2 {
		t.Errorf("after resend: %+v", list[0])
	}
}

// TestDeactivateMember: sessions end, pending links die, records stay, the
// hooks run and the answer lists the supervisees to reassign.
func TestDeactivateMember(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var hooked []string
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		ownerID, adminID := onboardingPractice(t, o, "sunrise")
		pid := "ob-00001"
		for _, m := range []store.Member{
			{ID: "sup", PracticeID: pid, Email: "sup@example.org", Status: store.StatusActive, Roles: []string{"practitioner", "supervisor"}},
			{ID: "intern", PracticeID: pid, Email: "intern@example.org", Status: store.StatusActive, Roles: []string{"practitioner"}},
		} {
			m.CreatedAt = o.Clock.Now()
			if err := st.CreateMember(ctx, m); err != nil {
				t.Fatal(err)
			}
			if err := st.SetPassword(ctx, m.ID, "x", m.CreatedAt, false); err != nil {
				t.Fatal(err)
			}
		}
		if err := o.Roles.SetSupervisors(ctx, roles.Actor{PracticeID: pid}, "intern",
			[]roles.SupervisorLink{{SupervisorID: "sup", CosignNotes: true}}, roles.Meta{}); err != nil {
			t.Fatal(err)
		}
		sess := store.Session{ID: "s-sup", PracticeID: pid, MemberID: "sup", AMR: []string{"pwd"}, AuthTime: o.Clock.Now(),
			CreatedAt: o.Clock.Now(), LastSeenAt: o.Clock.Now(), ExpiresAt: o.Clock.Now().Add(time.Hour)}
		if err := st.CreateSession(ctx, sess, []byte("0123456789abcdef0123456789abcdef")); err != nil {
			t.Fatal(err)
		}
		if err := st.SetMemberStatus(ctx, "sup", store.StatusActive, o.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := o.Onboard.RequestPasswordReset(ctx, "sunrise", "sup@example.org", account.Meta{}); err != nil {
			t.Fatal(err)
		}
		resetToken := tokenOf(t, linkIn(t, waitMail(t, o.SMTP, "sup@example.org", 1)))

		// A member without members.manage may not remove anyone.
		if _, err := o.Service.DeactivateMember(ctx, "sunrise", account.Actor{MemberID: "intern"}, "sup", account.Meta{}); !errors.Is(err, account.ErrForbidden) {
			t.Fatalf("intern deactivated someone: %v", err)
		}
		o.Service.RegisterDeactivationHook(func(_ context.Context, practiceID, memberID string) error {
			hooked = append(hooked, practiceID+"/"+memberID)
			return nil
		})
		rm, err := o.Service.DeactivateMember(ctx, "sunrise", account.Actor{MemberID: adminID}, "sup", account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if rm.SessionsEnded != 1 || rm.LinksVoided != 1 || len(rm.Reassign) != 1 || rm.Reassign[0].MemberID != "intern" ||
			rm.Reassign[0].Kind != "supervisee" {
			t.Errorf("removal = %+v", rm)
		}
		if len(hooked) != 1 || hooked[0] != pid+"/sup" {
			t.Errorf("hooks ran for %v", hooked)
		}
		if _, err := o.Onboard.OpenResetLink(ctx, "sunrise", resetToken); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("reset link of a removed member: %v", err)
		}
		m, err := st.MemberByID(ctx, pid, "sup")
		if err != nil || m.Status != store.StatusDeactivated || len(m.Roles) != 2 {
			t.Errorf("record after removal = %+v, %v (kept, deactivated)", m, err)
		}
		if sv, err := o.Roles.Supervision(ctx, pid, "intern"); err != nil || len(sv.Supervisors) != 1 {
			t.Errorf("supervision record = %+v, %v (kept)", sv, err)
		}
		if _, err := o.Service.DeactivateMember(ctx, "sunrise", account.Operator(), "sup", account.Meta{}); !errors.Is(err, account.ErrMemberNotFound) {
			t.Errorf("deactivated twice: %v", err)
		}
		// The practice keeps someone who can manage members.
		if _, err := o.Service.DeactivateMember(ctx, "sunrise", account.Operator(), adminID, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Service.DeactivateMember(ctx, "sunrise", account.Operator(), ownerID, account.Meta{}); !errors.Is(err, account.ErrLastManager) {
			t.Errorf("last manager removed: %v", err)
		}
		// A former member can be invited back.
		if _, err := o.Onboard.Invite(ctx, "sunrise", account.Operator(), onboarding.InviteRequest{Email: "sup@example.org",
			Roles: []string{"practitioner"}}, account.Meta{}); err != nil {
			t.Errorf("re-inviting a former member: %v", err)
		}
	})
}

// TestDeactivationVoidsInvitations: removing an invited member voids their
// open invitation in the removal's transaction (the step onboarding.New
// registers with the account service): its link stops working, it shows as
// revoked, the removal counts it, and mail not yet delivered is withdrawn.
func TestDeactivationVoidsInvitations(t *testing.T) {
	tests := []struct {
		name      string
		delivered bool // the invitation mail went out before the removal
	}{
		{"delivered", true},
		{"undelivered", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{NoWorker: !tc.delivered})
				_, adminID := onboardingPractice(t, o, "sunrise")
				const invitee = "ivy@example.org"
				inv, err := o.Onboard.Invite(ctx, "sunrise", account.Actor{MemberID: adminID},
					onboarding.InviteRequest{Email: invitee, Roles: []string{"practitioner"}}, account.Meta{})
				if err != nil {
					t.Fatal(err)
				}
				token := ""
				if tc.delivered {
					token = tokenOf(t, linkIn(t, waitMail(t, o.SMTP, invitee, 1)))
				}
				rm, err := o.Service.DeactivateMember(ctx, "sunrise", account.Actor{MemberID: adminID}, inv.MemberID, account.Meta{})
				if err != nil {
					t.Fatal(err)
				}
				if rm.InvitationsRevoked != 1 {
					t.Errorf("removal = %+v, want 1 invitation revoked", rm)
				}
				list, err := o.Onboard.Invitations(ctx, "sunrise", account.Operator())
				if err != nil || len(list) != 1 || list[0].State != store.InvitationRevoked {
					t.Errorf("invitations after removal = %+v, %v (want one, revoked)", list, err)
				}
				if tc.delivered {
					if _, err := o.Onboard.OpenInvitation(ctx, "sunrise", token); !errors.Is(err, account.ErrLinkInvalid) {
						t.Errorf("invitation link of a removed member: %v, want ErrLinkInvalid", err)
					}
					return
				}
				// Proved, not waited for: once the outbox is empty, the
				// withdrawn message would have been attempted.
				o.RunPasses(t, o.OutboxEmpty(t))
				if got := o.SMTP.To(invitee); len(got) != 0 {
					t.Errorf("%d invitation mails delivered after the removal, want none", len(got))
				}
			})
		})
	}
}
