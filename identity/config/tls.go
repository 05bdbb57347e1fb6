package config

import "os"

// validateTLSFiles checks server.tls_cert_file and server.tls_key_file: both
// or neither, and each an existing regular file.
func validateTLSFiles(v *validator, cert, key string) {
	switch {
	case cert == "" && key == "":
		return
	case cert == "":
		v.add("server.tls_cert_file", "is empty but server.tls_key_file is set; set both to serve HTTPS, or neither")
		return
	case key == "":
		v.add("server.tls_key_file", "is empty but server.tls_cert_file is set; set both to serve HTTPS, or neither")
		return
	}
	for _, f := range []struct{ name, path string }{{"server.tls_cert_file", cert}, {"server.tls_key_file", key}} {
		if fi, err := os.Stat(f.path); err != nil {
			v.add(f.name, "cannot read %q: %w", f.path, err)
		} else if !fi.Mode().IsRegular() {
			v.add(f.name, "%q is not a regular file", f.path)
		}
	}
}

// TLSEnabled reports whether serve speaks HTTPS itself.
func (s Server) TLSEnabled() bool { return s.TLSCertFile != "" && s.TLSKeyFile != "" }
