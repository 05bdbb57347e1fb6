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
