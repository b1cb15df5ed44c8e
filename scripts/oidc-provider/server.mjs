// A real OpenID Provider for the issuer's tests: oidc-provider on 127.0.0.1 with its development
// login and consent pages (any login name signs in, and is the account's `sub`).
//
//   node server.mjs PORT   (0 picks a free port)
//
// Prints `issuer=URL` once it listens. Clients, all public with PKCE (S256) and redirect URI
// http://127.0.0.1/callback:
//   vaxpass-wallet  the wallet the issuer trusts
//   other-app       another relying party of the same provider (its tokens are not for us)
//   short-lived     like the wallet, but its ID tokens expire after 1 second
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';

import Provider from 'oidc-provider';

const REDIRECT_URI = 'http://127.0.0.1/callback';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', use: 'sig', alg: 'RS256' };
}

function client(clientId) {
  return {
    client_id: clientId,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [REDIRECT_URI],
  };
}

const requested = Number.parseInt(process.argv[2] ?? '0', 10);
const port = requested > 0 ? requested : await freePort();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [client('vaxpass-wallet'), client('other-app'), client('short-lived')],
  jwks: { keys: [signingKey()] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id }; } };
  },
  ttl: {
    IdToken(ctx, token, clientOf) {
      return clientOf?.clientId === 'short-lived' ? 1 : 600;
    },
  },
  cookies: { keys: [signingKey().d] },
});
// Dev interactions and an http issuer are for tests only; say nothing about them on every request.
provider.on('server_error', (ctx, error) => console.error('server_error', error.message));

provider.listen(port, '127.0.0.1', () => {
  console.log(`issuer=${issuer}`);
});
