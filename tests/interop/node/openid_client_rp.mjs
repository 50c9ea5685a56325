// A relying party built on openid-client (the OpenID-certified library), one step per run.
//
//   node openid_client_rp.mjs < request.json > answer.json
//
// The request names the step ("register", "authorize" or "exchange") and the client; the
// answer is one JSON object: {"ok": true, ...the step's results} or {"ok": false, "step":
// ..., "error": {...}}, and always "requests": every HTTP request the library made, with
// the provider's X-Request-Id, so that a failing test can show the provider's log lines.
//
// Strict checks stay on: issuer validation of discovery, state, PKCE S256, nonce, the `iss`
// authorization response parameter (RFC 9207, advertised by the provider), ID token claims
// and, with enableNonRepudiationChecks, the ID token's signature against the JWK Set.
// Plain http is allowed (allowInsecureRequests) only when the issuer is http (loopback
// tests); over https the provider's CA comes from NODE_EXTRA_CA_CERTS.

import { readFileSync } from "node:fs";
import * as client from "openid-client";

const requests = [];
let step = "start";

async function recordingFetch(url, options) {
  const response = await fetch(url, options);
  requests.push({
    method: options?.method ?? "GET",
    url: String(url),
    status: response.status,
    request_id: response.headers.get("x-request-id"),
  });
  return response;
}

// Changes one claim of the ID token in token endpoint answers and keeps its signature.
function tamperingFetch(claim) {
  return async (url, options) => {
    const response = await recordingFetch(url, options);
    const body = options?.body;
    if (!(body instanceof URLSearchParams) || !body.get("grant_type")) return response;
    const json = await response.json();
    if (json.id_token) {
      const [header, payload, signature] = json.id_token.split(".");
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
      claims[claim] = `${claims[claim]}-tampered`;
      const forged = Buffer.from(JSON.stringify(claims)).toString("base64url");
      json.id_token = [header, forged, signature].join(".");
    }
    return new Response(JSON.stringify(json), {
      status: response.status,
      headers: response.headers,
    });
  };
}

async function configure(request) {
  step = "discovery";
  const issuer = new URL(request.issuer);
  const secret = request.client_secret;
  const authentication =
    secret === undefined
      ? client.None()
      : request.auth_method === "client_secret_basic"
        ? client.ClientSecretBasic(secret)
        : client.ClientSecretPost(secret);
  const execute = [client.enableNonRepudiationChecks];
  if (issuer.protocol === "http:") execute.push(client.allowInsecureRequests);
  const config = await client.discovery(issuer, request.client_id, undefined, authentication, {
    execute,
    [client.customFetch]: recordingFetch,
  });
  config[client.customFetch] = request.tamper_claim
    ? tamperingFetch(request.tamper_claim)
    : recordingFetch;
  return config;
}

async function authorize(request) {
  const config = await configure(request);
  step = "authorization URL";
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const parameters = {
    redirect_uri: request.redirect_uri,
    scope: request.scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
  };
  if (request.prompt) parameters.prompt = request.prompt;
  const url = client.buildAuthorizationUrl(config, parameters);
  return { url: url.href, state, nonce, code_verifier: codeVerifier };
}

// RFC 7591 through openid-client's own dynamicClientRegistration, with an initial access
// token; the answer is the client metadata the library accepted (client_id, secret,
// registration access token ...).
async function register(request) {
  step = "registration";
  const issuer = new URL(request.issuer);
  const execute = [];
  if (issuer.protocol === "http:") execute.push(client.allowInsecureRequests);
  const config = await client.dynamicClientRegistration(issuer, request.metadata, undefined, {
    execute,
    initialAccessToken: request.initial_access_token,
    [client.customFetch]: recordingFetch,
  });
  return { client: config.clientMetadata() };
}

async function exchange(request) {
  const config = await configure(request);
  const results = {};
  step = "code exchange";
  const tokens = await client.authorizationCodeGrant(config, new URL(request.callback), {
    pkceCodeVerifier: request.code_verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  results.token = { ...tokens, claims };
  for (const next of request.then ?? []) {
    step = next;
    if (next === "userinfo") {
      results.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    } else if (next === "refresh") {
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
      results.refresh = { ...refreshed, claims: refreshed.claims() ?? null };
      tokens.refresh_token = refreshed.refresh_token ?? tokens.refresh_token;
      tokens.access_token = refreshed.access_token;
    } else if (next === "revoke") {
      await client.tokenRevocation(config, tokens.refresh_token, {
        token_type_hint: "refresh_token",
      });
      results.revoked = true;
    } else if (next === "refresh after revoke") {
      await client.refreshTokenGrant(config, tokens.refresh_token);
      results.refreshed_after_revoke = true; // the test fails on this
    } else {
      throw new Error(`unknown step ${next}`);
    }
  }
  return results;
}

// A 401 with WWW-Authenticate (invalid client authentication) comes as the challenge; the
// OAuth error is in the response's body, read here.
async function describe(error) {
  const described = {
    name: error?.name,
    code: error?.code,
    message: String(error?.message ?? error),
  };
  if (error?.error !== undefined) described.error = error.error;
  if (error?.error_description !== undefined) {
    described.error_description = error.error_description;
  }
  if (error?.status !== undefined) described.status = error.status;
  if (error?.cause?.message) described.cause = String(error.cause.message);
  if (error?.cause?.code) described.cause_code = error.cause.code;
  if (error instanceof client.WWWAuthenticateChallengeError) {
    described.challenges = error.cause;
    const body = await error.response.json().catch(() => ({}));
    described.error = body.error;
    described.error_description = body.error_description;
  }
  return described;
}

const request = JSON.parse(readFileSync(0, "utf8"));
const steps = { authorize, exchange, register };
let answer;
try {
  if (!steps[request.step]) throw new Error(`unknown step ${request.step}`);
  answer = { ok: true, ...(await steps[request.step](request)) };
} catch (error) {
  answer = { ok: false, step, error: await describe(error) };
}
answer.requests = requests;
answer.library = `openid-client ${JSON.parse(readFileSync(new URL("./node_modules/openid-client/package.json", import.meta.url))).version}`;
process.stdout.write(JSON.stringify(answer));
