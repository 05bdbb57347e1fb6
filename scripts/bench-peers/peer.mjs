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
// FDBENCH_PASSWORD, PEER_ACCOUNTS (8), PEER_REDIS (unset: the provider's
// default memory adapter, nothing persisted; a redis:// URL: grants, codes,
// sessions and tokens kept in Redis through the adapter of the provider's
// example, its scale-out back end). Benchmark tooling only; listens on loopback.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';
import Redis from 'ioredis';

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

// The Redis adapter of node-oidc-provider's example/adapters/redis.js.
let adapter;
if (process.env.PEER_REDIS) {
  const client = new Redis(process.env.PEER_REDIS, { keyPrefix: 'oidc:' });
  const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
  const consumable = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
  adapter = class RedisAdapter {
    constructor(name) { this.name = name; }

    key(id) { return `${this.name}:${id}`; }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const multi = client.multi();
      if (consumable.has(this.name)) multi.hset(key, { payload: JSON.stringify(payload) });
      else multi.set(key, JSON.stringify(payload));
      if (expiresIn) multi.expire(key, expiresIn);
      if (grantable.has(this.name) && payload.grantId) {
        const grantKey = `grant:${payload.grantId}`;
        multi.rpush(grantKey, key);
        const ttl = await client.ttl(grantKey);
        if (expiresIn > ttl) multi.expire(grantKey, expiresIn);
      }
      if (payload.userCode) {
        multi.set(`userCode:${payload.userCode}`, id);
        multi.expire(`userCode:${payload.userCode}`, expiresIn);
      }
      if (payload.uid) {
        multi.set(`uid:${payload.uid}`, id);
        multi.expire(`uid:${payload.uid}`, expiresIn);
      }
      await multi.exec();
    }

    async find(id) {
      const data = consumable.has(this.name) ? await client.hgetall(this.key(id)) : await client.get(this.key(id));
      if (!data || (typeof data === 'object' && !Object.keys(data).length)) return undefined;
      if (typeof data === 'string') return JSON.parse(data);
      const { payload, ...rest } = data;
      return { ...rest, ...JSON.parse(payload) };
    }

    async findByUid(uid) { return this.find(await client.get(`uid:${uid}`)); }

    async findByUserCode(userCode) { return this.find(await client.get(`userCode:${userCode}`)); }

    async destroy(id) { await client.del(this.key(id)); }

    async revokeByGrantId(grantId) {
      const multi = client.multi();
      const tokens = await client.lrange(`grant:${grantId}`, 0, -1);
      tokens.forEach((token) => multi.del(token)); // stored without the key prefix
      multi.del(`grant:${grantId}`);
      await multi.exec();
    }

    async consume(id) { await client.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000)); }
  };
}

const provider = new Provider(issuer, {
  adapter,
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
