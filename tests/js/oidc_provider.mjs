#!/usr/bin/env node
// A real OpenID Connect provider (npm oidc-provider) for the sign-in tests, on localhost.
//
// Environment: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI. Prints one JSON line
// {"issuer": ...} once listening. Its development login form accepts any login name and
// any password; the account's claims derive from the name: sub "<name>", email
// "<name>@example.org" (verified), preferred_username "<name>".

import Provider from 'oidc-provider'

const port = Number(process.env.PORT)
const issuer = `http://127.0.0.1:${port}`

// keep stdout for the ready line only
console.log = (...args) => console.error(...args)
console.warn = (...args) => console.error(...args)

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic'
  }],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username']
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['sinopia-test-provider-cookie-key'] },
  async findAccount (_ctx, id) {
    const name = id
    return {
      accountId: id,
      async claims () {
        return {
          sub: id,
          email: `${name}@example.org`,
          email_verified: true,
          name: `Test ${name}`,
          preferred_username: name
        }
      }
    }
  }
})
provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ issuer }) + '\n')
})
