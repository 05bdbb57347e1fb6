// A practice app's back end that logs staff in through frontdesk with
// openid-client 6 (Node 20+), unmodified from npm. The relying-party tests
// (e2e/rp) run it: RP_ISSUER, RP_CLIENT_ID, RP_CLIENT_SECRET and RP_BASE
// (this app's own URL) come from the environment; it listens on the socket
// passed as file descriptor 3. Its pages: /login, /callback, /refresh,
// /logout, /logged-out; /callback and /refresh answer with what it got as JSON.
import * as oidc from 'openid-client';
import http from 'node:http';
import crypto from 'node:crypto';

const { RP_ISSUER, RP_CLIENT_ID, RP_CLIENT_SECRET, RP_BASE } = process.env;
const redirectURI = `${RP_BASE}/callback`;
const config = await oidc.discovery(new URL(RP_ISSUER), RP_CLIENT_ID, RP_CLIENT_SECRET, undefined,
  { execute: [oidc.allowInsecureRequests] }); // http:// on loopback in the tests only

const sessions = new Map(); // session cookie → { pending login | tokens }

async function report(session) {
  return {
    id_token: session.claims, // verified: signature, iss, aud, exp, nonce
    userinfo: await oidc.fetchUserInfo(config, session.tokens.access_token, session.claims.sub),
    access_token: session.tokens.access_token,
    refresh_token: session.tokens.refresh_token, // for the test only
  };
}

async function handle(req, res) {
  const url = new URL(req.url, RP_BASE);
  const sid = /(?:^|; )sid=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
  const session = sessions.get(sid);
  switch (url.pathname) {
    case '/login': {
      const login = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
      const id = crypto.randomUUID();
      sessions.set(id, { login });
      const to = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectURI, scope: 'openid email profile offline_access roles',
        code_challenge: await oidc.calculatePKCECodeChallenge(login.verifier), code_challenge_method: 'S256',
        state: login.state, nonce: login.nonce,
      });
      res.writeHead(302, { Location: to.href, 'Set-Cookie': `sid=${id}; Path=/; HttpOnly; SameSite=Lax` });
      return res.end();
    }
    case '/callback': {
      // Checks state, iss (RFC 9207), the code_verifier, and the ID token.
      const tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: session.login.verifier, expectedState: session.login.state,
        expectedNonce: session.login.nonce, idTokenExpected: true,
      });
      session.tokens = tokens;
      session.claims = tokens.claims();
      return json(res, await report(session));
    }
    case '/refresh': {
      // frontdesk rotates refresh tokens: keep the new one every time.
      const tokens = await oidc.refreshTokenGrant(config, session.tokens.refresh_token);
      session.claims = tokens.claims() ?? session.claims;
      session.tokens = { ...tokens, id_token: tokens.id_token ?? session.tokens.id_token };
      return json(res, await report(session));
    }
    case '/logout': {
      sessions.delete(sid);
      const to = oidc.buildEndSessionUrl(config, {
        id_token_hint: session.tokens.id_token, post_logout_redirect_uri: `${RP_BASE}/logged-out`,
      });
      res.writeHead(302, { Location: to.href });
      return res.end();
    }
    case '/logged-out':
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return res.end('logged out\n');
  }
  res.writeHead(404);
  res.end();
}

function json(res, body) {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

http.createServer((req, res) => handle(req, res).catch((err) => {
  console.error(err);
  res.writeHead(500, { 'Content-Type': 'text/plain' });
  res.end(`${err}\n`);
})).listen({ fd: 3 }, () => console.log('ready'));
