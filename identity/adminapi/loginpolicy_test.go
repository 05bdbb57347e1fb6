package adminapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestLoginPolicyAPI: GET/PUT /practices/{practice}/login-policy, checked
// against docs/openapi.yaml on every answer, with its permissions, its
// validation, its audit event (before and after), and its effect on the
// next login.
func TestLoginPolicyAPI(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newHarness(t, engine)
			owner := h.token("sunrise", "owner@sunrise.example", "console")
			nobody := h.token("sunrise", "nobody@sunrise.example", "console")
			clin := h.token("sunrise", "clin@sunrise.example", "console")
			moon := h.token("moon", "owner@moon.example", "console")
			const path = "/practices/sunrise/login-policy"

			var lp struct {
				Roles []string `json:"require_strong_login"`
				By    string   `json:"updated_by"`
			}
			r := h.call("GET", path, owner, nil, nil)
			if r.status != 200 || json.Unmarshal(r.body, &lp) != nil || lp.Roles == nil || len(lp.Roles) != 0 {
				t.Fatalf("GET before any policy: %d %s", r.status, r.body)
			}
			tests := []struct {
				name   string
				method string
				token  string
				body   any
				hdr    map[string]string
				status int
				code   string
			}{
				{"no token", "GET", "", nil, nil, 401, "unauthorized"},
				{"member without settings.view", "GET", nobody, nil, nil, 403, "forbidden"},
				{"scheduler cannot change it", "PUT", clin, `{"require_strong_login":["scheduler"]}`, nil, 403, "forbidden"},
				{"another practice", "PUT", moon, `{"require_strong_login":["owner"]}`, nil, 404, "not_found"},
				{"unknown role", "PUT", owner, `{"require_strong_login":["wizard"]}`, nil, 400, "invalid_request"},
				{"missing field", "PUT", owner, `{}`, nil, 400, "invalid_request"},
				{"unknown field", "PUT", owner, `{"require_strong_login":[],"roles":[]}`, nil, 400, "invalid_request"},
				{"not JSON", "PUT", owner, `require_strong_login=owner`, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},
				{"too many", "PUT", owner, `{"require_strong_login":[` + strings.Repeat(`"owner",`, 64) + `"owner"]}`, nil, 400, "invalid_request"},
			}
			for _, tt := range tests {
				r := h.call(tt.method, path, tt.token, tt.body, tt.hdr)
				if r.status != tt.status {
					t.Errorf("%s: %d, want %d\n%s", tt.name, r.status, tt.status, r.body)
					continue
				}
				if code := decodeError(t, r); code != tt.code {
					t.Errorf("%s: error %q, want %q", tt.name, code, tt.code)
				}
			}

			// Schedulers must use a passkey or SSO from now on.
			r = h.call("PUT", path, owner, `{"require_strong_login":["scheduler"," scheduler"]}`, nil)
			if r.status != 200 || json.Unmarshal(r.body, &lp) != nil || strings.Join(lp.Roles, ",") != "scheduler" ||
				lp.By != h.ids["owner@sunrise.example"] {
				t.Fatalf("PUT: %d %s", r.status, r.body)
			}
			if r = h.call("GET", path, owner, nil, nil); !strings.Contains(string(r.body), `"require_strong_login":["scheduler"]`) {
				t.Errorf("GET after PUT: %s", r.body)
			}
			pr, _, err := h.app.Accounts.Login(h.ctx, "sunrise", "clin@sunrise.example", ownerPw, account.Meta{})
			if err != nil || !pr.StrongLoginRequired {
				t.Errorf("scheduler's next password login: restricted %v, %v", pr.StrongLoginRequired, err)
			}
			if pr, _, err := h.app.Accounts.Login(h.ctx, "sunrise", "nobody@sunrise.example", ownerPw, account.Meta{}); err != nil || pr.StrongLoginRequired {
				t.Errorf("a member without the role: restricted %v, %v", pr.StrongLoginRequired, err)
			}
			// Audited with before and after.
			r = h.call("GET", "/practices/sunrise/audit-events?action=practice.login_policy", owner, nil, nil)
			if r.status != 200 || !strings.Contains(string(r.body), `"require_strong_login_after":"scheduler"`) ||
				!strings.Contains(string(r.body), `"require_strong_login_before":""`) {
				t.Errorf("audit: %d %s", r.status, r.body)
			}
			// Lifting it.
			if r = h.call("PUT", path, owner, `{"require_strong_login":[]}`, nil); r.status != 200 || !strings.Contains(string(r.body), `"require_strong_login":[]`) {
				t.Errorf("PUT []: %d %s", r.status, r.body)
			}
			if pr, _, err := h.app.Accounts.Login(h.ctx, "sunrise", "clin@sunrise.example", ownerPw, account.Meta{}); err != nil || pr.StrongLoginRequired {
				t.Errorf("after lifting: restricted %v, %v", pr.StrongLoginRequired, err)
			}
		})
	}
}
