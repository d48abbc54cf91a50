package portal

import (
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// contentSecurityPolicy is the policy of every portal answer: nothing but the
// portal's own stylesheet and images, no script at all, never framed, and
// forms posted only to the portal itself. form-action also lists each cookie
// domain and its subdomains, because browsers apply it to the redirect a form
// post answers with, and sign-in answers with a redirect to the page the person
// asked for. The :* port wildcard admits what the return-URL rule admits: an
// app behind a proxy on another port.
func contentSecurityPolicy(sites []*site, dev bool) string {
	targets := []string{"'self'"}
	for _, s := range sites {
		targets = append(targets, "https://"+s.domain+":*", "https://*."+s.domain+":*")
		if dev && (s.domain == "localhost" || strings.HasSuffix(s.domain, ".localhost")) {
			targets = append(targets, "http://"+s.domain+":*", "http://*."+s.domain+":*")
		}
	}
	return "default-src 'none'; style-src 'self'; img-src 'self'; form-action " + strings.Join(targets, " ") +
		"; frame-ancestors 'none'; base-uri 'none'"
}

// allowFormTargets returns csp with origins added to its form-action: the
// sign-in page's provider buttons post to the portal, which answers with a
// redirect to the provider, and browsers check that redirect against the
// page's form-action.
func allowFormTargets(csp string, origins []string) string {
	if len(origins) == 0 {
		return csp
	}
	return strings.Replace(csp, "form-action 'self'", "form-action 'self' "+strings.Join(origins, " "), 1)
}

// secure sets the security headers on every portal answer, before the
// handler runs, so that error answers carry them too.
func (p *Portal) secure(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", p.csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		return next(c)
	}
}

const siteKey = "authgate.portal.site"

// onSite admits only requests whose Host is a configured portal's host (the
// port is not compared: proxies differ in passing it on), answering the 404
// page otherwise, and records the site for the handler.
func (p *Portal) onSite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		host := strings.ToLower(c.Request().Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		s, ok := p.byHost[host]
		if !ok {
			return p.errorPage(c, http.StatusNotFound, pageNotFound, nil)
		}
		c.Set(siteKey, s)
		return next(c)
	}
}

// siteOf returns the site onSite recorded.
func siteOf(c echo.Context) *site { return c.Get(siteKey).(*site) }

// sameOrigin refuses form posts from other origins (sibling hosts under the
// cookie domain included) with Go's http.CrossOriginProtection: the
// Sec-Fetch-Site header, or for browsers without it, Origin against Host.
// Requests with neither are not from a browser and go on.
func (p *Portal) sameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := p.cop.Check(c.Request()); err != nil {
			p.log.Info("portal: cross-origin form post refused", "path", c.Path(), "err", err.Error(),
				"sec_fetch_site", c.Request().Header.Get("Sec-Fetch-Site"), "origin", c.Request().Header.Get("Origin"),
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			return p.errorPage(c, http.StatusForbidden, pageCrossOrigin, nil)
		}
		return next(c)
	}
}

// maxFormBytes bounds a form post: the largest holds a token's name and scopes.
const maxFormBytes = 64 << 10

// postForm reads a urlencoded form body (never the query), at most
// maxFormBytes. A body that is too large or malformed is refused.
func postForm(c echo.Context) (formValues, error) {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return formValues(r.PostForm), nil
}

// formValues is a posted form.
type formValues map[string][]string

// get returns the first value of key, or "".
func (f formValues) get(key string) string {
	if v := f[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
