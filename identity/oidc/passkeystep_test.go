package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

const stepNewPw = "copper willow ninety quiet harbor"

// TestPasskeyStepAfterTemporaryPassword: an app sends Nina to log in; she
// types a temporary password, chooses her own, is offered a passkey, and —
// whether she adds one or chooses "Not now" — continues to the app, which
// gets its code.
func TestPasskeyStepAfterTemporaryPassword(t *testing.T) {
	tests := []struct {
		name string
		add  bool
	}{{"not now", false}, {"add a passkey", true}}
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e := newPolicyEnv(t, engine)
					ctx := context.Background()
					const temp = "Temp0rary-Passw0rd-xyzw"
					nina, err := e.store.MemberByEmail(ctx, mustPractice(t, e).ID, ninaEmail)
					if err != nil {
						t.Fatal(err)
					}
					hash, err := password.NewHasher(accounttest.FastParams, 1).Hash(ctx, temp)
					if err != nil {
						t.Fatal(err)
					}
					now := e.acc.Clock.Now()
					if err := e.store.CreateTemporaryPassword(ctx, store.TemporaryPassword{ID: uuid.NewString(), PracticeID: nina.PracticeID,
						MemberID: nina.ID, PasswordHash: hash, IssuedBy: "operator", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
						t.Fatal(err)
					}

					cfg := e.oauth("ehr", ehrSecret, ehrCB, "profile")
					verifier := oauth2.GenerateVerifier()
					b := e.browser()
					id := e.startAuth(b, cfg, verifier)
					resp := e.postLogin(b, id, ninaEmail, temp)
					_ = resp.Body.Close()
					loc, _ := resp.Location()
					if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/p/sunrise/new-password" || loc.Query().Get("authRequest") != id {
						t.Fatalf("temporary login = %d %v", resp.StatusCode, loc)
					}
					page := e.get(b, loc.String())
					if body := readBody(page); !strings.Contains(body, `name="authRequest" value="`+id+`"`) {
						t.Fatalf("new-password page lacks the auth request: %s", body)
					}
					s := &site{e: e.env, c: b}
					form := url.Values{"new_password": {stepNewPw}, "confirm_password": {stepNewPw}, "authRequest": {id}}
					resp = s.form("/p/sunrise/new-password", form)
					_ = resp.Body.Close()
					loc, _ = resp.Location()
					if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/p/sunrise/add-passkey" || loc.Query().Get("authRequest") != id {
						t.Fatalf("set password = %d %v", resp.StatusCode, loc)
					}
					page = e.get(b, loc.String())
					body := readBody(page)
					if page.StatusCode != http.StatusOK || !strings.Contains(body, "Add a passkey?") ||
						!strings.Contains(body, `name="authRequest" value="`+id+`"`) ||
						!strings.Contains(body, `data-next="/p/sunrise/login?authRequest=`+id+`"`) {
						t.Fatalf("step page: %d %s", page.StatusCode, body)
					}
					if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://ehr.example;") {
						t.Errorf("step CSP = %s", csp)
					}
					if tt.add {
						if status := s.enrol(passkeystest.New(policyOrigin, policyRPID)); status != http.StatusOK {
							t.Fatalf("enrol on the step: %d", status)
						}
						// The script then goes to data-next.
						resp = e.get(b, "/p/sunrise/login?authRequest="+url.QueryEscape(id))
					} else {
						resp = s.form("/p/sunrise/add-passkey/continue", url.Values{"authRequest": {id}})
					}
					code, where, status, body := e.follow(b, resp)
					if code == "" {
						t.Fatalf("no code: %v %d %s", where, status, body)
					}
					if got := e.amr(cfg, code, verifier); !slices.Equal(got, []string{"pwd"}) {
						t.Errorf("amr = %v", got)
					}
				})
			}
		})
	}
}

func mustPractice(t *testing.T, e *policyEnv) store.Practice {
	t.Helper()
	p, err := e.store.PracticeBySlug(context.Background(), "sunrise")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// form posts a urlencoded form as a same-origin browser does.
func (s *site) form(path string, form url.Values) *http.Response {
	req, _ := http.NewRequest(http.MethodPost, s.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.e.srv.URL)
	res, err := s.c.Do(req)
	if err != nil {
		s.e.t.Fatal(err)
	}
	return res
}
