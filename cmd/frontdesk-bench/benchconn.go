package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// tokenConn is one worker's keep-alive HTTP/1.1 connection to the token
// endpoint, used by the token scenarios (client-credentials, refresh).
//
// The load tool shares the machine's cores with the server it measures, so
// every microsecond it spends per request is one the server cannot use. Go's
// http.Transport hands each request to two goroutines of its own (a read and a
// write loop) and back; at tens of thousands of requests a second that
// hand-off cost the tool about as much CPU as the server spent on a
// client-credentials grant. tokenConn writes the request itself and parses
// the answer with http.ReadResponse on the worker's own goroutine. It speaks
// plain HTTP only; https targets use the ordinary client.
type tokenConn struct {
	addr   string // host:port to dial
	prefix []byte // request line and fixed headers, up to Content-Length
	conn   net.Conn
	br     *bufio.Reader
	buf    []byte
}

// newTokenConn prepares a connection to target's token endpoint,
// authenticating as clientID with clientSecret (HTTP Basic, RFC 6749 2.3.1).
// It returns nil when target is not plain http.
func newTokenConn(target, clientID, clientSecret string) *tokenConn {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" {
		return nil
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	auth := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(clientSecret)))
	prefix := "POST " + u.EscapedPath() + "/oauth2/token HTTP/1.1\r\n" +
		"Host: " + u.Host + "\r\n" +
		"User-Agent: frontdesk-bench\r\n" +
		"Authorization: Basic " + auth + "\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\n" +
		"Content-Length: "
	return &tokenConn{addr: addr, prefix: []byte(prefix)}
}

// Post sends form (already encoded) and returns the status and body. Any
// failure closes the connection; the next call dials again.
func (c *tokenConn) Post(ctx context.Context, form string) (int, []byte, error) {
	if c.conn == nil {
		d := net.Dialer{Timeout: 10 * time.Second}
		conn, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return 0, nil, err
		}
		c.conn = conn
		c.br = bufio.NewReaderSize(conn, 8<<10)
	}
	st, body, err := c.roundTrip(form)
	if err != nil {
		c.close()
		if errors.Is(err, errConnDone) {
			err = nil
		}
	}
	return st, body, err
}

func (c *tokenConn) roundTrip(form string) (int, []byte, error) {
	if err := c.conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return 0, nil, err
	}
	c.buf = append(c.buf[:0], c.prefix...)
	c.buf = strconv.AppendInt(c.buf, int64(len(form)), 10)
	c.buf = append(c.buf, "\r\n\r\n"...)
	c.buf = append(c.buf, form...)
	if _, err := c.conn.Write(c.buf); err != nil {
		return 0, nil, fmt.Errorf("token endpoint: %w", err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("token endpoint: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("token endpoint: %w", err)
	}
	if resp.Close {
		// The server ends the connection after this answer; dial anew next time.
		return resp.StatusCode, body, errConnDone
	}
	return resp.StatusCode, body, nil
}

// errConnDone marks an answer after which the server closed the connection;
// the answer itself is good.
var errConnDone = errors.New("connection closed by the server")

func (c *tokenConn) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn, c.br = nil, nil
	}
}

// connTransport is one worker's browser connection: an http.RoundTripper
// that keeps one plain-HTTP/1.1 keep-alive connection and writes each
// request and reads its answer on the calling goroutine. The login
// scenario's five requests per login went through http.Transport, whose
// read and write goroutines and their hand-offs made the load tool spend
// about as much CPU per login as frontdesk spends outside the password hash
// (docs/performance.md, "Logins, 2026-12-06 evening"), on the same two cores.
// The worker's http.Client around it still keeps the cookies and leaves
// redirects to the caller. Requests must not overlap (a worker is
// sequential), and each answer's body must be read or closed before the
// next request; closing it drains what was not read.
type connTransport struct {
	host string // host:port of conn
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
}

// RoundTrip implements http.RoundTripper.
func (t *connTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		return nil, fmt.Errorf("bench: connTransport speaks plain http only, not %s", req.URL.Scheme)
	}
	host := req.URL.Host
	if req.URL.Port() == "" {
		host = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	if t.conn != nil && t.host != host {
		t.close()
	}
	reused := t.conn != nil
	resp, err := t.roundTrip(req, host)
	if err != nil && reused && (req.Body == nil || req.GetBody != nil) {
		// The server may have closed the idle connection just before this
		// request: once more on a fresh one, as http.Transport does.
		if req.GetBody != nil {
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
		resp, err = t.roundTrip(req, host)
	}
	return resp, err
}

func (t *connTransport) roundTrip(req *http.Request, host string) (*http.Response, error) {
	if t.conn == nil {
		d := net.Dialer{Timeout: 10 * time.Second}
		conn, err := d.DialContext(req.Context(), "tcp", host)
		if err != nil {
			return nil, err
		}
		t.host, t.conn = host, conn
		t.br, t.bw = bufio.NewReaderSize(conn, 16<<10), bufio.NewWriterSize(conn, 4<<10)
	}
	deadline := time.Now().Add(30 * time.Second)
	if d, ok := req.Context().Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := t.conn.SetDeadline(deadline); err != nil {
		t.close()
		return nil, err
	}
	if err := req.Write(t.bw); err != nil {
		t.close()
		return nil, err
	}
	if err := t.bw.Flush(); err != nil {
		t.close()
		return nil, err
	}
	resp, err := http.ReadResponse(t.br, req)
	if err != nil {
		t.close()
		return nil, err
	}
	resp.Body = &drainingBody{ReadCloser: resp.Body, t: t, last: resp.Close}
	return resp, nil
}

func (t *connTransport) close() {
	if t.conn != nil {
		_ = t.conn.Close()
		t.conn, t.br, t.bw = nil, nil, nil
	}
}

// drainingBody reads the rest of an answer when it is closed, so the
// connection is ready for the next request, and closes the connection
// when the server said it would.
type drainingBody struct {
	io.ReadCloser
	t    *connTransport
	last bool
}

func (b *drainingBody) Close() error {
	_, err := io.Copy(io.Discard, b.ReadCloser)
	cerr := b.ReadCloser.Close()
	if err != nil || cerr != nil || b.last {
		b.t.close()
	}
	return cerr
}
