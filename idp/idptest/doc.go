// Package idptest runs a real OpenID provider on loopback for authgate's tests:
// zitadel/oidc's example provider (github.com/zitadel/oidc/v3, the version
// scripts/oidc-provider.sh pins), built from the Go module proxy into
// ~/.cache/authgate/bin by `scripts/oidc-provider.sh ensure`. Nothing here
// speaks the protocol: it writes the provider's configuration, starts the
// process, waits for its discovery document and drives its login form.
//
// Start runs one process per call, and one process is one issuer
// (http://127.0.0.1:<port>/, with the trailing slash that its iss claim and
// discovery carry). Two providers for a mix-up test are two Start calls.
// Each has the users and confidential clients of its Options (DefaultUsers and
// DefaultClients when none are given). Redirect URIs are registered per
// provider: exact ones (Options.RedirectURIs) and globs
// (Options.RedirectURIGlobs, by default any http URI on 127.0.0.1 or
// localhost, whatever the port, so a test need not know its portal's port
// before starting the provider).
//
// What the provider does, and what it does not:
//   - scopes openid, email, profile and groups; the claims sub, email,
//     email_verified, preferred_username, name, given_name, family_name,
//     locale and groups (a JSON array; empty when the user has none), in the
//     ID token and at the userinfo endpoint, or at the userinfo endpoint only
//     for a client with ClaimsInUserinfoOnly;
//   - email_verified is omitted, not false, for an unverified email (absent
//     must read as unverified);
//   - authorization code, client_secret_basic and client_secret_post, ID
//     tokens signed RS256 with the current key (see key rotation below); PKCE is checked when the
//     request has a code_challenge (discovery advertises S256; plain is
//     accepted too) but not required of these confidential clients, so the
//     provider does not catch a relying party that forgets it;
//   - no `iss` authorization response parameter (RFC 9207), and its discovery
//     does not claim one; "groups" is not listed in scopes_supported;
//   - the login form has no CSRF token and no consent step; a code is single
//     use; the state and nonce are echoed as given.
//
// Machine clients: Options.ServiceClients are clients of the
// client_credentials grant only (client_secret_basic or client_secret_post),
// as GitHub Actions or Kubernetes would present tokens to a resource server.
// Their access tokens are JWTs (RS256, kid header, valid 5 minutes) with iss,
// sub and client_id (the client's ID), aud (its Audience, by default its ID),
// exp, iat, nbf and jti, plus its Claims whatever the scopes asked.
// Provider.ClientCredentials fetches one. The web Clients cannot use this grant,
// nor can the service clients sign people in; a wrong secret is invalid_client.
//
// Key rotation: the provider starts with one signing key, which its JWKS
// (jwks_uri) publishes. Provider.RotateKey adds a new key that signs every
// token (ID tokens and JWT access tokens) from then on, while the JWKS keeps
// publishing the earlier keys until Provider.RetireKeys drops all but the
// current one. Provider.KeyIDs reads the JWKS; Provider.JWKSFetches counts
// the requests to it, so a test can see whether a verifier caches keys or
// refetches on an unknown kid. These controls are plain HTTP endpoints under
// the issuer's /authgate-test/ path, outside the protocol.
//
// The binary is found with `scripts/oidc-provider.sh paths`, or taken from
// $AUTHGATE_OIDC_PROVIDER. When it is missing, Start skips the test, or fails it
// under CI=true, saying how to build it.
package idptest
