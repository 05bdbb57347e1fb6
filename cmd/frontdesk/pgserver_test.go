package main

// A private PostgreSQL server for fault tests that stop and start the
// database. The machine's shared PostgreSQL (127.0.0.1:5432) is used by other
// test packages at the same time and must never be restarted.

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// pgServer is a throw-away PostgreSQL cluster in a temporary directory,
// listening on a free loopback port with trust authentication and its unix
// socket inside the directory.
type pgServer struct {
	t       *testing.T
	binDir  string
	dataDir string
	dir     string
	port    int
	asUser  string // run the binaries as this user (when the test runs as root)
}

// pgMissing skips the test, or fails it under CI=true.
func pgMissing(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("a private PostgreSQL is required under CI=true: %v", err)
	}
	t.Skipf("private PostgreSQL unavailable (%v); set CI=true to make this a failure", err)
}

// postgresBinDir finds the newest /usr/lib/postgresql/<ver>/bin with initdb,
// or the directory of initdb on $PATH.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	p, err := exec.LookPath("initdb")
	if err != nil {
		return "", fmt.Errorf("no initdb under /usr/lib/postgresql/*/bin or on PATH: %w", err)
	}
	return filepath.Dir(p), nil
}

// startPrivatePostgres initialises and starts a cluster; it is stopped and
// removed when the test ends.
func startPrivatePostgres(t *testing.T) *pgServer {
	t.Helper()
	binDir, err := postgresBinDir()
	if err != nil {
		pgMissing(t, err)
	}
	s := &pgServer{t: t, binDir: binDir}
	// PostgreSQL refuses to run as root: run it as the postgres user, in a
	// directory of its own (t.TempDir's parents are private to root).
	// Short path: the unix socket path is limited to about 100 bytes.
	s.dir, err = os.MkdirTemp("", "fdpg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(s.dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			pgMissing(t, fmt.Errorf("running as root and there is no postgres user: %w", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			pgMissing(t, err)
		}
		s.asUser = "postgres"
	}
	s.dataDir = filepath.Join(s.dir, "data")
	if out, err := s.command("initdb", "-D", s.dataDir, "-U", "postgres", "--auth=trust",
		"--no-sync", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		pgMissing(t, fmt.Errorf("initdb: %w\n%s", err, out))
	}
	s.port = servetest.FreePort(t)
	t.Cleanup(func() {
		_ = s.command("pg_ctl", "stop", "-D", s.dataDir, "-m", "immediate", "-w", "-t", "10").Run()
	})
	if err := s.tryStart(); err != nil {
		pgMissing(t, err)
	}
	return s
}

func (s *pgServer) command(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(s.binDir, name)
	var cmd *exec.Cmd
	if s.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.asUser, "--", bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Dir = s.dir
	return cmd
}

func (s *pgServer) tryStart() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off "+
		"-c max_connections=60 -c shared_buffers=16MB", s.port, s.dir)
	out, err := s.command("pg_ctl", "start", "-D", s.dataDir, "-l", filepath.Join(s.dir, "log"),
		"-o", opts, "-w", "-t", "30").CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	return s.waitReady()
}

// Start starts the stopped server again on the same port.
func (s *pgServer) Start() {
	s.t.Helper()
	if err := s.tryStart(); err != nil {
		s.t.Fatal(err)
	}
}

// Stop shuts the server down in "fast" mode: open connections are
// terminated, as in a failover or a restart for maintenance.
func (s *pgServer) Stop() {
	s.t.Helper()
	if out, err := s.command("pg_ctl", "stop", "-D", s.dataDir, "-m", "fast", "-w", "-t", "30").CombinedOutput(); err != nil {
		s.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
	// pg_ctl -w returns once the postmaster has exited, so the port is
	// closed now; make sure.
	if c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second); err == nil {
		_ = c.Close()
		s.t.Fatal("PostgreSQL still accepts connections after pg_ctl stop")
	}
}

// Addr is the server's host:port.
func (s *pgServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is a DSN of the server's postgres database.
func (s *pgServer) URL() string {
	return "postgres://postgres@" + s.Addr() + "/postgres?sslmode=disable&connect_timeout=3"
}

// waitReady waits until the server answers (pg_ctl start -w has already
// waited for it to accept connections, so normally at once). It checks every
// 50 ms; its only bound is the hang guard before the test's deadline.
func (s *pgServer) waitReady() error {
	db, err := sql.Open("pgx", s.URL())
	if err != nil {
		return err
	}
	defer db.Close()
	guard := testwait.Guard(s.t)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-guard:
			return fmt.Errorf("PostgreSQL on %s did not answer: %w", s.Addr(), err)
		case <-tick.C:
		}
	}
}

// Count runs a SELECT count(*) … query and returns the number.
func (s *pgServer) Count(query string, args ...any) int {
	s.t.Helper()
	db, err := sql.Open("pgx", s.URL())
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", strings.TrimSpace(query), err)
	}
	return n
}
