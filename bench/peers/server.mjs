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
// Storage: the package's own in-memory adapter, with its LRU store (1000 entries, far too
// few for pre-issued codes) replaced by an unbounded Map that honours expiry.  Nothing is
// written to a database, so this peer does less work per request than oidc-core on SQLite.
//
// One bench-only route, outside the provider: GET /bench/codes?client=ID&n=N answers N
// authorization codes (one line each) issued under a saved grant of the bench user, for
// the token endpoint scenario (oidc-core's codes are pre-issued the same way).
import crypto from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const secret = process.env.CLIENT_SECRET;
const redirectUri = process.env.REDIRECT_URI;
const ACCOUNT = 'bench-user';
const SCOPE = 'openid profile email offline_access';

class MapStore {
  #map = new Map();

  get(key) {
    const entry = this.#map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiry !== undefined && entry.expiry <= Date.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key, value, options) {
    const expiry = options?.maxAge ? Date.now() + options.maxAge : undefined;
    this.#map.set(key, { value, expiry });
  }

  delete(key) {
    this.#map.delete(key);
  }
}
const store = new MapStore();

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
  adapter: (model) => new MemoryAdapter(model, store),
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
