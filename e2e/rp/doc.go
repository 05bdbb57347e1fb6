// Package rp holds the relying-party matrix: real, unmodified OpenID Connect
// clients from their registries or Debian packages — go-oidc with
// x/oauth2, openid-client (npm), Apache's mod_auth_openidc (Debian) and
// Authlib (Debian) — each logging in to a real frontdesk, reading the role
// claims, refreshing and logging out. The code and configuration they run
// is under testdata and is quoted in docs/app-developers.md ("Tested
// relying parties"). scripts/services.sh installs them; under CI=true a
// missing one fails its test instead of skipping it.
package rp
