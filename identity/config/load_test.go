package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeConfig writes a YAML file into a temporary directory and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "frontdesk.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantErrContaining fails unless err is non-nil and contains every string.
func wantErrContaining(t *testing.T, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want one containing %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

func TestLoadNoFileNoEnvIsDefault(t *testing.T) {
	got, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("Load(\"\", nil) = %+v, want Default()", got)
	}
}

func TestLoadEmptyFile(t *testing.T) {
	for _, content := range []string{"", "# only a comment\n", "---\n"} {
		got, err := Load(writeConfig(t, content), nil)
		if err != nil {
			t.Fatalf("Load(%q): %v", content, err)
		}
		if !reflect.DeepEqual(got, Default()) {
			t.Errorf("Load(%q) differs from Default()", content)
		}
	}
}

func TestLoadYAML(t *testing.T) {
	blocklist := filepath.Join(t.TempDir(), "blocklist.txt")
	if err := os.WriteFile(blocklist, []byte("password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, `
server:
  listen: ":9000"
  public_url: "https://login.example.com/fd/"
  read_timeout: 1m30s
  max_body_bytes: 2048
  trusted_proxies: ["10.0.0.0/8", "192.168.1.1", "::1"]
data:
  dir: /var/lib/frontdesk
database:
  url: postgres://fd@db/fd
  max_open_conns: 20
redis:
  url: rediss://cache:6380/0
mail:
  transport: smtp
  from: "Frontdesk <noreply@example.com>"
  smtp_host: smtp.example.com
  smtp_port: 465
  smtp_tls: tls
  smtp_username: mailer
  smtp_password: s3cret
passwords:
  min_length: 12
  max_length: 256
  blocklist_file: `+blocklist+`
  argon2_memory_kib: 65536
  argon2_iterations: 3
  argon2_parallelism: 4
  hash_concurrency: 8
sessions:
  idle_timeout: 30m
  absolute_lifetime: 8h
links:
  setup_ttl: 24h
bootstrap:
  demo: false
log:
  level: debug
  format: text
clients:
  - id: app
    secret: client-secret
    redirect_uris: ["https://app.example.com/cb", "com.example.app:/oauth"]
    post_logout_redirect_uris: ["https://app.example.com/"]
    grant_types: [authorization_code]
    scopes: [openid, email]
    backchannel_logout_uri: https://app.example.com/bcl
    require_permission: patients.read
    access_token_ttl: 10m
    practice: demo
  - id: other
`)
	got, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Server.Listen = ":9000"
	want.Server.PublicURL = "https://login.example.com/fd" // trailing slash stripped
	want.Server.ReadTimeout = 90 * time.Second
	want.Server.MaxBodyBytes = 2048
	want.Server.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.1", "::1"}
	want.Data.Dir = "/var/lib/frontdesk"
	want.Database = Database{URL: "postgres://fd@db/fd", MaxOpenConns: 20}
	want.Redis.URL = "rediss://cache:6380/0"
	want.Mail = Mail{Transport: "smtp", From: "Frontdesk <noreply@example.com>", SMTPHost: "smtp.example.com",
		SMTPPort: 465, SMTPTLS: "tls", SMTPUsername: "mailer", SMTPPassword: "s3cret"}
	def := Default().Mail // the outbox settings keep their defaults
	want.Mail.RetryLimit, want.Mail.RetryBackoff, want.Mail.RetryBackoffMax, want.Mail.PollInterval =
		def.RetryLimit, def.RetryBackoff, def.RetryBackoffMax, def.PollInterval
	want.Passwords = Passwords{MinLength: 12, MaxLength: 256, BlocklistFile: blocklist, Argon2MemoryKiB: 65536,
		Argon2Iterations: 3, Argon2Parallelism: 4, HashConcurrency: 8}
	want.Sessions = Sessions{IdleTimeout: 30 * time.Minute, AbsoluteLifetime: 8 * time.Hour}
	want.Links.SetupTTL = 24 * time.Hour
	want.Bootstrap.Demo = false
	want.Log = Log{Level: "debug", Format: "text"}
	want.Clients = []Client{{
		ID: "app", Secret: "client-secret",
		RedirectURIs:           []string{"https://app.example.com/cb", "com.example.app:/oauth"},
		PostLogoutRedirectURIs: []string{"https://app.example.com/"},
		GrantTypes:             []string{"authorization_code"},
		Scopes:                 []string{"openid", "email"},
		BackchannelLogoutURI:   "https://app.example.com/bcl",
		RequirePermission:      "patients.read",
		AccessTokenTTL:         10 * time.Minute,
		Practice:               "demo",
	}, {ID: "other"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load mismatch\n got: %#v\nwant: %#v", got.redacted(), want.redacted())
		t.Errorf("got  %+v\nwant %+v", *got, *want)
	}
	if d, dsn := got.DatabaseDriver(); d != "postgres" || dsn != "postgres://fd@db/fd" {
		t.Errorf("DatabaseDriver() = %q, %q", d, dsn)
	}
}

func TestLoadYAMLPartialSectionKeepsDefaults(t *testing.T) {
	got, err := Load(writeConfig(t, "server:\n  listen: \":1234\"\nmail:\nlog: {level: warn}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Server.Listen = ":1234"
	want.Log.Level = "warn"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestLoadYAMLAnchorsAndMerge(t *testing.T) {
	got, err := Load(writeConfig(t, `
log:
  level: &lvl error
bootstrap:
  practice_name: *lvl
clients:
  - &base
    id: a
    scopes: [openid]
    access_token_ttl: 5m
  - <<: *base
    id: b
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Log.Level != "error" || got.Bootstrap.PracticeName != "error" {
		t.Errorf("aliases not resolved: %+v", got)
	}
	want := []Client{
		{ID: "a", Scopes: []string{"openid"}, AccessTokenTTL: 5 * time.Minute},
		{ID: "b", Scopes: []string{"openid"}, AccessTokenTTL: 5 * time.Minute},
	}
	if !reflect.DeepEqual(got.Clients, want) {
		t.Errorf("clients = %+v, want %+v", got.Clients, want)
	}

	_, err = Load(writeConfig(t, `
clients:
  - &base
    id: a
    scope: [openid]
  - <<: [*base]
    id: b
`), nil)
	wantErrContaining(t, err, `unknown key "clients[0].scope"`, `unknown key "clients[1].scope"`)
}

func TestLoadYAMLErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		is         error
		want       []string
	}{
		{"unknown key", "server:\n  listne: \":80\"\n", ErrUnknownKey,
			[]string{`config: unknown key "server.listne"`, "line 2", `did you mean "server.listen"`}},
		{"unknown section", "sever:\n  listen: \":80\"\n", ErrUnknownKey,
			[]string{`unknown key "sever"`, "line 1"}},
		{"unknown client key", "clients:\n  - id: a\n    redirect_uri: [x]\n", ErrUnknownKey,
			[]string{`unknown key "clients[0].redirect_uri"`, "line 3", `did you mean "clients[0].redirect_uris"`}},
		{"duplicate key", "log:\n  level: info\n  level: debug\n", nil,
			[]string{`duplicate key "log.level"`, "line 3"}},
		{"int not a number", "server:\n  max_body_bytes: lots\n", nil,
			[]string{"config: server.max_body_bytes:", `"lots"`, "whole number", "line 2"}},
		{"uint32 negative", "passwords:\n  argon2_iterations: -1\n", nil,
			[]string{"passwords.argon2_iterations", `"-1"`, "from 0 to 4294967295"}},
		{"duration as integer", "sessions:\n  idle_timeout: 900\n", nil,
			[]string{"sessions.idle_timeout", `"900"`, "duration"}},
		{"bad duration", "links:\n  setup_ttl: 3 days\n", nil,
			[]string{"links.setup_ttl", `"3 days"`, "duration"}},
		{"bool", "bootstrap:\n  demo: maybe\n", nil,
			[]string{"bootstrap.demo", `"maybe"`, "true or false"}},
		{"list expected", "server:\n  trusted_proxies: {a: b}\n", nil,
			[]string{"server.trusted_proxies", "list of strings"}},
		{"section not a mapping", "server: 8080\n", nil,
			[]string{"server", "mapping"}},
		{"clients not a list", "clients:\n  id: a\n", nil,
			[]string{"clients", "must be a list"}},
		{"top level not a mapping", "- a\n- b\n", nil,
			[]string{"(top level)", "mapping"}},
		{"syntax error", "server:\n  listen: [\n", nil,
			[]string{"config:", "frontdesk.yaml"}},
		{"two documents", "log: {level: info}\n---\nlog: {level: debug}\n", nil,
			[]string{"single YAML document"}},
		{"secret type error hides nothing sensitive", "mail:\n  smtp_password: [hunter2]\n", nil,
			[]string{"mail.smtp_password", "must be a string"}},
		{"several problems at once", "server:\n  listne: x\nlog:\n  levle: x\n", ErrUnknownKey,
			[]string{`"server.listne"`, `"log.levle"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tc.yaml), nil)
			wantErrContaining(t, err, tc.want...)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks secret: %v", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	wantErrContaining(t, err, "nope.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v does not wrap os.ErrNotExist", err)
	}
}

func TestEnvOverrides(t *testing.T) {
	tests := []struct {
		name  string
		env   string
		check func(*Config) bool
	}{
		{"string", "FRONTDESK_SERVER_LISTEN=0.0.0.0:9090", func(c *Config) bool { return c.Server.Listen == "0.0.0.0:9090" }},
		{"string with equals sign", "FRONTDESK_DATABASE_URL=postgres://u@h/db?sslmode=require&a=b", func(c *Config) bool {
			return c.Database.URL == "postgres://u@h/db?sslmode=require&a=b"
		}},
		{"multi-word key", "FRONTDESK_MAIL_SMTP_HOST=smtp.example.com", func(c *Config) bool { return c.Mail.SMTPHost == "smtp.example.com" }},
		{"bool false", "FRONTDESK_BOOTSTRAP_DEMO=false", func(c *Config) bool { return !c.Bootstrap.Demo }},
		{"bool 0", "FRONTDESK_BOOTSTRAP_DEMO=0", func(c *Config) bool { return !c.Bootstrap.Demo }},
		{"int", "FRONTDESK_PASSWORDS_MIN_LENGTH=20", func(c *Config) bool { return c.Passwords.MinLength == 20 }},
		{"int64", "FRONTDESK_SERVER_MAX_BODY_BYTES=4096", func(c *Config) bool { return c.Server.MaxBodyBytes == 4096 }},
		{"uint32", "FRONTDESK_PASSWORDS_ARGON2_MEMORY_KIB=65536", func(c *Config) bool { return c.Passwords.Argon2MemoryKiB == 65536 }},
		{"duration", "FRONTDESK_SESSIONS_IDLE_TIMEOUT=5m", func(c *Config) bool { return c.Sessions.IdleTimeout == 5*time.Minute }},
		{"duration compound", "FRONTDESK_LINKS_SETUP_TTL=1h30m", func(c *Config) bool { return c.Links.SetupTTL == 90*time.Minute }},
		{"list", "FRONTDESK_SERVER_TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.1 ,,", func(c *Config) bool {
			return reflect.DeepEqual(c.Server.TrustedProxies, []string{"10.0.0.0/8", "192.168.1.1"})
		}},
		{"list empty", "FRONTDESK_SERVER_TRUSTED_PROXIES=", func(c *Config) bool { return c.Server.TrustedProxies == nil }},
		{"secret", "FRONTDESK_MAIL_SMTP_PASSWORD=pw", func(c *Config) bool { return c.Mail.SMTPPassword == "pw" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load("", []string{"PATH=/bin", "HOME=/root", tc.env})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("%s not applied: %+v", tc.env, c)
			}
		})
	}
}

func TestEnvOverridesYAML(t *testing.T) {
	path := writeConfig(t, "server:\n  listen: \":1000\"\n  trusted_proxies: [10.0.0.1]\nlog:\n  level: debug\nmail:\n  dir: /m\n")
	c, err := Load(path, []string{"FRONTDESK_SERVER_LISTEN=:2000", "FRONTDESK_SERVER_TRUSTED_PROXIES=10.0.0.2,10.0.0.3", "FRONTDESK_MAIL_DIR="})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != ":2000" || c.Log.Level != "debug" || c.Mail.Dir != "" ||
		!reflect.DeepEqual(c.Server.TrustedProxies, []string{"10.0.0.2", "10.0.0.3"}) {
		t.Errorf("env did not override YAML: %+v", c)
	}
}

func TestEnvIgnoresOtherVariables(t *testing.T) {
	env := []string{"frontdesk_server_listen=bogus", "FRONTDESKX=1", "NOEQUALS", "FRONTDESK=1", "OTHER_FRONTDESK_X=1"}
	if _, err := Load("", env); err != nil {
		t.Fatal(err)
	}
}

func TestEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		is   error
		want []string
	}{
		{"unknown setting", []string{"FRONTDESK_SERVER_LISTNE=:80"}, ErrUnknownSetting,
			[]string{"config: unknown setting FRONTDESK_SERVER_LISTNE", "did you mean FRONTDESK_SERVER_LISTEN"}},
		{"unknown section", []string{"FRONTDESK_NOPE=1"}, ErrUnknownSetting,
			[]string{"unknown setting FRONTDESK_NOPE"}},
		{"bare prefix", []string{"FRONTDESK_=1"}, ErrUnknownSetting,
			[]string{"unknown setting FRONTDESK_"}},
		{"clients not from env", []string{"FRONTDESK_CLIENTS=x"}, ErrUnknownSetting,
			[]string{"unknown setting FRONTDESK_CLIENTS", "config file"}},
		{"outbound ranges not from env", []string{"FRONTDESK_OUTBOUND_ALLOWED_RANGES=127.0.0.0/8"}, nil,
			[]string{"outbound.allowed_ranges", "FRONTDESK_OUTBOUND_ALLOWED_RANGES", "only be set in the configuration file"}},
		{"bad int", []string{"FRONTDESK_PASSWORDS_MIN_LENGTH=long"}, nil,
			[]string{"passwords.min_length", "FRONTDESK_PASSWORDS_MIN_LENGTH", `"long"`, "whole number"}},
		{"bad uint32", []string{"FRONTDESK_PASSWORDS_ARGON2_ITERATIONS=-3"}, nil,
			[]string{"passwords.argon2_iterations", `"-3"`, "from 0 to 4294967295"}},
		{"uint32 overflow", []string{"FRONTDESK_PASSWORDS_ARGON2_MEMORY_KIB=4294967296"}, nil,
			[]string{"passwords.argon2_memory_kib", "4294967295"}},
		{"bad bool", []string{"FRONTDESK_BOOTSTRAP_DEMO=yes please"}, nil,
			[]string{"bootstrap.demo", "true or false"}},
		{"bad duration", []string{"FRONTDESK_SESSIONS_IDLE_TIMEOUT=15"}, nil,
			[]string{"sessions.idle_timeout", `"15"`, "duration"}},
		{"env value fails validation", []string{"FRONTDESK_SERVER_MAX_BODY_BYTES=12"}, nil,
			[]string{"config: server.max_body_bytes: 12 is below the minimum 1024", "FRONTDESK_SERVER_MAX_BODY_BYTES"}},
		{"all reported together", []string{"FRONTDESK_A=1", "FRONTDESK_B=2", "FRONTDESK_LOG_LEVEL=loud"}, ErrUnknownSetting,
			[]string{"FRONTDESK_A", "FRONTDESK_B", "log.level"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("", tc.env)
			wantErrContaining(t, err, tc.want...)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
		})
	}
}

func TestSettingsCoverEverySectionKey(t *testing.T) {
	// Every field of every section gets an environment variable, and the
	// names are unique.
	seen := map[string]bool{}
	for _, s := range settings() {
		if seen[s.env] {
			t.Errorf("duplicate env name %s", s.env)
		}
		seen[s.env] = true
	}
	for _, want := range []string{"FRONTDESK_SERVER_LISTEN", "FRONTDESK_PASSWORDS_MIN_LENGTH", "FRONTDESK_MAIL_SMTP_HOST",
		"FRONTDESK_MAIL_SMTP_PASSWORD", "FRONTDESK_SERVER_TRUSTED_PROXIES", "FRONTDESK_LINKS_SETUP_TTL"} {
		if !seen[want] {
			t.Errorf("no setting %s", want)
		}
	}
	n := 0
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		if ct.Field(i).Type.Kind() == reflect.Struct {
			n += ct.Field(i).Type.NumField()
		}
	}
	if len(seen) != n {
		t.Errorf("%d settings for %d section fields", len(seen), n)
	}
	// Every setting's type can be parsed from a string.
	c := Default()
	root := reflect.ValueOf(c).Elem()
	for _, s := range settings() {
		v := root.FieldByIndex(s.index)
		if err := setFromString(v, ""); err != nil && strings.Contains(err.Error(), "cannot be set") {
			t.Errorf("%s: %v", s.env, err)
		}
	}
}

func TestErrorSourceAnnotation(t *testing.T) {
	path := writeConfig(t, "log:\n  level: loud\n")
	_, err := Load(path, nil)
	wantErrContaining(t, err, `config: log.level: "loud" is not allowed`, "frontdesk.yaml line 2")
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Key != "log.level" {
		t.Errorf("errors.As FieldError = %+v", fe)
	}
}

// outbound.allowed_ranges is read from the configuration file (and only
// from there: see TestEnvErrors).
func TestOutboundAllowedRangesFromFile(t *testing.T) {
	path := writeConfig(t, "outbound:\n  allowed_ranges: [\"10.20.0.0/16\", \"127.0.0.1\"]\n")
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Outbound.AllowedRanges, []string{"10.20.0.0/16", "127.0.0.1"}) {
		t.Errorf("outbound.allowed_ranges = %v", c.Outbound.AllowedRanges)
	}
}
