package portal

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/authgate/authgate/verify"
)

// LoginURL returns the sign-in page of the site whose cookie domain holds t's
// host, with t's absolute URL (Proto://Host+URI) as the return address rd, and
// rm=METHOD when t is neither GET nor HEAD, so the page can say the form was
// not sent. It returns "", false when that URL fails the return-URL rule
// (Domains.ReturnURL): a host under no cookie domain, plain http outside
// development mode, and so on; the hot path then answers as it would without a
// portal.
func (p *Portal) LoginURL(t verify.Target) (string, bool) {
	rd, s, ok := p.targetURL(t)
	if !ok {
		return "", false
	}
	u := s.url + "/login?rd=" + url.QueryEscape(rd)
	if m := t.Method; m != http.MethodGet && m != http.MethodHead && methodToken(m) {
		u += "&rm=" + m
	}
	return u, true
}

// DeniedURL returns the page that tells a signed-in person that t needs
// permission scope, with t's absolute URL as rd, on the site whose cookie
// domain holds t's host; "", false as LoginURL.
func (p *Portal) DeniedURL(t verify.Target, scope string) (string, bool) {
	rd, s, ok := p.targetURL(t)
	if !ok {
		return "", false
	}
	return s.url + "/denied?scope=" + url.QueryEscape(scope) + "&rd=" + url.QueryEscape(rd), true
}

// targetURL is t's absolute URL, if the return-URL rule accepts it, and the
// site whose domain holds it.
func (p *Portal) targetURL(t verify.Target) (string, *site, bool) {
	// The pieces are joined as a browser would have sent them; a host that
	// carries a delimiter, or a URI that does not start the path, would let
	// one piece be read as another.
	if t.Host == "" || strings.ContainsAny(t.Host, "/?#@\\") || t.URI != "" && t.URI[0] != '/' {
		return "", nil, false
	}
	rd, ok := p.domains.ReturnURL(t.Proto + "://" + t.Host + t.URI)
	if !ok {
		return "", nil, false
	}
	s, ok := p.siteFor(rd)
	return rd, s, ok
}

// returnURL returns raw if the return-URL rule accepts it and it lies in s's
// cookie domain (a person signing in on one portal gets that domain's cookie,
// which is of no use on another domain); "" and false otherwise.
func (p *Portal) returnURL(s *site, raw string) (string, bool) {
	rd, ok := p.domains.ReturnURL(raw)
	if !ok {
		return "", false
	}
	if got, ok := p.siteFor(rd); !ok || got != s {
		return "", false
	}
	return rd, true
}

// siteFor returns the site whose cookie domain holds the host of rd, a URL
// the return-URL rule accepted.
func (p *Portal) siteFor(rd string) (*site, bool) {
	_, rest, _ := strings.Cut(rd, "://")
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	host := authority
	if h, _, err := net.SplitHostPort(authority); err == nil {
		host = h
	}
	d, ok := p.domains.Match(host)
	if !ok {
		return nil, false
	}
	for _, s := range p.sites {
		if s.domain == d {
			return s, true
		}
	}
	return nil, false
}

// methodToken reports whether m looks like an HTTP method worth naming on the
// page: 1-16 uppercase letters.
func methodToken(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}
