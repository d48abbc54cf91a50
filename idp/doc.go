// Package idp is authgate's OpenID Connect (and plain OAuth2) relying party:
// the configured providers, their discovery, the authorization-code flow with
// PKCE, the checks on what comes back, and the checks on the tokens native
// apps exchange. It knows nothing of cookies, sessions or pages:
// the portal keeps an Attempt between Begin and Finish (sealed with
// SealAttempt, so the browser can neither read nor change it) and turns the
// issue.ExternalIdentity that Finish returns into a session through the
// service.
//
// # Configuration
//
// ParseProviders reads the operator's JSON (a list of providers; unknown
// fields are refused), fills in each one's preset (see Presets), and
// ProviderConfig.Validate checks each one; every
// refusal is a *ConfigError naming the provider id and the field. The client
// secret comes from an environment variable or a file the configuration
// names, through lookups the caller passes (cmd/authgate is the only reader of
// the environment); it is never logged and never shown. The issuer must be
// https, or plain http on a loopback host (for development and tests).
//
// New starts discovery of every provider. A provider whose discovery fails
// is logged as a warning and retried in the background with a growing pause
// (Options.RetryMin up to Options.RetryMax); until it succeeds, Begin and
// Finish answer ErrUnavailable for it. A bad configuration is an error; an
// unreachable provider never is.
//
// # The flow
//
// Begin makes a fresh state, nonce and PKCE verifier (S256) per attempt and
// returns the provider's authorization URL. Finish refuses, in this order:
//
//   - an attempt for another provider, or a state that differs (constant-time
//     compare): ErrExpired (the sign-in link is stale or was not ours);
//   - an iss response parameter that is not the provider's issuer, or none
//     when discovery advertises authorization_response_iss_parameter_supported
//     (RFC 9207, the mix-up defence): ErrInvalid;
//   - an error parameter from the provider (the person said no): ErrDenied;
//   - a code the token endpoint refuses (replayed or expired): ErrExpired; a
//     token endpoint that cannot be reached or fails: ErrUnavailable;
//   - an ID token that is missing, or fails go-oidc's verification (signature
//     by a key from the provider's JWKS, issuer, audience = the client id,
//     expiry, algorithm from discovery's list minus none and HS*), or whose
//     nonce differs (constant-time compare): ErrInvalid;
//   - claims that pass every check but name an account the preset's checks
//     do not admit (see Presets): a *NotAllowedError, which matches
//     ErrNotAllowed and, for callers that know only it, ErrInvalid.
//
// The identity is the ID token's issuer and subject, with the email (verified
// only when email_verified says so), name, username (username_claim, default
// preferred_username) and groups (groups_claim, default groups: a list of
// strings or a single string).
//
// # Plain OAuth2 providers
//
// A provider with "protocol": "oauth2" (the github preset is one) has no
// discovery and issues no ID token: its authorization_endpoint and
// token_endpoint are configured (the preset writes them), and who signed in
// is read with the access token, from its userinfo_endpoint (an endpoint
// answering as OpenID Connect's userinfo does) or the preset's API, then
// checked and mapped as an ID token's claims are. Its issuer is only the
// namespace its identities are recorded under. Begin and Finish work as
// above, without the nonce and the ID token: the state (bound to the attempt
// and so to the provider) and the PKCE verifier are still checked, and the
// mix-up defence is the per-provider redirect URI and the attempt's
// provider; an iss parameter, if one came, must still be the issuer.
//
// # Native apps
//
// A native app that signed in with the provider itself presents what it got
// at POST /v1/auth/oauth/login, and is never taken on its face: the token
// must be one issued to one of the client ids configured for the provider
// (client_id, and native_client_ids: the operator's own apps), however valid
// it is at the provider otherwise.
//
// VerifyIDToken checks an ID token. It makes Finish's checks of the token
// (signature by a key from the JWKS, issuer, expiry, the same algorithm
// allow-list, the preset's claim checks) and maps the claims with the same
// code, but has no nonce to compare (the app kept it), and accepts an aud
// holding client_id or one of native_client_ids, with azp, when present, one
// of them too. A token issued to any other client is ErrInvalid.
//
// VerifyAccessToken checks an access token, only where the provider can say
// which client it was issued to; a userinfo endpoint proves only that a
// token is valid, so another app's token would pass it:
//
//   - an OpenID provider whose discovery lists introspection_endpoint is
//     asked by token introspection (RFC 7662), as authgate's confidential
//     client (client_secret_basic, or client_secret_post when discovery
//     lists only that): the answer must be active, its client_id (required)
//     one of the configured client ids, its iss (when present) the issuer,
//     its exp (when present) in the future, its token_type (when present)
//     not a refresh token. Then the userinfo endpoint, called with the
//     token, names the person: its sub must be introspection's. A public
//     client (no secret) cannot ask: refused, saying so.
//   - github: GitHub's "Check a token" (POST /applications/{client_id}/token
//     with the app's id and secret) answers only for the OAuth app
//     client_id's tokens: authgate holds no other app's secret, so
//     native_client_ids is refused for github, and an app must sign in as
//     client_id (the device flow needs no secret on the phone). Then /user
//     and /user/emails name the person; the id must be the checked token's.
//   - any other provider (no introspection: Google, Entra, a plain OAuth2
//     provider with only userinfo) refuses access tokens with an
//     *UnsupportedError naming the provider, shown to the app. (Google's
//     tokeninfo endpoint would say which client a token is for; authgate
//     does not call it yet: Google apps send the ID token.)
//
// # Presets
//
// "preset" names a provider authgate knows; it fills in the issuer from the
// few facts only the operator knows, and the scopes, claim names and button
// text, each documented at its row in preset.go. A field the operator writes
// always wins; an explicit issuer replaces the preset's inputs (giving both
// is refused), and an input the preset does not use is refused.
//
//   - google: issuer https://accounts.google.com; username from email; no
//     groups (Google's ID tokens carry none, so "roles" is refused);
//     optional hosted_domain, which the ID token's hd claim must name (an
//     account outside the Workspace domain, or a consumer account, has
//     another hd or none and is refused).
//   - microsoft (Entra ID): issuer https://login.microsoftonline.com/{tenant}/v2.0;
//     tenant is required and must be the tenant ID (a GUID): "common" and
//     "organizations" are refused because each token carries the issuer of
//     the person's own tenant, "consumers" because its tokens come from the
//     personal-accounts tenant ID, and a domain name because the issuer
//     always names the tenant by ID. Username from preferred_username; groups
//     are object IDs unless the app registration emits names. Entra sends
//     no email_verified, so its emails are never verified here and
//     link_by_verified_email is refused.
//   - okta: issuer https://{domain}/oauth2/default; authorization_server
//     "org" for the org server https://{domain}, or the id of another custom
//     server. groups appears when the app's groups claim is configured.
//   - keycloak: issuer {base_url}/realms/{realm}; groups needs a Group
//     Membership mapper named groups, with "Full group path" off.
//   - pocket-id: issuer base_url; scopes add groups.
//   - github (OAuth apps): plain OAuth2, endpoints
//     https://github.com/login/oauth/authorize and
//     https://github.com/login/oauth/access_token (asked for JSON), state and
//     PKCE S256, scopes read:user and user:email. The identity is read from
//     the REST API (https://api.github.com, with Accept:
//     application/vnd.github+json and X-GitHub-Api-Version: 2022-11-28):
//     the subject is GET /user's numeric id in decimal (never the login,
//     which can be renamed and then taken by someone else), the username its
//     login, the name its name; the email is GET /user/emails's primary
//     address, verified only when GitHub says verified: true (none when no
//     address is primary). Identities are recorded under the issuer
//     https://github.com; issuer, protocol and the endpoints cannot be given.
//     No groups (org and team membership are not read), so "roles" is
//     refused.
//   - home-assistant is known and refused. Its OAuth2 takes an IndieAuth
//     client id (the client's own URL: no registration, no secret), its
//     token endpoint returns no identity, it has no userinfo endpoint and
//     no introspection; the only identity is the WebSocket API's
//     auth/current_user (id, name, is_owner, is_admin), whose user id is per
//     Home Assistant instance. Supporting it takes a WebSocket client
//     (golang.org/x/net/websocket or github.com/coder/websocket) for that
//     one command; authgate has chosen not to add one yet.
//
// Finish (and VerifyAccessToken) applies a preset's checks to the verified
// claims before mapping them: google's hosted_domain, and for microsoft with a roles
// mapping, a groups overage (over 200 groups Entra sends a pointer to
// Microsoft Graph instead of the list; read as "no groups" it would take the
// mapped roles away), refused with a *NotAllowedError (ErrNotAllowed, and
// ErrInvalid too), whose Check ("hosted_domain", "groups_overage") says which:
// the answer was sound, the account is not admitted.
package idp
