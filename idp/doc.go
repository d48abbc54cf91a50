// Package idp is authgate's OpenID Connect relying party: the configured
// providers, their discovery, the authorization-code flow with PKCE, and the
// checks on what comes back. It knows nothing of cookies, sessions or pages:
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
//     nonce differs (constant-time compare), or whose claims fail the
//     preset's checks (see Presets): ErrInvalid.
//
// The identity is the ID token's issuer and subject, with the email (verified
// only when email_verified says so), name, username (username_claim, default
// preferred_username) and groups (groups_claim, default groups: a list of
// strings or a single string).
//
// # Native apps
//
// VerifyIDToken checks an ID token a native app obtained by its own sign-in
// with the provider, for the exchange at POST /v1/auth/oauth/login. It makes
// Finish's checks of the token (signature by a key from the JWKS, issuer,
// expiry, the same algorithm allow-list, the preset's claim checks) and maps
// the claims with the same code, but has no nonce to compare (the app kept
// it), and accepts an aud holding client_id or one of native_client_ids (the
// operator's own apps), with azp, when present, one of them too. A token
// issued to any other client is ErrInvalid, however valid at the provider.
// Only ID tokens: an access token proves at the userinfo endpoint that it is
// valid, not which app it was issued to, and no provider here is asked for
// introspection yet.
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
//   - github and home-assistant are known and refused: neither speaks
//     OpenID Connect (no ID token; the identity comes only from GitHub's
//     REST API, or Home Assistant's WebSocket API), which this package does
//     not call yet.
//
// Finish applies a preset's checks to the verified ID token's claims before
// mapping them: google's hosted_domain, and for microsoft with a roles
// mapping, a groups overage (over 200 groups Entra sends a pointer to
// Microsoft Graph instead of the list; read as "no groups" it would take the
// mapped roles away), refused with ErrInvalid.
package idp
