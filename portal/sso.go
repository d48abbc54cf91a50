package portal

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/idp"
	"github.com/authgate/authgate/issue"
)

// ssoCookiePrefix names an attempt cookie; the first 8 characters of the
// attempt's state follow, so parallel attempts (tabs) keep a cookie each and
// the callback finds its own by the state it carries.
const (
	ssoCookiePrefix       = "__Secure-authgate_sso_"
	ssoDevCookiePrefix    = "authgate_sso_"
	ssoCookieStateLen     = 8
	ssoCookieMaxAgeSecond = int(idp.MaxAttemptAge / 1e9)
)

// DefaultSSOLimit is how many sign-ins through providers each client address
// may start, and how many callbacks it may bring back, per minute (each
// counted apart): enough for a household behind one address, few enough that
// nobody can make authgate call a provider's token endpoint at will.
const DefaultSSOLimit = 30

// providerButton is a sign-in button on the login page: a submit button of
// the sign-in form, so that the return URL, the device name and "remember
// this device" go with it.
type providerButton struct {
	Name   string
	Action string // /sso/<id>/start
}

// providerButtons lists a button per configured provider.
func (p *Portal) providerButtons() []providerButton {
	if p.providers == nil {
		return nil
	}
	var out []providerButton
	for _, pi := range p.providers.Providers() {
		out = append(out, providerButton{Name: pi.Name, Action: "/sso/" + pi.ID + "/start"})
	}
	return out
}

// attemptChoices is what the portal keeps in an attempt besides idp's part
// (Attempt.Caller, sealed with the rest): the validated return URL and what
// the person chose on the sign-in form; never in a URL the provider sees and
// echoes.
type attemptChoices struct {
	RD         string `json:"rd,omitempty"`
	Remember   bool   `json:"remember,omitempty"`
	DeviceName string `json:"device,omitempty"`
}

func (ch attemptChoices) encode() string {
	b, _ := json.Marshal(ch) // strings and a bool: cannot fail
	return string(b)
}

// openChoices reverses encode. The attempt was sealed by this portal, so
// nothing malformed is to be feared; an unreadable one means no choices.
func openChoices(s string) attemptChoices {
	var ch attemptChoices
	_ = json.Unmarshal([]byte(s), &ch)
	return ch
}

// ssoStart is GET /sso/:id/start (rd in the query: a link, not remembered)
// and POST /sso/:id/start (the sign-in form's provider button: rd, remember,
// device_name): throttled per client address, rd is validated as on the
// sign-in page, a new attempt is begun and sealed, with the person's
// choices, into a cookie of its own (Path = the provider's callback,
// HttpOnly, Secure, SameSite=Lax, 10 minutes), and the browser is sent (303)
// to the provider.
func (p *Portal) ssoStart(c echo.Context) error {
	s := siteOf(c)
	info, ok := p.providers.Provider(c.Param("id"))
	if !ok {
		return p.errorPage(c, http.StatusNotFound, pageNotFound, nil)
	}
	if err := p.ssoStarts.Take(c.RealIP(), p.now()); err != nil {
		return p.tooMany(c, err)
	}
	var ch attemptChoices
	raw := c.QueryParam("rd")
	if c.Request().Method == http.MethodPost {
		f, err := postForm(c)
		if err != nil {
			return p.errorPage(c, http.StatusBadRequest, pageBadForm, err)
		}
		raw, ch.Remember, ch.DeviceName = f.get("rd"), f.get("remember") != "", formDeviceName(f.get("device_name"))
	}
	if raw != "" {
		if ch.RD, ok = p.returnURL(s, raw); !ok {
			return p.errorPage(c, http.StatusBadRequest, pageBadReturn, nil)
		}
	}
	authURL, a, err := p.providers.Begin(info.ID, callbackURL(s, info.ID))
	if err != nil {
		return p.ssoError(c, info, err)
	}
	a.Caller = ch.encode()
	sealed, err := idp.SealAttempt(p.ssoKey, a)
	if err != nil {
		return p.serverError(c, err)
	}
	ck := p.attemptCookie(info.ID, a.State, sealed)
	ck.MaxAge = ssoCookieMaxAgeSecond
	c.SetCookie(ck)
	return c.Redirect(http.StatusSeeOther, authURL)
}

// formDeviceName is the device name typed into the sign-in form, kept only
// when the service would take it, so that a bad one cannot fail the sign-in
// after the provider; "" (the browser's name, at the callback) otherwise.
func formDeviceName(name string) string {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > issue.MaxDeviceNameLen ||
		strings.IndexFunc(name, func(r rune) bool { return unicode.In(r, unicode.C, unicode.Zl, unicode.Zp) }) >= 0 {
		return ""
	}
	return name
}

// ssoCallback is GET /sso/:id/callback: throttled per client address (before
// anything is read, so a refused callback can be retried after the wait), the
// attempt cookie named by the state is read and cleared, the provider's
// answer is checked (idp.Finish), the service signs the identity in under the
// provider's policy, with the choices made at the start, and the browser gets
// a session cookie as after a password sign-in and is sent (303) to the
// attempt's return URL, or to its account.
func (p *Portal) ssoCallback(c echo.Context) error {
	s := siteOf(c)
	info, ok := p.providers.Provider(c.Param("id"))
	if !ok {
		return p.errorPage(c, http.StatusNotFound, pageNotFound, nil)
	}
	if err := p.ssoCallbacks.Take(c.RealIP(), p.now()); err != nil {
		return p.tooMany(c, err)
	}
	q := c.QueryParams()
	state := q.Get("state")
	if len(state) < ssoCookieStateLen || !cookieSafe(state[:ssoCookieStateLen]) {
		return p.errorPage(c, http.StatusBadRequest, pageSSOExpired, errors.New("callback without a usable state"))
	}
	name := p.attemptCookieName(state)
	ck, err := c.Cookie(name)
	clear := p.attemptCookie(info.ID, state, "")
	clear.MaxAge = -1 // written as Max-Age=0: an attempt is used once, whatever comes of it
	c.SetCookie(clear)
	if err != nil {
		return p.errorPage(c, http.StatusBadRequest, pageSSOExpired, errors.New("no attempt cookie for this state"))
	}
	a, err := idp.OpenAttempt(p.ssoKey, ck.Value, p.now())
	if err != nil {
		return p.errorPage(c, http.StatusBadRequest, pageSSOExpired, err)
	}
	ctx := c.Request().Context()
	ident, err := p.providers.Finish(ctx, info.ID, callbackURL(s, info.ID), a, q)
	if na, isNA := errors.AsType[*idp.NotAllowedError](err); isNA {
		if err := p.svc.ExternalNotAdmitted(ctx, info.ID, na.Check, requestActor(c)); err != nil {
			p.log.Error("portal: audit a provider sign-in not admitted", "provider", info.ID, "err", err.Error())
		}
	}
	if err != nil {
		return p.ssoError(c, info, err)
	}
	policy, _ := p.providers.Policy(info.ID)
	ch := openChoices(a.Caller)
	in := issue.BrowserSignIn{DeviceName: ch.DeviceName, Remember: ch.Remember}
	if in.DeviceName == "" {
		in.DeviceName = truncate(deviceName(c.Request().UserAgent()), issue.MaxDeviceNameLen)
	}
	bs, err := p.svc.SignInExternal(ctx, s.domain, ident, policy, in, requestActor(c))
	switch {
	case errors.Is(err, issue.ErrSignInRefused): // why is in the audit row, never on the page
		return p.errorPage(c, http.StatusForbidden, pageNotAllowed(info), err)
	case err != nil: // issue.ErrProviderPolicy among them: the operator's to fix
		return p.serverError(c, err)
	}
	p.endReplaced(c)
	p.setCookie(c, s, bs)
	rd, ok := p.returnURL(s, ch.RD)
	if !ok {
		rd = "/account"
	}
	return c.Redirect(http.StatusSeeOther, rd)
}

// ssoError answers the page for an error from Begin or Finish.
func (p *Portal) ssoError(c echo.Context, info idp.ProviderInfo, err error) error {
	switch {
	case errors.Is(err, idp.ErrUnavailable):
		return p.errorPage(c, http.StatusBadGateway, &errorKind{"Could not reach " + info.Name,
			info.Name + " did not answer, so you could not be signed in with it. Try again in a moment, or sign in another way.",
			"Back to sign-in", "/login"}, err)
	case errors.Is(err, idp.ErrExpired):
		return p.errorPage(c, http.StatusBadRequest, pageSSOExpired, err)
	case errors.Is(err, idp.ErrNotAllowed): // before ErrInvalid, which it wraps too
		return p.errorPage(c, http.StatusForbidden, pageNotAllowed(info), err)
	case errors.Is(err, idp.ErrDenied):
		return p.errorPage(c, http.StatusForbidden, &errorKind{info.Name + " did not sign you in",
			info.Name + " answered that the sign-in was cancelled or refused. Nothing was changed here.",
			"Back to sign-in", "/login"}, err)
	case errors.Is(err, idp.ErrInvalid):
		return p.errorPage(c, http.StatusBadRequest, &errorKind{"The sign-in could not be verified",
			"The answer from " + info.Name + " did not pass the checks, so it was not accepted. Try again; if it keeps happening, tell your administrator.",
			"Back to sign-in", "/login"}, err)
	}
	return p.serverError(c, err)
}

var (
	pageSSOExpired = &errorKind{"This sign-in link has expired",
		"The sign-in took too long, was already used, or was started in another browser. Start again from the sign-in page.",
		"Back to sign-in", "/login"}
)

// pageNotAllowed answers a person the provider vouched for whom this portal
// does not admit: the provider's configuration (a hosted domain, a groups
// overage) or its policy here (new users refused, an unverified email, a
// disabled account) says no. It says which provider, never which claim or
// why: the audit row (user.login_failed) and the log say that.
func pageNotAllowed(info idp.ProviderInfo) *errorKind {
	return &errorKind{"This account is not allowed to sign in here",
		info.Name + " recognised you, but the " + info.Name + " account you used is not allowed to sign in here. " +
			"Sign in with another " + info.Name + " account, or another way; if this account should be allowed, ask your administrator.",
		"Back to sign-in", "/login"}
}

// tooMany answers the 429 page for a refusal by an SSO throttle, with
// Retry-After in whole seconds.
func (p *Portal) tooMany(c echo.Context, err error) error {
	te, ok := errors.AsType[*issue.ThrottleError](err)
	if !ok {
		return p.serverError(c, err)
	}
	c.Response().Header().Set("Retry-After", strconv.FormatInt(int64((max(te.RetryAfter, time.Second)+time.Second-1)/time.Second), 10))
	return p.errorPage(c, http.StatusTooManyRequests, &errorKind{"Too many sign-ins from here", throttleMessage(te),
		"Back to sign-in", "/login"}, err)
}

// callbackURL is the redirect URI of provider id at site s.
func callbackURL(s *site, id string) string { return s.url + "/sso/" + id + "/callback" }

func (p *Portal) attemptCookieName(state string) string {
	prefix := ssoCookiePrefix
	if p.dev {
		prefix = ssoDevCookiePrefix
	}
	return prefix + state[:ssoCookieStateLen]
}

// attemptCookie is the cookie of one attempt: only sent to the provider's
// callback, and with SameSite=Lax, because the callback is a top-level GET
// coming from the provider's site.
func (p *Portal) attemptCookie(id, state, value string) *http.Cookie {
	return &http.Cookie{Name: p.attemptCookieName(state), Value: value, Path: "/sso/" + id + "/callback",
		HttpOnly: true, Secure: !p.dev, SameSite: http.SameSiteLaxMode}
}

// cookieSafe reports whether s may be part of a cookie name: base64url only,
// as idp's states are.
func cookieSafe(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}) < 0
}
