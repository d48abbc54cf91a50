// Package portal is the browser-facing side of authgate: the sign-in and
// account pages at each configured portal URL, the session cookie for each
// configured cookie domain, and the addresses the hot path sends browsers to
// (verify.Portal: LoginURL, DeniedURL). It stands above issue and verify: the
// service decides every rule (passwords, throttles, sessions, tokens, the
// authority rule), the verifier says who a cookie belongs to, and the portal
// only renders forms and maps their answers.
//
// # Configuration
//
// New checks the configuration once, at start-up, and refuses it with a
// *ConfigError naming the environment variable (AUTHGATE_COOKIE_DOMAINS,
// AUTHGATE_PORTAL_URLS, AUTHGATE_COOKIE_NAME): a cookie domain on the public
// suffix list, localhost, or inside another; a portal URL that is not an
// https origin on a host inside its cookie domain (plain http only in
// development mode, for localhost and *.localhost). PairSites pairs the two
// comma lists by host.
//
// # The cookie
//
// Sign-in (POST /login) always starts a new session and sets a new cookie
// (Domain = the cookie domain, Path=/, HttpOnly, Secure, SameSite=Lax, named
// __Secure-authgate_session by default; authgate_session without Secure in
// development mode). It has no Expires, so it ends with the browser, unless
// the person asks to be remembered: then Expires is the session's absolute
// expiry. A cookie presented at sign-in is never reused; its session, which
// the new cookie overwrites, is ended. Sign-out ends the session and clears
// the cookie (same attributes, Max-Age=0).
//
// # Signing in with an identity provider
//
// With Config.Providers, the sign-in form carries a button per provider,
// which posts the form (the validated rd, "remember this device" and the
// device name; never the password, which the button does not require) to
// POST /sso/<id>/start; GET /sso/<id>/start (rd in the query) starts the same
// from a link, not remembered. Start begins an attempt (idp.Set.Begin: state,
// nonce, PKCE verifier), seals it with Config.SSOKey, along with rd and the
// person's choices (in Attempt.Caller, which idp leaves to the portal;
// never in anything the provider sees), into a cookie of its own,
// __Secure-authgate_sso_<first 8 characters of the state> (authgate_sso_… in
// development mode), host-only, Path = /sso/<id>/callback, HttpOnly, Secure,
// SameSite=Lax (the callback is a top-level GET from the provider's site),
// Max-Age 600, and sends the browser (303) to the provider. The callback
// finds the cookie by the state it carries, clears it whatever happens (an
// attempt is used once), has idp check the answer, and has the service sign
// the identity in under the provider's policy, remembered or not as chosen;
// the session cookie is then set exactly as after a password sign-in, and
// the browser goes to the attempt's return URL or to /account. Refusals are
// pages: an expired, replayed or foreign attempt (400, "this sign-in link has
// expired"), a provider that cannot be reached (502), a provider that said
// no (403), an answer that fails the checks (400, "the sign-in could not be
// verified"), a person the provider vouched for whom authgate does not admit
// (403, "this account is not allowed to sign in here", naming the provider
// and asking for another account, never the claim: idp.ErrNotAllowed, such as
// a Google account outside hosted_domain or an Entra groups overage, or the
// service's ErrSignInRefused, such as new_users refuse or an unverified email
// that would link; each audited as user.login_failed with its reason); none
// leaves anything created.
//
// Both routes are throttled per client address (c.RealIP, as for password
// sign-ins), Config.SSOLimit starts and as many callbacks a minute each
// (DefaultSSOLimit, 30): beyond it the 429 page with Retry-After, before any
// cookie is set, read or cleared and before the provider is called, so a
// refused callback can simply be reloaded after the wait.
//
// # Pages
//
// Register lists the routes. They answer only on a portal URL's host (the 404
// page elsewhere); every answer carries a strict Content-Security-Policy (no
// script, forms only to the portal and, for the redirect after sign-in, the
// cookie domains), X-Frame-Options DENY, Referrer-Policy no-referrer and
// Cache-Control no-store; every form post passes Go's
// http.CrossOriginProtection first (the 403 page otherwise). Errors from the
// service are shown beside the form that caused them, with the status of the
// issuer's sentinel (429 with the wait for a throttle or lockout, 401, 400,
// 403, 409, 404); anything else is a 500 page that says nothing internal and
// shows the request id the log line carries.
//
// Every URL taken from a request (rd in the query or a form) passes the
// return-URL rule, and must lie in the cookie domain of the portal it reached,
// before it is put in a page or followed; anything refused sends the browser
// to its account page instead (or, on GET /login, to an error page).
//
// # The return-URL rule
//
// Domains is built once at start-up from the configured cookie domains
// (NewDomains refuses anything that is not a lowercase DNS name). ReturnURL
// accepts a URL only if all of these hold, judged on the raw string before any
// parser sees it, so that no two parsers can disagree about it:
//
//   - it is at most MaxReturnURLLength bytes of printable ASCII, with no space,
//     backslash, ", <, > or `;
//   - it starts with https:// (or http:// in development mode, for localhost
//     and *.localhost only), in any letter case;
//   - its authority is host[:port] with nothing else: no userinfo (@), no
//     %-escapes, no IP literal, no empty or non-ASCII label, no trailing dot,
//     port 1-65535 written without a leading zero;
//   - the host is a configured domain or lies under one on a label boundary
//     (cams.home.example is under home.example; evilhome.example and
//     home.example.evil.com are not), and any label it adds to the domain is
//     not punycode (xn--), so a look-alike name cannot be minted below a
//     configured one;
//   - its path does not start with //, so the path alone never reads as a
//     protocol-relative URL.
//
// Relative URLs (/events) are refused: the proxies always send the absolute
// URL the browser asked for, and a relative one would have to be resolved
// against a portal whose host is not the app's. The accepted URL comes back
// with its scheme and host lowercased, its port as given, its path and query
// as sent, and no fragment: browsers never send a fragment, so one in rd was
// put there by whoever built the link, and dropping it keeps attacker-chosen
// input away from the target app's client-side router.
package portal
