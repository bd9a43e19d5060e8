// A real, independent OpenID Provider (the npm oidc-provider package) for Parley's code-flow tests.
//   node oidc-provider.mjs <port> <client_secret> <redirect_uri> [<redirect_uri> ...]
// Prints "ready <issuer>" when listening. Reads commands on stdin:
//   "rotate" -> a new signing key is published first in the JWKS (the old one stays), prints "rotated <kid>".
//   "backchannel <uri>" -> the client's back-channel logout URI (Back-Channel Logout 1.0), prints "backchannel set".
//   "logout <sub>" -> the provider sends the client a logout token for <sub>, prints "logged-out <sub>" (or "logout-failed <reason>").
// Logins are completed without a form: the account is the authorization request's login_hint.
// The login's acr is the first of the request's acr_values (else urn:parley:loa:1); a login_hint
// "weak:<account>" logs in at urn:parley:loa:1 whatever was asked, and "old:<account>" says the
// login happened an hour ago (auth_time).
import http from 'node:http';
import readline from 'node:readline';
import Provider from 'oidc-provider';
import { generateKeyPair, exportJWK } from 'jose';

const [port, clientSecret, ...redirectUris] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

async function signingKey(kid) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

let backchannelUri = null;

function build(keys) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'parley',
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...(backchannelUri ? { backchannel_logout_uri: backchannelUri, backchannel_logout_session_required: false } : {}),
    }],
    jwks: { keys },
    pkce: { required: () => true },
    acrValues: ['urn:parley:loa:1', 'urn:parley:loa:2'],
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], profile: ['given_name', 'family_name'], email: ['email', 'email_verified'] },
    features: { devInteractions: { enabled: false }, backchannelLogout: { enabled: true } },
    // Its outgoing requests refuse loopback (SSRF protection); in these tests Parley is on loopback.
    fetch: (url, { dispatcher, ...options }) => fetch(url, options),
    cookies: { keys: ['parley-interop-cookie-key'] },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, given_name: sub[0].toUpperCase() + sub.slice(1), family_name: 'Interop', email: `${sub}@oidc-provider.example`, email_verified: true };
        },
      };
    },
  });
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  return provider;
}

// Completes the login and consent prompts at once, as the account named by login_hint.
async function interaction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const [, how, account] = /^(?:(weak|old):)?(.*)$/.exec(details.params.login_hint || 'alice');
  const accountId = account || 'alice';
  if (details.prompt.name === 'login') {
    const asked = String(details.params.acr_values || '').split(' ').filter(Boolean);
    const acr = how === 'weak' ? 'urn:parley:loa:1' : asked[0] || 'urn:parley:loa:1';
    const ts = Math.floor(Date.now() / 1000) - (how === 'old' ? 3600 : 0);
    await provider.interactionFinished(req, res, { login: { accountId, acr, ts } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}

let keys = [await signingKey('key-1')];
let provider = build(keys);
let generation = 1;

const server = http.createServer((req, res) => {
  const current = provider;
  if (req.url.startsWith('/interaction/')) {
    interaction(current, req, res).catch((error) => { res.statusCode = 500; res.end(String(error)); });
    return;
  }
  current.callback()(req, res);
});

server.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line.trim() === 'rotate') {
    generation += 1;
    keys = [await signingKey(`key-${generation}`), ...keys];
    provider = build(keys);
    console.log(`rotated key-${generation}`);
  } else if (line.startsWith('backchannel ')) {
    backchannelUri = line.slice('backchannel '.length).trim();
    provider = build(keys);
    console.log('backchannel set');
  } else if (line.startsWith('logout ')) {
    const sub = line.slice('logout '.length).trim();
    try {
      const client = await provider.Client.find('parley');
      await client.backchannelLogout(sub);
      console.log(`logged-out ${sub}`);
    } catch (error) {
      console.log(`logout-failed ${String(error.message).replace(/\s+/g, ' ')} ${String(error.cause ?? "").replace(/\s+/g, ' ')}`);
    }
  }
});
process.stdin.on('end', () => server.close(() => process.exit(0)));
