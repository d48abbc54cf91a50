package portal

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

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

// providerButton is a sign-in button on the login page.
type providerButton struct {
	Name string
	Href string // /sso/<id>/start, with rd when there is one
}

// providerButtons lists a button per configured provider, each carrying the
// already validated return URL rd.
func (p *Portal) providerButtons(rd string) []providerButton {
	if p.providers == nil {
		return nil
	}
	var out []providerButton
	for _, pi := range p.providers.Providers() {
		href := "/sso/" + pi.ID + "/start"
		if rd != "" {
			href += "?rd=" + url.QueryEscape(rd)
		}
		out = append(out, providerButton{Name: pi.Name, Href: href})
	}
	return out
}

// ssoStart is GET /sso/:id/start: rd is validated as on the sign-in page, a
// new attempt is begun and sealed into a cookie of its own (Path = the
// provider's callback, HttpOnly, Secure, SameSite=Lax, 10 minutes), and the
// browser is sent (303) to the provider.
func (p *Portal) ssoStart(c echo.Context) error {
	s := siteOf(c)
	info, ok := p.providers.Provider(c.Param("id"))
	if !ok {
		return p.errorPage(c, http.StatusNotFound, pageNotFound, nil)
	}
	var rd string
	if raw := c.QueryParam("rd"); raw != "" {
		if rd, ok = p.returnURL(s, raw); !ok {
			return p.errorPage(c, http.StatusBadRequest, pageBadReturn, nil)
		}
	}
	authURL, a, err := p.providers.Begin(info.ID, callbackURL(s, info.ID))
	if err != nil {
		return p.ssoError(c, info, err)
	}
	a.ReturnURL = rd
	sealed, err := idp.SealAttempt(p.ssoKey, a)
	if err != nil {
		return p.serverError(c, err)
	}
	ck := p.attemptCookie(info.ID, a.State, sealed)
	ck.MaxAge = ssoCookieMaxAgeSecond
	c.SetCookie(ck)
	return c.Redirect(http.StatusSeeOther, authURL)
}

// ssoCallback is GET /sso/:id/callback: the attempt cookie named by the
// state is read and cleared, the provider's answer is checked (idp.Finish),
// the service signs the identity in under the provider's policy, and the
// browser gets a session cookie as after a password sign-in and is sent
// (303) to the attempt's return URL, or to its account.
func (p *Portal) ssoCallback(c echo.Context) error {
	s := siteOf(c)
	info, ok := p.providers.Provider(c.Param("id"))
	if !ok {
		return p.errorPage(c, http.StatusNotFound, pageNotFound, nil)
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
	if err != nil {
		return p.ssoError(c, info, err)
	}
	policy, _ := p.providers.Policy(info.ID)
	in := issue.BrowserSignIn{DeviceName: truncate(deviceName(c.Request().UserAgent()), issue.MaxDeviceNameLen)}
	bs, err := p.svc.SignInExternal(ctx, s.domain, ident, policy, in, requestActor(c))
	switch {
	case errors.Is(err, issue.ErrSignInRefused): // why is in the audit row, never on the page
		return p.errorPage(c, http.StatusForbidden, pageSSORefused, err)
	case err != nil: // issue.ErrProviderPolicy among them: the operator's to fix
		return p.serverError(c, err)
	}
	p.endReplaced(c)
	p.setCookie(c, s, bs)
	rd, ok := p.returnURL(s, a.ReturnURL)
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
	pageSSORefused = &errorKind{"This account is not allowed to sign in here",
		"The identity provider vouched for you, but no account here may be signed in with that identity. Ask your administrator.",
		"Back to sign-in", "/login"}
)

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
