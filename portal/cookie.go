package portal

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// maxPresented is how many session cookies of our name a request may offer
// before the rest are ignored, as on the hot path: a browser holds at most a
// few (one per matching Domain and Path), and each costs a lookup.
const maxPresented = 3

// setCookie gives the browser the cookie of a session just started: Domain =
// the site's cookie domain, Path=/, HttpOnly, Secure (not in development
// mode), SameSite=Lax, and no Expires unless the person asked to be
// remembered, when it is the session's absolute expiry.
func (p *Portal) setCookie(c echo.Context, s *site, bs issue.BrowserSession) {
	ck := p.cookieFor(s, bs.Cookie)
	if bs.Remember {
		ck.Expires = bs.ExpiresAt.UTC()
	}
	c.SetCookie(ck)
}

// clearCookie tells the browser to drop the session cookie of s's domain
// (same attributes, Max-Age=0: a __Secure- cookie is only replaced by one
// with Secure).
func (p *Portal) clearCookie(c echo.Context, s *site) {
	ck := p.cookieFor(s, "")
	ck.MaxAge = -1 // written as Max-Age=0
	c.SetCookie(ck)
}

func (p *Portal) cookieFor(s *site, value string) *http.Cookie {
	return &http.Cookie{Name: p.cookie, Value: value, Domain: s.domain, Path: "/",
		HttpOnly: true, Secure: !p.dev, SameSite: http.SameSiteLaxMode}
}

// presented returns the session cookies the request carries: values of our
// cookie name shaped like a session (ags_…), at most maxPresented.
func (p *Portal) presented(r *http.Request) []string {
	var out []string
	for _, ck := range r.CookiesNamed(p.cookie) {
		if strings.HasPrefix(ck.Value, verify.PrefixSession) {
			out = append(out, ck.Value)
			if len(out) == maxPresented {
				break
			}
		}
	}
	return out
}

// signedIn returns the person whose session cookie the request carries (the
// first valid one signed in for this site's cookie domain), or nil. presented says a session cookie was sent: nil then
// means it is no longer valid (signed out, expired, ended elsewhere). err is
// set only when the session could not be checked; the caller fails closed.
func (p *Portal) signedIn(c echo.Context) (pr *verify.Principal, presented bool, err error) {
	values := p.presented(c.Request())
	for _, v := range values {
		pr, err := p.auth.Authenticate(c.Request().Context(), v)
		if err != nil {
			if status, _ := verify.Status(err); status == http.StatusUnauthorized {
				continue
			}
			return nil, true, err
		}
		// Only a session signed in for this site's cookie domain: a browser
		// never sends another domain's cookie here, so one that came was copied.
		if pr.Kind == verify.KindSession && pr.CookieDomain == siteOf(c).domain {
			return pr, true, nil
		}
	}
	return nil, len(values) > 0, nil
}

// requestActor is the Actor of a request before anyone signs in: anonymous,
// from where it came (c.RealIP, which honours the server's trusted proxies),
// holding nothing.
func requestActor(c echo.Context) issue.Actor {
	return issue.Actor{ID: "anonymous", IP: c.RealIP(), UserAgent: issue.CleanUserAgent(c.Request().UserAgent()),
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
}

// actorOf is the Actor of a signed-in person: the user, holding what their
// roles give them now.
func (p *Portal) actorOf(ctx context.Context, c echo.Context, pr *verify.Principal) (issue.Actor, error) {
	a := requestActor(c)
	a.ID = "user:" + pr.Subject
	var err error
	a.Authority, err = p.svc.CallerAuthority(ctx, pr)
	return a, err
}

// needSession admits only a signed-in person. Without a session cookie a page
// (GET) is sent to sign in; with one that is no longer valid, or for a form
// post, the answer is the "session has ended" page (401), and a stale cookie
// is cleared.
func (p *Portal) needSession(h func(echo.Context, *verify.Principal) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		pr, presented, err := p.signedIn(c)
		switch {
		case err != nil:
			return p.serverError(c, err)
		case pr != nil:
			return h(c, pr)
		case presented:
			p.clearCookie(c, siteOf(c))
		case c.Request().Method == http.MethodGet:
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		return p.errorPage(c, http.StatusUnauthorized, pageSessionEnded, nil)
	}
}
