package config

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestDefaultValues(t *testing.T) {
	c := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"server.listen", c.Server.Listen, "localhost:8080"},
		{"server.public_url", c.Server.PublicURL, "http://localhost:8080"},
		{"server.max_body_bytes", c.Server.MaxBodyBytes, int64(65536)},
		{"data.dir", c.Data.Dir, "./data"},
		{"database.max_open_conns", c.Database.MaxOpenConns, 10},
		{"mail.transport", c.Mail.Transport, "file"},
		{"mail.smtp_port", c.Mail.SMTPPort, 587},
		{"passwords.min_length", c.Passwords.MinLength, 15},
		{"passwords.argon2_memory_kib", c.Passwords.Argon2MemoryKiB, uint32(19456)},
		{"sessions.idle_timeout", c.Sessions.IdleTimeout.String(), "15m0s"},
		{"sessions.absolute_lifetime", c.Sessions.AbsoluteLifetime.String(), "12h0m0s"},
		{"links.setup_ttl", c.Links.SetupTTL.String(), "72h0m0s"},
		{"lockout.start_limit", c.Lockout.StartLimit, 30},
		{"lockout.start_window", c.Lockout.StartWindow.String(), "1m0s"},
		{"bootstrap.demo", c.Bootstrap.Demo, true},
		{"log.level", c.Log.Level, "info"},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	// Default returns a fresh value each time.
	c.Server.Listen = "changed"
	if Default().Server.Listen == "changed" {
		t.Error("Default shares state between calls")
	}
}

func TestDatabaseDriver(t *testing.T) {
	tests := []struct {
		url, dataDir        string
		driver, dsn, sqlite string
	}{
		{"", "./data", "sqlite", filepath.Join("data", "frontdesk.db"), filepath.Join("data", "frontdesk.db")},
		{"", "/var/lib/fd", "sqlite", "/var/lib/fd/frontdesk.db", "/var/lib/fd/frontdesk.db"},
		{"sqlite:/tmp/x.db", "d", "sqlite", "/tmp/x.db", "/tmp/x.db"},
		{"sqlite:rel/x.db", "d", "sqlite", "rel/x.db", "rel/x.db"},
		{"sqlite:///abs/x.db", "d", "sqlite", "/abs/x.db", "/abs/x.db"},
		{"sqlite://rel/x.db", "d", "sqlite", "rel/x.db", "rel/x.db"},
		{"SQLite:/tmp/x.db", "d", "sqlite", "/tmp/x.db", "/tmp/x.db"},
		{"file:/tmp/y.db", "d", "sqlite", "/tmp/y.db", "/tmp/y.db"},
		{"file:///tmp/y.db", "d", "sqlite", "/tmp/y.db", "/tmp/y.db"},
		{"file:y.db?_pragma=busy_timeout(5000)", "d", "sqlite", "y.db?_pragma=busy_timeout(5000)", "y.db?_pragma=busy_timeout(5000)"},
		{"postgres://u:p@db:5432/fd?sslmode=disable", "d", "postgres", "postgres://u:p@db:5432/fd?sslmode=disable", ""},
		{"postgresql://db/fd", "d", "postgres", "postgresql://db/fd", ""},
		{"mysql://db/fd", "d", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			c := Default()
			c.Database.URL = tc.url
			c.Data.Dir = tc.dataDir
			driver, dsn := c.DatabaseDriver()
			if driver != tc.driver || dsn != tc.dsn {
				t.Errorf("DatabaseDriver() = (%q, %q), want (%q, %q)", driver, dsn, tc.driver, tc.dsn)
			}
			if got := c.SQLitePath(); got != tc.sqlite {
				t.Errorf("SQLitePath() = %q, want %q", got, tc.sqlite)
			}
		})
	}
}

func TestMailDir(t *testing.T) {
	c := Default()
	if got, want := c.MailDir(), filepath.Join("data", "mail"); got != want {
		t.Errorf("MailDir() = %q, want %q", got, want)
	}
	c.Mail.Dir = "/srv/mail"
	if got := c.MailDir(); got != "/srv/mail" {
		t.Errorf("MailDir() = %q, want /srv/mail", got)
	}
}

func TestHashConcurrency(t *testing.T) {
	c := Default()
	if got := c.HashConcurrency(); got != runtime.NumCPU() {
		t.Errorf("HashConcurrency() = %d, want NumCPU %d", got, runtime.NumCPU())
	}
	c.Passwords.HashConcurrency = 3
	if got := c.HashConcurrency(); got != 3 {
		t.Errorf("HashConcurrency() = %d, want 3", got)
	}
}

func TestValidSlug(t *testing.T) {
	tests := []struct {
		slug string
		want bool
	}{
		{"demo", true},
		{"ab", true},
		{"a1-b2", true},
		{"0-9", true},
		{"a", false},
		{"", false},
		{"-ab", false},
		{"ab-", false},
		{"Ab", false},
		{"a_b", false},
		{"a b", false},
		{"ä-b", false},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
	}
	for _, tc := range tests {
		if got := ValidSlug(tc.slug); got != tc.want {
			t.Errorf("ValidSlug(%q) = %v, want %v", tc.slug, got, tc.want)
		}
	}
}
