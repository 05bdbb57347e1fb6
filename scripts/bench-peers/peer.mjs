// peer.mjs — node-oidc-provider set up as frontdesk's peer for
// scripts/bench-peers.sh: one confidential client (client_credentials,
// authorization_code with PKCE, refresh_token with rotation), ES256 signing,
// one account per practice slug bench0..bench{N-1} checked against a stored
// SHA-256 of the password, and a login interaction of its own that the load
// tool (cmd/frontdesk-bench, scenario login) drives like frontdesk's: a form
// with hidden fields, email and password, then the redirect back with the code.
//
// Environment: PEER_ADDR (127.0.0.1:18070), PEER_FORMAT (jwt: ES256 at+jwt
// access tokens through a resource indicator, as frontdesk issues; opaque:
// the provider's default opaque tokens), FDBENCH_CLIENT_SECRET,
// FDBENCH_PASSWORD, PEER_ACCOUNTS (8). Memory adapter (the provider's default):
// nothing is persisted. Benchmark tooling only; listens on loopback.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const addr = process.env.PEER_ADDR || '127.0.0.1:18070';
const [host, port] = addr.split(':');
if (!['127.0.0.1', 'localhost', '::1'].includes(host)) throw new Error(`PEER_ADDR ${addr} is not loopback`);
const format = process.env.PEER_FORMAT || 'jwt';
const secret = process.env.FDBENCH_CLIENT_SECRET;
const password = process.env.FDBENCH_PASSWORD;
if (!secret || !password) throw new Error('FDBENCH_CLIENT_SECRET and FDBENCH_PASSWORD are required');
const issuer = `http://${addr}`;
const resource = 'urn:frontdesk-bench:api';

const sha = (s) => crypto.createHash('sha256').update(s).digest();
const accounts = new Map();
for (let n = 0; n < Number(process.env.PEER_ACCOUNTS || 8); n++) {
  accounts.set(`owner@bench${n}.example`, { id: `member-${n}`, hash: sha(password) });
}

const signingKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
signingKey.kid = 'peer-1';
signingKey.alg = 'ES256';
signingKey.use = 'sig';

const features = {
  devInteractions: { enabled: false },
  clientCredentials: { enabled: true },
};
if (format === 'jwt') {
  features.resourceIndicators = {
    enabled: true,
    defaultResource: () => resource,
    useGrantedResource: () => true,
    getResourceServerInfo: () => ({
      scope: 'api', audience: 'bench', accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } },
    }),
  };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'bench',
    client_secret: secret,
    redirect_uris: ['http://127.0.0.1:9/callback'],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
    scope: 'openid offline_access email api',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  features,
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'api'],
  claims: { openid: ['sub'], email: ['email'] },
  // frontdesk rotates every refresh token and detects reuse; so does the peer.
  rotateRefreshToken: true,
  ttl: { AccessToken: 300, ClientCredentials: 300, IdToken: 300, RefreshToken: 30 * 24 * 3600, Interaction: 600, Session: 8 * 3600, Grant: 30 * 24 * 3600, AuthorizationCode: 60 },
  routes: { authorization: '/oauth2/authorize', token: '/oauth2/token', jwks: '/oauth2/keys', userinfo: '/oauth2/userinfo' },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, id) {
    return { accountId: id, async claims() { return { sub: id }; } };
  },
});
provider.proxy = false;

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16384) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const uid = details.uid;
  if (req.method === 'GET') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Log in</title>
<form method="post" action="/interaction/${esc(uid)}/login">
<input type="hidden" name="uid" value="${esc(uid)}">
<label>Email <input type="email" name="email" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Log in</button></form>`);
    return;
  }
  const form = await readForm(req);
  const account = accounts.get(form.get('email') || '');
  const given = sha(form.get('password') || '');
  if (!account || !crypto.timingSafeEqual(given, account.hash)) {
    res.statusCode = 401;
    res.end('wrong email or password');
    return;
  }
  // Consent given at once (frontdesk's first-party apps need none either).
  const grant = new provider.Grant({ accountId: account.id, clientId: details.params.client_id });
  grant.addOIDCScope('openid offline_access');
  if (format === 'jwt') grant.addResourceScope(resource, 'api');
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: account.id }, consent: { grantId } },
    { mergeWithLastSubmission: false });
}

const callback = provider.callback();
http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 400;
      res.end(String(err.message));
    });
    return;
  }
  // node-oidc-provider honours offline_access only with prompt=consent (its
  // reading of OpenID Connect Core 11); the login interaction below gives
  // consent in the same step, so this costs no extra round trip.
  if (req.url.startsWith('/oauth2/authorize?') && req.url.includes('offline_access') && !req.url.includes('prompt=')) {
    req.url += '&prompt=consent';
  }
  callback(req, res);
}).listen(Number(port), host, () => console.error(`peer (${format}) listening on ${issuer}`));
