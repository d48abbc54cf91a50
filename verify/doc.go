// Package verify decides, for every request a reverse proxy receives, whether it
// may pass. It holds the nouns the rest of authgate shares (Key, Principal,
// Target, Requirement, AccessClaims, StaticKey, SessionRecord, the error
// sentinels), the interfaces of what it needs from others (KeyStore,
// TokenStore, SessionStore, Portal) and the hot path itself.
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
// states what the route requires: scope=S (repeatable, all required),
// query_token=P (also read the credential from query parameter P of the original
// URI; off unless given) and redirect=false (never send a browser to the portal,
// see Browsers). An unknown parameter, and any other value of redirect, is a
// configuration error.
//
// The credential is read from X-API-Key or Authorization: Bearer; two different
// credentials, repeated headers, values over MaxCredentialLen and non-printable
// bytes are refused before any lookup. Only when the request carries none
// there (nor in the opted-in query parameter), and Options.Sessions is set, is
// the session cookie read: the cookie named SessionOptions.Cookie in the Cookie
// headers, its value without enclosing double quotes. Of several cookies of
// that name (a browser sends one per Domain and Path it holds) the first three
// are tried in order and the first that admits wins. A header credential
// always wins over the cookie, and "two different credentials" concerns the
// headers and the query only.
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
//     are refused), or, when Options.External names issuers, a token of the
//     external issuer its iss names (KindExternalJWT); a JWT naming no
//     configured issuer is refused.
//   - ags_…: a browser session, from the session cookie only (Options.Sessions;
//     without it, refused as malformed). It has a key's format and is read
//     from the SessionStore like a key and cached with the keys. It passes
//     only while it is neither revoked nor expired (idle or absolute), its
//     user is not disabled and its id is not on SessionOptions.Revoked; its
//     scopes are its user's permissions now. The cookie is read for nothing
//     else: a key, token or JWT there is no credential, and an ags_ value in a
//     header or the query is refused as malformed.
//   - agr_…: a refresh token, always refused as malformed: it is for the
//     token endpoint only.
//   - anything else: a static key from the configuration (Options.StaticKeys;
//     without them, refused as malformed), found by its MAC. NewStaticKeys
//     refuses keys shaped like any of the above, so the shapes never overlap.
//
// Keys, personal tokens and sessions are checked by their CRC before any
// lookup, and their secret is compared in constant time against its HMAC.
//
// An access token is admitted only if its header has typ at+jwt and a kid
// naming a key of JWTOptions.Keys, its alg is that key's algorithm (so neither
// alg none nor an HMAC over a public key can pass), its signature verifies, its
// iss and aud are the configured ones, it has exp, sub, sid and jti, its exp,
// nbf and iat hold within JWTOptions.Leeway (30 s), its scope claim is
// space-separated valid scopes, and its session (sid) is not revoked.
//
// An external issuer's token is admitted only if its header has a kid that
// the issuer's keys (ExternalIssuer.Keys, its JWKS) hold, its alg is on the
// issuer's Algorithms (asymmetric only, never none), its signature verifies,
// its iss is the issuer's, its aud holds one of the issuer's Audiences, it
// has exp and sub, exp, nbf and iat hold within the leeway, and it carries
// every claim ExternalIssuer.Require names. Its scopes are the issuer's
// Scopes plus those its ClaimScopes grant; it is cached, like an access
// token, until its exp or for CacheTTL. It never names a session.
//
// # Answers
//
//   - 200: allowed. Every header in IdentityHeaders is set, empty when it does
//     not apply (see the table below).
//   - 401: no credential (WWW-Authenticate: Bearer realm="authgate"), or one that
//     is malformed, unknown, wrong, expired, disabled or revoked, or a JWT
//     with an unknown key, a bad signature, unacceptable claims or a revoked
//     session, all alike (error="invalid_token"). A session cookie that does
//     not admit (for any of those reasons) counts as no credential: the
//     answer is that of a request without one, and the log says why.
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
// personal token, static_key, jwt, session for a browser session cookie,
// external_jwt for an external issuer's token):
//
//	header           api_key      token          static_key      jwt        session        external_jwt
//	X-Auth-Subject   key's owner  user id        static:<name>   sub        user id        ext:<id>:<sub>
//	X-Auth-Key-Id    key id       token id       static:<name>
//	X-Auth-Key-Name  key name     token name     <name>
//	X-Auth-User                   username                       username   username       ext:<id>:<user_claim>
//	X-Auth-Email                  email                          email      email
//	X-Auth-Roles                  user's roles                   roles      user's roles
//	X-Auth-Scopes    key's        effective      configured      scope      user's now     mapped
//
// Scopes and roles are space-separated. A personal token's scopes are the
// effective ones: those it was issued with that its user still holds. A
// session's are its user's permissions, as an access token's scope claim.
//
// /forward-auth denies with a small JSON body {"error", "error_description"},
// which Traefik and Caddy pass to the client. /auth-request denies with an empty
// body: nginx discards it anyway and only keeps the connection alive without one.
//
// # Browsers
//
// With a Portal (HandlerOptions.Portal), a browser is sent to a page rather
// than shown a bare 401 or 403, when all of these hold: the route did not opt
// out (redirect=false), the original request is a page load (its Accept holds
// text/html and it has no X-Requested-With), it carries no header credential,
// and a page can help. Signing in helps a request whose session cookie is
// missing or does not admit (Portal.LoginURL, whose return address is the
// original URL); the denied page helps a signed-in session lacking one of the
// route's scopes (Portal.DeniedURL, naming it). A host the portal does not
// serve (ok false) gets the plain answer. A revoked or expired cookie is sent
// to sign in, never round a loop.
//
//   - /forward-auth: 302 (original method GET or HEAD) or 303 (any other, so a
//     posted form is followed with a GET), Location: the page, no body.
//   - /auth-request: the plain answer, 401 to sign in or 403 for the denied
//     page with its WWW-Authenticate, plus Location: the page. nginx cannot
//     pass a 3xx from auth_request, so its configuration redirects: an
//     error_page for 401 and 403 reads $upstream_http_location.
//
// Every other deny, of a browser or not, is the plain answer above. Traefik
// must forward Cookie, Accept and X-Requested-With (authRequestHeaders); nginx
// and Caddy forward them already.
//
// # Revocation bound
//
// Verified keys, personal tokens and sessions are cached for at most
// Options.CacheTTL (10 s), and unknown lookup ids for Options.NegativeCacheTTL
// (5 s). A cached entry keeps admitting while the store cannot be read; one
// that must be read then is a 500, never an allow. Stores
// announce changes, and callers pass them to Verifier.Forget (one key or token,
// by lookup id) or Verifier.ForgetAll (a change to roles, grants or users, on
// which any personal token's power depends), so a revocation, a demotion or a
// disabled user normally takes effect within the announcement's delivery
// time; CacheTTL is the bound when announcements are lost. Their last use (a
// session's last seen, which slides its idle expiry) is written at most once a
// minute each, off the request path (Verifier.Run).
//
// A browser session is ended (signed out, revoked, its user's sessions ended)
// by its id: SessionOptions.Revoked is asked on every use, cached or not, so a
// sign-out takes effect within the deny list's delivery time. Unlike for
// access tokens, a list that is not Current does not refuse sessions: the
// store's revoked_at, read at least every CacheTTL, bounds them then. Whoever
// feeds the list must keep an ended session on it for at least CacheTTL.
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
