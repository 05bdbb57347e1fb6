package oidc

// DisableFastPath sends every token request of p through the library's
// token endpoint (token_client.go), for tests that compare the two.
func DisableFastPath(p *Provider) { p.noFastPath = true }

// EnableFastPath undoes DisableFastPath.
func EnableFastPath(p *Provider) { p.noFastPath = false }

// OnFastPath makes p call f whenever its fast path serves a token request.
func OnFastPath(p *Provider, f func()) { p.fastServed = f }
