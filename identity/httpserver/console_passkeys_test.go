package httpserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/passkeys/passkeystest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// The console's member page offers "Remove passkeys" only for a member who
// has at least one passkey (with passkeys on: the console site with the
// software authenticator's relying party).
func TestRemovePasskeysOnlyForAMemberWithOne(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			f := apptest.New(t, apptest.Engine(engine), apptest.Configure(func(c *config.Config) {
				c.Passkeys.RPID, c.Passkeys.Origins = passkeystest.RPID, []string{passkeystest.Origin}
			}))
			if f.App.Passkeys() == nil {
				t.Fatal("passkeys are off in the test site")
			}
			sunrise := f.CreatePractice("sunrise", "owner@sunrise.example")
			clin := f.AddMember("sunrise", "clin@sunrise.example", "Cleo Clinician", []string{"scheduler"})
			owner := f.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			memberPage := "/p/sunrise/admin/members/" + clin
			revoke := memberPage + "/revoke-passkeys"
			offered := func() bool {
				t.Helper()
				st, _, page := owner.Do("GET", memberPage, nil, false)
				if st != http.StatusOK {
					t.Fatalf("member page: %d\n%s", st, page)
				}
				return strings.Contains(page, `href="`+revoke+`"`) || strings.Contains(page, "Remove passkeys")
			}

			if offered() {
				t.Error("Remove passkeys offered for a member without passkeys")
			}
			if err := f.App.Store.CreatePasskey(f.Ctx, store.Passkey{ID: "pk-1", CredentialID: []byte("credential-1"),
				PracticeID: sunrise.ID, MemberID: clin, PublicKey: []byte("key"), Name: "Phone", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			if !offered() {
				t.Fatal("Remove passkeys not offered for a member with a passkey")
			}
			if st, loc, _ := owner.Do("POST", revoke, url.Values{}, true); st != http.StatusSeeOther || !strings.Contains(loc, "done=passkeys") {
				t.Fatalf("remove passkeys: %d %s", st, loc)
			}
			if offered() {
				t.Error("Remove passkeys still offered once they were removed")
			}
		})
	}
}
