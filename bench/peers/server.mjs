// node-oidc-provider configured like the oidc-core provider of bench/run.py (scenarios 1-2).
//
//   PORT=... CLIENT_SECRET=... node server.mjs
//
// Issuer http://127.0.0.1:PORT; RS256 and ES256 signing keys generated at start; two
// confidential clients (client_secret_basic, authorization_code + refresh_token, ID tokens
// RS256 and ES256); scopes openid profile email offline_access; a findAccount stub with the
// same claims as the bench user; signed cookies.  Consent is given once through the
// development interactions (login, then consent), as a user would.
//
// Storage: in this process's memory, organised as node-oidc-provider's Redis adapter
// (BenchAdapter below); records stay until they expire.  Nothing is written to a database,
// so this peer does less work per request than oidc-core on SQLite.
//
// One bench-only route, outside the provider: GET /bench/codes?client=ID&n=N answers N
// authorization codes (one line each) issued under a saved grant of the bench user, for
// the token endpoint scenario (oidc-core's codes are pre-issued the same way).
import crypto from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const secret = process.env.CLIENT_SECRET;
const redirectUri = process.env.REDIRECT_URI;
const ACCOUNT = 'bench-user';
const SCOPE = 'openid profile email offline_access';

// The store of a production deployment, in this process: node-oidc-provider's Redis
// adapter example (example/adapters/redis.js in its repository) with a Map for Redis.  Each
// record is kept as JSON with its expiry, "consumed" beside it (Redis: a hash field), and a
// grant's tokens in a Set (Redis: a list), so every call costs O(1).  The package's own
// in-memory adapter (lib/adapters/memory_adapter.js, for development) walks all of a
// grant's tokens on every save: with the benchmark's thousands of codes under one grant,
// node's CPU per token request doubled within a round, which measured that walk, not node.
const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);
const records = new Map(); // key -> { json, expiresAt, consumed }
const grants = new Map(); // grantId -> Set of keys
const indexes = new Map(); // "sessionUid:..." / "userCode:..." -> id

function live(key) {
  const record = records.get(key);
  if (record === undefined) return undefined;
  if (record.expiresAt !== undefined && record.expiresAt <= Date.now()) {
    records.delete(key);
    return undefined;
  }
  return record;
}

class BenchAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
    records.set(key, { json: JSON.stringify(payload), expiresAt, consumed: undefined });
    if (GRANTABLE.has(this.model) && payload.grantId) {
      let members = grants.get(payload.grantId);
      if (members === undefined) grants.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
    if (payload.uid) indexes.set(`sessionUid:${payload.uid}`, id);
    if (payload.userCode) indexes.set(`userCode:${payload.userCode}`, id);
  }

  async find(id) {
    const record = live(this.key(id));
    if (record === undefined) return undefined;
    const payload = JSON.parse(record.json);
    if (record.consumed !== undefined) payload.consumed = record.consumed;
    return payload;
  }

  async findByUid(uid) {
    const id = indexes.get(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = indexes.get(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const record = live(this.key(id));
    if (record !== undefined) record.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    const key = this.key(id);
    const record = records.get(key);
    records.delete(key);
    const grantId = record === undefined ? undefined : JSON.parse(record.json).grantId;
    if (grantId !== undefined) grants.get(grantId)?.delete(key);
  }

  async revokeByGrantId(grantId) {
    for (const key of grants.get(grantId) ?? []) records.delete(key);
    grants.delete(grantId);
  }
}

function jwk(type, options, kid, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

const client = (id, alg) => ({
  client_id: id,
  client_secret: secret,
  redirect_uris: [redirectUri],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: alg,
});

const provider = new Provider(issuer, {
  clients: [client('bench-rs256', 'RS256'), client('bench-es256', 'ES256')],
  jwks: {
    keys: [
      jwk('rsa', { modulusLength: 2048 }, 'rs256', 'RS256'),
      jwk('ec', { namedCurve: 'P-256' }, 'es256', 'ES256'),
    ],
  },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes: ['openid', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email', 'email_verified'],
  },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({
      sub: id,
      name: 'Bench User',
      email: 'bench@example.com',
      email_verified: true,
    }),
  }),
  adapter: BenchAdapter,
  ttl: { AuthorizationCode: 600 },
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;
provider.on('grant.error', (ctx, error) => console.error('grant.error', error.error_detail ?? error.message));

async function benchCodes(url, res) {
  const count = Number(url.searchParams.get('n'));
  const found = await provider.Client.find(url.searchParams.get('client'));
  const grant = new provider.Grant({ accountId: ACCOUNT, clientId: found.clientId });
  grant.addOIDCScope(SCOPE);
  grant.addOIDCClaims(['name', 'email', 'email_verified']);
  const grantId = await grant.save();
  const codes = [];
  for (let i = 0; i < count; i += 1) {
    const code = new provider.AuthorizationCode({
      client: found,
      accountId: ACCOUNT,
      grantId,
      redirectUri,
      scope: SCOPE,
      nonce: crypto.randomBytes(9).toString('base64url'),
      authTime: Math.floor(Date.now() / 1000),
    });
    codes.push(await code.save());
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(codes.join('\n') + '\n');
}

const callback = provider.callback();
http
  .createServer((req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/bench/codes') {
      benchCodes(url, res).catch((error) => {
        res.writeHead(500);
        res.end(String(error.stack));
      });
      return;
    }
    callback(req, res);
  })
  .listen(port, '127.0.0.1');
