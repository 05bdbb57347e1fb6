package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/servetest"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key as
// PEM files under dir and returns their paths and the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "frontdesk test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

func TestEndToEndTLS(t *testing.T) {
	bin := frontdeskBinary.Path(t)
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir)
	port := servetest.FreePort(t)
	base := fmt.Sprintf("https://127.0.0.1:%d", port)

	// Only one of the pair: refused with a message naming the keys.
	env := servetest.CleanEnv(fmt.Sprintf("FRONTDESK_SERVER_LISTEN=127.0.0.1:%d", port), "FRONTDESK_SERVER_PUBLIC_URL="+base)
	if code, out := servetest.RunCLI(t, bin, dir, append(env, "FRONTDESK_SERVER_TLS_CERT_FILE="+certFile), "serve"); code == 0 ||
		!strings.Contains(out, "server.tls_key_file") {
		t.Fatalf("serve with only a certificate: exit %d\n%s", code, out)
	}

	env = append(env, "FRONTDESK_SERVER_TLS_CERT_FILE="+certFile, "FRONTDESK_SERVER_TLS_KEY_FILE="+keyFile)
	p := servetest.Serve(t, bin, dir, env)
	defer p.Stop()

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	client := func(maxVersion uint16) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, MaxVersion: maxVersion}, ForceAttemptHTTP2: true}}
	}
	resp, err := client(0).Get(base + "/p/demo/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("login page over TLS: %d, TLS %+v", resp.StatusCode, resp.TLS)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS over https: %q", hsts)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2 offered over TLS", resp.Proto)
	}
	// TLS 1.1 and older are refused.
	if resp, err := client(tls.VersionTLS11).Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("a TLS 1.1 client was served")
	}
	// Plain HTTP on the TLS port gets no page.
	if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
}
