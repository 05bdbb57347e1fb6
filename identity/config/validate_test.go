package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidateBadValues(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; the first names the key
	}{
		{"listen empty", func(c *Config) { c.Server.Listen = "" }, []string{"server.listen", "must not be empty"}},
		{"audit head log too often", func(c *Config) { c.Audit.HeadLogInterval = time.Second }, []string{"audit.head_log_interval", "1m..24h"}},
		{"audit head log too rare", func(c *Config) { c.Audit.HeadLogInterval = 48 * time.Hour }, []string{"audit.head_log_interval", "1m..24h"}},
		{"listen no port", func(c *Config) { c.Server.Listen = "localhost" }, []string{"server.listen", "host:port"}},
		{"listen port not numeric", func(c *Config) { c.Server.Listen = "localhost:http" }, []string{"server.listen", `port "http"`, "0..65535"}},
		{"listen port too big", func(c *Config) { c.Server.Listen = ":70000" }, []string{"server.listen", "0..65535"}},
		{"public_url empty", func(c *Config) { c.Server.PublicURL = "" }, []string{"server.public_url", "must not be empty"}},
		{"public_url relative", func(c *Config) { c.Server.PublicURL = "/login" }, []string{"server.public_url", "http:// or https://"}},
		{"public_url ftp", func(c *Config) { c.Server.PublicURL = "ftp://example.com" }, []string{"server.public_url", "http:// or https://"}},
		{"public_url no host", func(c *Config) { c.Server.PublicURL = "https:///x" }, []string{"server.public_url", "host"}},
		{"public_url query", func(c *Config) { c.Server.PublicURL = "https://example.com/?a=b" }, []string{"server.public_url", "query or fragment"}},
		{"public_url empty query", func(c *Config) { c.Server.PublicURL = "https://example.com/?" }, []string{"server.public_url", "query or fragment"}},
		{"public_url fragment", func(c *Config) { c.Server.PublicURL = "https://example.com/#x" }, []string{"server.public_url", "query or fragment"}},
		{"public_url userinfo", func(c *Config) { c.Server.PublicURL = "https://u:p@example.com" }, []string{"server.public_url", "user info"}},
		{"public_url http non-local", func(c *Config) { c.Server.PublicURL = "http://login.example.com" }, []string{"server.public_url", "use https"}},
		{"public_url http private ip", func(c *Config) { c.Server.PublicURL = "http://10.1.2.3:8080" }, []string{"server.public_url", "use https"}},
		{"public_url http localhost lookalike", func(c *Config) { c.Server.PublicURL = "http://localhost.example.com" }, []string{"server.public_url", "use https"}},
		{"read_header_timeout zero", func(c *Config) { c.Server.ReadHeaderTimeout = 0 }, []string{"server.read_header_timeout", "greater than 0"}},
		{"read_timeout negative", func(c *Config) { c.Server.ReadTimeout = -time.Second }, []string{"server.read_timeout", "greater than 0"}},
		{"write_timeout zero", func(c *Config) { c.Server.WriteTimeout = 0 }, []string{"server.write_timeout"}},
		{"idle_timeout zero", func(c *Config) { c.Server.IdleTimeout = 0 }, []string{"server.idle_timeout"}},
		{"shutdown_timeout zero", func(c *Config) { c.Server.ShutdownTimeout = 0 }, []string{"server.shutdown_timeout"}},
		{"max_body_bytes low", func(c *Config) { c.Server.MaxBodyBytes = 12 }, []string{"config: server.max_body_bytes: 12 is below the minimum 1024"}},
		{"max_body_bytes high", func(c *Config) { c.Server.MaxBodyBytes = 10485761 }, []string{"server.max_body_bytes: 10485761 is above the maximum 10485760"}},
		{"trusted proxy bad ip", func(c *Config) { c.Server.TrustedProxies = []string{"10.0.0.1", "10.0.0.300"} }, []string{"server.trusted_proxies[1]", `"10.0.0.300"`}},
		{"trusted proxy bad cidr", func(c *Config) { c.Server.TrustedProxies = []string{"10.0.0.0/33"} }, []string{"server.trusted_proxies[0]", "CIDR"}},
		{"trusted proxy hostname", func(c *Config) { c.Server.TrustedProxies = []string{"proxy.local"} }, []string{"server.trusted_proxies[0]"}},
		{"outbound bad cidr", func(c *Config) { c.Outbound.AllowedRanges = []string{"10.0.0.0/33"} }, []string{"outbound.allowed_ranges[0]", "CIDR"}},
		{"outbound hostname", func(c *Config) { c.Outbound.AllowedRanges = []string{"10.0.0.0/8", "idp.local"} }, []string{"outbound.allowed_ranges[1]", "IP address or CIDR"}},
		{"outbound everything v4", func(c *Config) { c.Outbound.AllowedRanges = []string{"0.0.0.0/0"} }, []string{"outbound.allowed_ranges[0]", "every address"}},
		{"outbound everything v6", func(c *Config) { c.Outbound.AllowedRanges = []string{"::/0"} }, []string{"outbound.allowed_ranges[0]", "every address"}},
		{"data.dir empty", func(c *Config) { c.Data.Dir = "" }, []string{"data.dir", "must not be empty"}},
		{"database mysql", func(c *Config) { c.Database.URL = "mysql://db/fd" }, []string{"database.url", `"mysql"`, "postgres://"}},
		{"database no scheme", func(c *Config) { c.Database.URL = "/var/lib/fd.db" }, []string{"database.url", "no scheme", "sqlite:PATH"}},
		{"database sqlite empty path", func(c *Config) { c.Database.URL = "sqlite:" }, []string{"database.url", "no path"}},
		{"database sqlite empty path slashes", func(c *Config) { c.Database.URL = "sqlite://" }, []string{"database.url", "no path"}},
		{"database file empty path", func(c *Config) { c.Database.URL = "file:" }, []string{"database.url", "no path"}},
		{"database bad postgres", func(c *Config) { c.Database.URL = "postgres://u:pw@h:port/db" }, []string{"database.url", "not a valid PostgreSQL URL"}},
		{"max_open_conns zero", func(c *Config) { c.Database.MaxOpenConns = 0 }, []string{"database.max_open_conns: 0 is below the minimum 1"}},
		{"max_open_conns high", func(c *Config) { c.Database.MaxOpenConns = 1001 }, []string{"database.max_open_conns: 1001 is above the maximum 1000"}},
		{"redis http", func(c *Config) { c.Redis.URL = "http://cache:6379" }, []string{"redis.url", `"http"`, "redis://"}},
		{"redis no scheme", func(c *Config) { c.Redis.URL = "cache:6379x" }, []string{"redis.url"}},
		{"redis bad url", func(c *Config) { c.Redis.URL = "redis://:pw@cache:port" }, []string{"redis.url", "not a valid Redis URL"}},
		{"start_limit negative", func(c *Config) { c.Lockout.StartLimit = -1 }, []string{"lockout.start_limit", "below the minimum 0"}},
		{"start_window zero", func(c *Config) { c.Lockout.StartWindow = 0 }, []string{"lockout.start_window", "1s..24h"}},
		{"start_window too long", func(c *Config) { c.Lockout.StartWindow = 25 * time.Hour }, []string{"lockout.start_window", "1s..24h"}},
		{"mail transport", func(c *Config) { c.Mail.Transport = "sendmail" }, []string{"mail.transport", `"sendmail"`, "file, smtp"}},
		{"mail from empty", func(c *Config) { c.Mail.From = "" }, []string{"mail.from", "must not be empty"}},
		{"mail from bad", func(c *Config) { c.Mail.From = "not an address" }, []string{"mail.from", "not a valid address"}},
		{"mail from CRLF", func(c *Config) { c.Mail.From = "a@b.c\r\nBcc: x@y.z" }, []string{"mail.from", "line breaks"}},
		{"smtp host missing", func(c *Config) { c.Mail.Transport = "smtp" }, []string{"mail.smtp_host", "required when mail.transport is smtp"}},
		{"smtp host CRLF", func(c *Config) { c.Mail.SMTPHost = "a\nb" }, []string{"mail.smtp_host", "line breaks"}},
		{"smtp port zero", func(c *Config) { c.Mail.SMTPPort = 0 }, []string{"mail.smtp_port: 0 is below the minimum 1"}},
		{"smtp port high", func(c *Config) { c.Mail.SMTPPort = 65536 }, []string{"mail.smtp_port: 65536 is above the maximum 65535"}},
		{"smtp tls", func(c *Config) { c.Mail.SMTPTLS = "ssl" }, []string{"mail.smtp_tls", `"ssl"`, "starttls, tls, none"}},
		{"min_length low", func(c *Config) { c.Passwords.MinLength = 7 }, []string{"passwords.min_length: 7 is below the minimum 8"}},
		{"min_length high", func(c *Config) { c.Passwords.MinLength = 129; c.Passwords.MaxLength = 200 }, []string{"passwords.min_length: 129 is above the maximum 128"}},
		{"max_length below NIST's 64", func(c *Config) { c.Passwords.MaxLength = 14 }, []string{"passwords.max_length: 14 is below the minimum 64"}},
		{"max_length below min", func(c *Config) { c.Passwords.MinLength, c.Passwords.MaxLength = 100, 90 }, []string{"passwords.max_length: 90 is below the minimum 100"}},
		{"max_length high", func(c *Config) { c.Passwords.MaxLength = 4097 }, []string{"passwords.max_length: 4097 is above the maximum 4096"}},
		{"blocklist missing", func(c *Config) { c.Passwords.BlocklistFile = filepath.Join(dir, "missing.txt") }, []string{"passwords.blocklist_file", "missing.txt"}},
		{"blocklist is dir", func(c *Config) { c.Passwords.BlocklistFile = dir }, []string{"passwords.blocklist_file", "directory"}},
		{"argon2 memory low", func(c *Config) { c.Passwords.Argon2MemoryKiB = 4 }, []string{"passwords.argon2_memory_kib: 4 is below the minimum 7168"}},
		{"argon2 below OWASP floor", func(c *Config) { c.Passwords.Argon2MemoryKiB = 8192; c.Passwords.Argon2Iterations = 2 }, []string{"passwords.argon2_memory_kib", "below OWASP's argon2id floor"}},
		{"argon2 iterations high", func(c *Config) { c.Passwords.Argon2Iterations = 65 }, []string{"passwords.argon2_iterations: 65 is above the maximum 64"}},
		{"argon2 iterations zero", func(c *Config) { c.Passwords.Argon2Iterations = 0 }, []string{"passwords.argon2_iterations: 0 is below the minimum 1"}},
		{"argon2 parallelism zero", func(c *Config) { c.Passwords.Argon2Parallelism = 0 }, []string{"passwords.argon2_parallelism: 0 is below the minimum 1"}},
		{"argon2 parallelism high", func(c *Config) { c.Passwords.Argon2Parallelism = 17 }, []string{"passwords.argon2_parallelism: 17 is above the maximum 16"}},
		{"hash_concurrency negative", func(c *Config) { c.Passwords.HashConcurrency = -1 }, []string{"passwords.hash_concurrency: -1 is below the minimum 0"}},
		{"session idle zero", func(c *Config) { c.Sessions.IdleTimeout = 0 }, []string{"sessions.idle_timeout", "greater than 0"}},
		{"absolute below idle", func(c *Config) { c.Sessions.AbsoluteLifetime = 10 * time.Minute }, []string{"sessions.absolute_lifetime", "at least sessions.idle_timeout (15m0s)"}},
		{"setup_ttl low", func(c *Config) { c.Links.SetupTTL = time.Minute }, []string{"links.setup_ttl: 1m0s is below the minimum 5m"}},
		{"setup_ttl high", func(c *Config) { c.Links.SetupTTL = 721 * time.Hour }, []string{"links.setup_ttl: 721h0m0s is above the maximum 720h"}},
		{"slug bad", func(c *Config) { c.Bootstrap.PracticeSlug = "Demo_1" }, []string{"bootstrap.practice_slug", `"Demo_1"`, "2..63"}},
		{"slug dash", func(c *Config) { c.Bootstrap.PracticeSlug = "-demo" }, []string{"bootstrap.practice_slug"}},
		{"practice name empty", func(c *Config) { c.Bootstrap.PracticeName = " " }, []string{"bootstrap.practice_name", "must not be empty"}},
		{"practice name control", func(c *Config) { c.Bootstrap.PracticeName = "a\x00b" }, []string{"bootstrap.practice_name", "control"}},
		{"owner email bad", func(c *Config) { c.Bootstrap.OwnerEmail = "owner" }, []string{"bootstrap.owner_email", "not a valid e-mail"}},
		{"owner email with name", func(c *Config) { c.Bootstrap.OwnerEmail = "Owner <owner@example.com>" }, []string{"bootstrap.owner_email", "bare address"}},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, []string{"log.level", `"trace"`, "debug, info, warn, error"}},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, []string{"log.format", `"xml"`, "json, text"}},
		{"client id empty", func(c *Config) { c.Clients = []Client{{ID: ""}} }, []string{"clients[0].id", "must not be empty"}},
		{"client id duplicate", func(c *Config) { c.Clients = []Client{{ID: "a"}, {ID: "b"}, {ID: "a"}} }, []string{"clients[2].id", `"a"`, "clients[0]", "unique"}},
		{"client redirect relative", func(c *Config) {
			c.Clients = []Client{{ID: "a", RedirectURIs: []string{"https://ok.example/cb", "/cb"}}}
		}, []string{"clients[0].redirect_uris[1]", `"/cb"`, "absolute"}},
		{"client redirect unparsable", func(c *Config) { c.Clients = []Client{{ID: "a", RedirectURIs: []string{"https://a b/%zz"}}} }, []string{"clients[0].redirect_uris[0]", "not a valid URL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(c)
			err := c.Validate()
			wantErrContaining(t, err, tc.want...)
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("error %q lacks the config: prefix", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			if key := strings.TrimPrefix(tc.want[0], "config: "); !strings.HasPrefix(key, fe.Key) {
				t.Errorf("FieldError.Key = %q, want a prefix of %q", fe.Key, key)
			}
			if n := len(strings.Split(err.Error(), "\n")); n != 1 {
				t.Errorf("want exactly one problem, got %d: %v", n, err)
			}
		})
	}
}

func TestValidateGoodValues(t *testing.T) {
	blocklist := filepath.Join(t.TempDir(), "b.txt")
	if err := os.WriteFile(blocklist, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"listen all interfaces", func(c *Config) { c.Server.Listen = ":8080" }},
		{"audit head log off", func(c *Config) { c.Audit.HeadLogInterval = 0 }},
		{"audit head log every minute", func(c *Config) { c.Audit.HeadLogInterval = time.Minute }},
		{"listen ipv6", func(c *Config) { c.Server.Listen = "[::1]:8080" }},
		{"listen port 0", func(c *Config) { c.Server.Listen = "127.0.0.1:0" }},
		{"public_url https", func(c *Config) { c.Server.PublicURL = "https://login.example.com" }},
		{"public_url https path", func(c *Config) { c.Server.PublicURL = "https://example.com/frontdesk" }},
		{"public_url trailing slash", func(c *Config) { c.Server.PublicURL = "https://example.com/" }},
		{"public_url http 127.0.0.1", func(c *Config) { c.Server.PublicURL = "http://127.0.0.1:8080" }},
		{"public_url http ::1", func(c *Config) { c.Server.PublicURL = "http://[::1]:8080/x" }},
		{"trusted proxies", func(c *Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8", "fd00::/8", "192.168.0.1", "::1"} }},
		{"sqlite colon", func(c *Config) { c.Database.URL = "sqlite:/var/lib/fd.db" }},
		{"sqlite slashes", func(c *Config) { c.Database.URL = "sqlite:///var/lib/fd.db" }},
		{"sqlite file", func(c *Config) { c.Database.URL = "file:fd.db" }},
		{"postgres", func(c *Config) { c.Database.URL = "postgres://u:p@db:5432/fd?sslmode=verify-full" }},
		{"postgresql", func(c *Config) { c.Database.URL = "postgresql:///fd?host=/run/postgresql" }},
		{"redis", func(c *Config) { c.Redis.URL = "redis://cache:6379/0" }},
		{"rediss", func(c *Config) { c.Redis.URL = "rediss://:pw@cache:6380" }},
		{"smtp", func(c *Config) {
			c.Mail = Mail{Transport: "smtp", From: "x@example.com", SMTPHost: "smtp", SMTPPort: 25, SMTPTLS: "none",
				SMTPUsername: "u", SMTPPassword: "p"}
		}},
		{"blocklist", func(c *Config) { c.Passwords.BlocklistFile = blocklist }},
		{"start limit off", func(c *Config) { c.Lockout.StartLimit = 0 }},
		{"start window 1s", func(c *Config) { c.Lockout.StartWindow = time.Second }},
		{"limits", func(c *Config) {
			c.Passwords.MinLength, c.Passwords.MaxLength = 8, 64
			c.Passwords.Argon2MemoryKiB, c.Passwords.Argon2Iterations = 7168, 5
			c.Server.MaxBodyBytes = 1024
			c.Links.SetupTTL = 5 * time.Minute
			c.Sessions.AbsoluteLifetime = c.Sessions.IdleTimeout
		}},
		{"demo off ignores bootstrap fields", func(c *Config) { c.Bootstrap = Bootstrap{Demo: false} }},
		{"clients", func(c *Config) {
			c.Clients = []Client{{ID: "a", RedirectURIs: []string{"https://a.example/cb", "com.example.app:/cb"}}, {ID: "b"}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

func TestValidateCollectsAllProblems(t *testing.T) {
	c := Default()
	c.Server.MaxBodyBytes = 1
	c.Log.Level = "loud"
	c.Passwords.MinLength = 1
	err := c.Validate()
	for _, key := range []string{"server.max_body_bytes", "log.level", "passwords.min_length"} {
		wantErrContaining(t, err, "config: "+key+":")
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 3 {
		t.Errorf("got %d problems, want 3: %v", n, err)
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	c := Default()
	c.Server.PublicURL = "https://example.com/"
	_ = c.Validate()
	if c.Server.PublicURL != "https://example.com/" {
		t.Error("Validate modified the config")
	}
}

func TestMissingSecret(t *testing.T) {
	const pw = "hunter2-not-leaked"
	tests := []struct {
		name string
		yaml string
		env  []string
		ok   bool
	}{
		{"username without password", "mail:\n  smtp_username: mailer\n", nil, false},
		{"username from env", "", []string{"FRONTDESK_MAIL_SMTP_USERNAME=mailer"}, false},
		{"password from env", "mail:\n  smtp_username: mailer\n", []string{"FRONTDESK_MAIL_SMTP_PASSWORD=" + pw}, true},
		{"password in file", "mail:\n  smtp_username: mailer\n  smtp_password: " + pw + "\n", nil, true},
		{"no username", "", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tc.yaml), tc.env)
			if tc.ok {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			wantErrContaining(t, err, "missing secret", "mail.smtp_password", "FRONTDESK_MAIL_SMTP_PASSWORD")
			if !errors.Is(err, ErrMissingSecret) {
				t.Errorf("error %v is not ErrMissingSecret", err)
			}
		})
	}
}

func TestPublicURLTrailingSlashStripped(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com/":     "https://example.com",
		"https://example.com/fd//": "https://example.com/fd",
		"http://localhost:8080":    "http://localhost:8080",
	} {
		c, err := Load("", []string{"FRONTDESK_SERVER_PUBLIC_URL=" + in})
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if c.Server.PublicURL != want {
			t.Errorf("public_url %q loaded as %q, want %q", in, c.Server.PublicURL, want)
		}
	}
}

func TestDatabaseURLVariantsLoad(t *testing.T) {
	tests := []struct {
		url, driver, dsn string
		wantErr          string
	}{
		{"", "sqlite", filepath.Join("data", "frontdesk.db"), ""},
		{"sqlite:/srv/fd.db", "sqlite", "/srv/fd.db", ""},
		{"sqlite:///srv/fd.db", "sqlite", "/srv/fd.db", ""},
		{"file:/srv/fd.db", "sqlite", "/srv/fd.db", ""},
		{"postgres://fd:pw@db/fd", "postgres", "postgres://fd:pw@db/fd", ""},
		{"postgresql://db/fd", "postgres", "postgresql://db/fd", ""},
		{"mysql://fd:pw@db/fd", "", "", "database.url"},
		{"sqlite:", "", "", "database.url"},
		{"fd.db", "", "", "database.url"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			c, err := Load("", []string{"FRONTDESK_DATABASE_URL=" + tc.url})
			if tc.wantErr != "" {
				wantErrContaining(t, err, tc.wantErr)
				if strings.Contains(err.Error(), "pw") {
					t.Errorf("error leaks password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d, dsn := c.DatabaseDriver(); d != tc.driver || dsn != tc.dsn {
				t.Errorf("DatabaseDriver() = (%q, %q), want (%q, %q)", d, dsn, tc.driver, tc.dsn)
			}
		})
	}
}
