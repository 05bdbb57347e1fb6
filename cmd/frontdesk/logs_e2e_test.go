package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
)

// TestServeLogsAreJSON is issue 19 point 6: with log.format json (the
// default) every line serve writes to stderr is JSON, the OpenID library's
// start-up lines included; and when passkeys cannot work because the public
// URL is on an IP address, the start-up summary line says so.
func TestServeLogsAreJSON(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	tests := []struct {
		name, host  string
		passkeysOff bool
	}{
		{"public URL on an IP address", "127.0.0.1", true},
		{"public URL on a host name", "localhost", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			port := servetest.FreePort(t)
			p := servetest.Serve(t, bin, dir, servetest.CleanEnv(fmt.Sprintf("FRONTDESK_SERVER_LISTEN=127.0.0.1:%d", port),
				fmt.Sprintf("FRONTDESK_SERVER_PUBLIC_URL=http://%s:%d", tt.host, port), "FRONTDESK_LOG_FORMAT=json"))
			// The audit chains' heads are logged at start (audit.head_log_interval)
			// and published as a metric; the demo practice's bootstrap made one.
			testwait.For(t, 30*time.Second, "the audit chain head line", func() bool { return p.Logged("audit chain head") != nil })
			head := p.Logged("audit chain head")
			hash, _ := head["hash"].(string)
			if len(hash) != 64 || head["head"] != fmt.Sprintf("%v:%s", head["seq"], hash) {
				t.Errorf("audit chain head line: %v", head)
			}
			if _, body := plainGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", port)); !strings.Contains(body,
				`frontdesk_audit_chain_head{hash="`+hash+`"`) {
				t.Errorf("no frontdesk_audit_chain_head sample with hash %s", hash)
			}
			p.Stop()
			logs := p.Lines()
			routes := 0
			for _, l := range logs {
				msg, _ := l["msg"].(string)
				if strings.HasPrefix(msg, "unparsed: ") {
					t.Errorf("a stderr line is not JSON: %s", strings.TrimPrefix(msg, "unparsed: "))
				}
				if msg == "registered route" {
					routes++
				}
			}
			if routes == 0 {
				t.Errorf("the OpenID library's route lines are missing (expected as JSON):\n%s", p.Dump())
			}
			summary := p.Logged("frontdesk listening")
			warning, _ := summary["warning"].(string)
			if tt.passkeysOff {
				if summary["passkeys"] != "off" || summary["level"] != "WARN" || !strings.Contains(warning, "IP address") {
					t.Errorf("summary line with an IP public URL: %v", summary)
				}
			} else if summary["passkeys"] != "on" || warning != "" {
				t.Errorf("summary line with a host name: %v", summary)
			}
		})
	}
}
