// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// a loopback port for tests: it accepts every message, optionally requires
// AUTH PLAIN, keeps what it received, and can be stopped and restarted on the
// same port to play an outage.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// Message is one received message.
type Message struct {
	From   string
	To     []string
	Raw    []byte
	Header mail.Header
}

// MessageID is the Message-ID header without angle brackets.
func (m Message) MessageID() string {
	return strings.Trim(m.Header.Get("Message-Id"), "<>")
}

// Subject is the decoded Subject header.
func (m Message) Subject() string {
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return m.Header.Get("Subject")
	}
	return s
}

// Part returns the decoded body of the first part with the given media type
// ("text/plain" or "text/html"), with CRLF turned into LF.
func (m Message) Part(mediaType string) (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return "", err
	}
	return findPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, mediaType)
}

func findPart(ctype, enc string, body io.Reader, want string) (string, error) {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err != nil {
				return "", errors.New("smtptest: no " + want + " part")
			}
			if s, err := findPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, want); err == nil {
				return s, nil
			}
		}
	}
	if mt != want {
		return "", errors.New("smtptest: not " + want)
	}
	if strings.EqualFold(enc, "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}

// Server is a running test SMTP server.
type Server struct {
	t        testing.TB
	addr     string
	username string
	password string

	tlsConf *tls.Config
	roots   *x509.CertPool

	port *port // the listening socket, this server's until the test ends

	mu       sync.Mutex
	srv      *smtp.Server
	messages []Message
	// arrived is closed (and replaced) when a message arrives, so any number
	// of waiters wake up.
	arrived chan struct{}

	// held, when set, receives each delivery that waits for Release (see
	// Options.Hold); release lets one through; done ends every wait when
	// the test ends.
	held    chan Message
	release chan struct{}
	done    chan struct{}
}

// Options configure Start.
type Options struct {
	// Username and Password, when set, make the server require AUTH PLAIN
	// (which clients send only over TLS: set STARTTLS too).
	Username, Password string
	// STARTTLS offers STARTTLS with a fresh self-signed certificate for
	// 127.0.0.1; RootCAs returns the pool that trusts it.
	STARTTLS bool
	// Hold makes every delivery wait, after its DATA was read and before it
	// is accepted, until the test calls Release: the message is "in
	// sending" for as long as the test wants (a tarpit or a slow relay)
	// without the test sleeping. Held reports each waiting delivery.
	Hold bool
}

// Start starts a server on 127.0.0.1 (a free port), stopped when the test
// ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, addr: "127.0.0.1:0", username: opts.Username, password: opts.Password,
		arrived: make(chan struct{}), done: make(chan struct{})}
	if opts.Hold {
		s.held, s.release = make(chan Message), make(chan struct{})
	}
	if opts.STARTTLS {
		s.tlsConf, s.roots = selfSigned(t)
	}
	s.listen()
	t.Cleanup(func() {
		close(s.done)
		s.Stop()
		_ = s.port.l.Close()
	})
	return s
}

// Held waits until a delivery is held (Options.Hold) and returns its
// message; its only bound is the test's hang guard (testwait.Guard).
func (s *Server) Held() Message {
	s.t.Helper()
	select {
	case m := <-s.held:
		return m
	case <-testwait.Guard(s.t):
		s.t.Fatal("smtptest: no delivery was held before the test's deadline")
		return Message{}
	}
}

// Release lets one held delivery be accepted. It waits until a held
// delivery takes it; its only bound is the test's hang guard.
func (s *Server) Release() {
	s.t.Helper()
	select {
	case s.release <- struct{}{}:
	case <-testwait.Guard(s.t):
		s.t.Fatal("smtptest: no held delivery to release before the test's deadline")
	}
}

// RootCAs trusts the server's certificate (nil without STARTTLS).
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion: tls.VersionTLS12}, pool
}

// Addr is the server's host:port (the same across Stop and Restart).
func (s *Server) Addr() string { return s.addr }

// Host and Port split Addr.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.addr); return h }

// Port is the server's port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

func (s *Server) listen() {
	s.t.Helper()
	if s.port == nil {
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			s.t.Fatalf("smtptest: listen: %v", err)
		}
		s.addr = l.Addr().String()
		s.port = &port{l: l}
		go s.port.accept()
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = s.tlsConf == nil
	srv.TLSConfig = s.tlsConf
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	v := s.port.open()
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(v) }()
}

// Stop takes the server down: sessions in progress end and every new
// connection is closed before the greeting, so a client fails as it would
// against a server that is down, until Restart. The port stays this
// server's, so no other process can take it meanwhile and receive the mail.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if s.port != nil {
		s.port.shut()
	}
	if srv != nil {
		_ = srv.Close()
	}
}

// Restart brings the server up again on the same address.
func (s *Server) Restart() { s.listen() }

// port is the server's listening socket, kept from Start to the end of the
// test. Its connections go to the open view (the running smtp.Server's
// listener) or, while the server is down, are closed at once.
type port struct {
	l    net.Listener
	mu   sync.Mutex
	view *view
}

func (p *port) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		v := p.view
		p.mu.Unlock()
		if v == nil {
			_ = c.Close()
			continue
		}
		select {
		case v.conns <- c:
		case <-v.done:
			_ = c.Close()
		}
	}
}

// open starts a new view for a new smtp.Server.
func (p *port) open() *view {
	v := &view{conns: make(chan net.Conn), done: make(chan struct{}), addr: p.l.Addr()}
	p.mu.Lock()
	p.view = v
	p.mu.Unlock()
	return v
}

// shut closes the open view: connections are refused until open.
func (p *port) shut() {
	p.mu.Lock()
	v := p.view
	p.view = nil
	p.mu.Unlock()
	if v != nil {
		_ = v.Close()
	}
}

// view is one smtp.Server's listener over the port; closing it leaves the
// port open.
type view struct {
	conns chan net.Conn
	done  chan struct{}
	addr  net.Addr
	once  sync.Once
}

func (v *view) Accept() (net.Conn, error) {
	select {
	case c := <-v.conns:
		return c, nil
	case <-v.done:
		return nil, net.ErrClosed
	}
}

func (v *view) Close() error {
	v.once.Do(func() { close(v.done) })
	return nil
}

func (v *view) Addr() net.Addr { return v.addr }

// Messages returns every message received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Wait waits until at least n messages have arrived. It wakes at each
// arrival; its only bound is a hang guard, the test's own deadline (go test
// -timeout) less a tenth for the report.
func (s *Server) Wait(n int) []Message {
	s.t.Helper()
	guard := testwait.Guard(s.t)
	for {
		msgs, arrived := s.snapshot()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-arrived:
		case <-guard:
			s.t.Fatalf("smtptest: %d of %d messages arrived before the test's deadline", len(msgs), n)
		}
	}
}

// WaitTo waits, as Wait does, for the n-th message to addr and returns it.
func (s *Server) WaitTo(addr string, n int) Message {
	s.t.Helper()
	guard := testwait.Guard(s.t)
	for {
		_, arrived := s.snapshot()
		msgs := s.To(addr)
		if len(msgs) >= n {
			return msgs[n-1]
		}
		select {
		case <-arrived:
		case <-guard:
			s.t.Fatalf("smtptest: %d of %d messages to %s arrived before the test's deadline", len(msgs), n, addr)
		}
	}
}

// snapshot returns the messages so far and a channel closed at the next
// arrival.
func (s *Server) snapshot() ([]Message, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...), s.arrived
}

// To returns the messages addressed to addr.
func (s *Server) To(addr string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, r := range m.To {
			if strings.EqualFold(r, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (x *session) AuthMechanisms() []string {
	if x.s.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != x.s.username || password != x.s.password {
			return errors.New("invalid credentials")
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.username != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	m := Message{From: x.from, To: x.to, Raw: raw, Header: msg.Header}
	if x.s.held != nil {
		select {
		case x.s.held <- m:
		case <-x.s.done:
			return errors.New("smtptest: server closed")
		}
		select {
		case <-x.s.release:
		case <-x.s.done:
			return errors.New("smtptest: server closed")
		}
	}
	x.s.mu.Lock()
	x.s.messages = append(x.s.messages, m)
	close(x.s.arrived)
	x.s.arrived = make(chan struct{})
	x.s.mu.Unlock()
	return nil
}

func (x *session) Reset() { x.from, x.to = "", nil }

func (x *session) Logout() error { return nil }
