// Package verify decides, for every request a reverse proxy receives, whether it
// may pass. It holds the nouns the rest of authgate shares (Key, Principal,
// Target, Requirement, AccessClaims, StaticKey, the error sentinels) and the hot
// path itself.
//
// # Routes
//
//   - /forward-auth, for Traefik ForwardAuth and Caddy forward_auth: the original
//     request is read from X-Forwarded-Method, -Proto, -Host and -Uri (-For optional).
//   - /auth-request, for nginx auth_request: the original request is read from
//     X-Original-Method and X-Original-URI (or X-Original-URL).
//
// nginx and Caddy report the URI as the client sent it, while they route on its
// normalised form, so authgate normalises the path the same way (CleanPath:
// decode %-escapes once, collapse //, resolve . and ..) before anything judges
// it; Target.Path holds the result and Target.URI the raw string, whose query is
// where query_token reads. A path that cannot be normalised safely is denied.
// That includes a . or .. segment made by decoding (%2e%2e, .%2e, ..%2F,
// %2F..%2F): proxies and apps disagree on where it leads (Traefik cleans
// without decoding and routes /events/..%2Fcameras/x as /events/, an app that
// decodes first serves /cameras/x), so no route can be judged for it. Only a .
// or .. typed literally between literal slashes is resolved; an encoded slash
// that makes no dot segment (/projects/group%2Fname) passes.
//
// Both accept any method and never read or wait for the request body: a
// subrequest that announces one is answered at once, with Connection: close, so
// a proxy that announces a body it never sends cannot stall it. The verify URL's query
// states what the route requires: scope=S (repeatable, all required) and
// query_token=P (also read the credential from query parameter P of the original
// URI; off unless given). An unknown parameter is a configuration error.
//
// The credential is read from X-API-Key or Authorization: Bearer; two different
// credentials, repeated headers, values over MaxCredentialLen and non-printable
// bytes are refused before any lookup.
//
// # Credentials
//
// Its shape says what a credential is, so it is looked up in one place only:
//
//   - agk_…: an API key, read from the KeyStore.
//   - agp_…: a user's personal token (Options.Tokens; without it, refused as
//     malformed), read from the TokenStore like a key and cached with the keys,
//     under its prefix and lookup id, so a key and a token that share a lookup
//     id are never confused. It passes only while it is neither revoked nor
//     expired and its user is not disabled; its scopes are those it was issued
//     with that its user still holds (the store works them out).
//   - exactly three non-empty base64url segments separated by dots: a JWT, an
//     access token authgate issued to a user (Options.JWT; without it, JWTs
//     are refused).
//   - agr_…: a refresh token, always refused as malformed: it is for the
//     token endpoint only.
//   - anything else: a static key from the configuration (Options.StaticKeys;
//     without them, refused as malformed), found by its MAC. NewStaticKeys
//     refuses keys shaped like any of the above, so the shapes never overlap.
//
// Keys and personal tokens are checked by their CRC before any lookup, and
// their secret is compared in constant time against its HMAC.
//
// An access token is admitted only if its header has typ at+jwt and a kid
// naming a key of JWTOptions.Keys, its alg is that key's algorithm (so neither
// alg none nor an HMAC over a public key can pass), its signature verifies, its
// iss and aud are the configured ones, it has exp, sub, sid and jti, its exp,
// nbf and iat hold within JWTOptions.Leeway (30 s), its scope claim is
// space-separated valid scopes, and its session (sid) is not revoked.
//
// # Answers
//
//   - 200: allowed. Every header in IdentityHeaders is set, empty when it does
//     not apply (see the table below).
//   - 401: no credential (WWW-Authenticate: Bearer realm="authgate"), or one that
//     is malformed, unknown, wrong, expired, disabled or revoked, or a JWT
//     with an unknown key, a bad signature, unacceptable claims or a revoked
//     session, all alike (error="invalid_token").
//   - 403: a valid credential of any kind without a required scope
//     (error="insufficient_scope");
//     or, whatever the credential, a path that cannot be normalised safely: a ..
//     above the root, a . or .. made by %-escapes, an invalid %-escape, a
//     control character, or no leading / (error="invalid_path", no
//     WWW-Authenticate).
//   - 500: the proxy is misconfigured (the body and the log say how) or authgate
//     could not check the credential. Never an allow.
//
// The identity headers of an allow, by X-Auth-Kind (api_key, token for a
// personal token, static_key, jwt):
//
//	header           api_key      token          static_key      jwt
//	X-Auth-Subject   key's owner  user id        static:<name>   sub
//	X-Auth-Key-Id    key id       token id       static:<name>
//	X-Auth-Key-Name  key name     token name     <name>
//	X-Auth-User                   username                       username
//	X-Auth-Email                  email                          email
//	X-Auth-Roles                  user's roles                   roles
//	X-Auth-Scopes    key's        effective      configured      scope
//
// Scopes and roles are space-separated. A personal token's scopes are the
// effective ones: those it was issued with that its user still holds.
//
// /forward-auth denies with a small JSON body {"error", "error_description"},
// which Traefik and Caddy pass to the client. /auth-request denies with an empty
// body: nginx discards it anyway and only keeps the connection alive without one.
//
// # Revocation bound
//
// Verified keys and personal tokens are cached for at most Options.CacheTTL
// (10 s), and unknown lookup ids for Options.NegativeCacheTTL (5 s). Stores
// announce changes, and callers pass them to Verifier.Forget (one key or token,
// by lookup id) or Verifier.ForgetAll (a change to roles, grants or users, on
// which any personal token's power depends), so a revocation, a demotion or a
// disabled user normally takes effect within the announcement's delivery
// time; CacheTTL is the bound when announcements are lost. Their last use is
// written at most once a minute each, off the request path (Verifier.Run).
//
// Static keys live in memory from start-up: they are revoked only by removing
// them from the configuration and restarting.
//
// Verified access tokens are cached, by their exact string, until their exp or
// for CacheTTL, whichever is sooner, but JWTOptions.Revoked is asked on every
// request, cached token or not. Access tokens are revoked by session: once the
// session's id is in the deny list (DenyList, fed from the store's
// announcements and a periodic poll), every token of that session is refused at
// once. The bound is thus the deny list's delivery time, and the poll interval
// when announcements are lost; it never exceeds the tokens' own lifetime plus
// the leeway. While the deny list is not Current (its feed has not completed a
// read recently enough), every access token is refused with a 500. A removed signing key stops admitting cached tokens when the
// caller calls Verifier.ForgetAll, and after CacheTTL otherwise.
package verify
