package main

import (
	"crypto/tls"
	"fmt"

	"github.com/frontdeskhq/frontdesk/identity/config"
)

// serverTLS returns the TLS configuration serve uses when
// server.tls_cert_file and server.tls_key_file are set (nil when they are
// not): the certificate chain and key loaded once at start, TLS 1.2 or
// newer, Go's default forward-secret AEAD cipher suites. HTTP/2 is offered
// by http.Server.ServeTLS.
func serverTLS(s config.Server) (*tls.Config, error) {
	if !s.TLSEnabled() {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.TLSCertFile, s.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate (server.tls_cert_file, server.tls_key_file): %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}
