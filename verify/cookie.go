package verify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Request headers the cookie and the navigation test are read from, in
// canonical form.
const (
	headerCookie         = "Cookie"
	headerAccept         = "Accept"
	headerRequestedWith  = "X-Requested-With"
	maxSessionCookies    = 3 // cookies of the session's name tried, at most: a browser sends one per Domain/Path it holds
	cookieNameSeparators = "()<>@,;:\\\"/[]?={} \t"
)

// Why a session cookie is refused; built once.
var (
	errCookieNotSession  = fmt.Errorf("%w: the session cookie does not hold a session (ags_…)", ErrMalformed)
	errSessionInHeader   = fmt.Errorf("%w: a session (ags_…) is accepted from its cookie only", ErrMalformed)
	errCookieOtherDomain = fmt.Errorf("%w: the session was signed in for another cookie domain", ErrUnknownKey)
)

// cookieError is an unusable session cookie. The client is answered as if
// there were no credential (a browser is sent to sign in again, never round a
// loop); the log says why the cookie was refused.
type cookieError struct{ err error }

func (e *cookieError) Error() string { return "no usable session cookie: " + e.err.Error() }
func (e *cookieError) Unwrap() error { return ErrNoCredential }

// authenticateCookie returns the principal of the first of the request's
// session cookies (at most maxSessionCookies tried) that admits it on host,
// the host the client asked for: a session counts only on the hosts of the
// cookie domain it was signed in for (OnCookieDomain). Returns
// ErrNoCredential when there is none (or sessions are not enabled), a
// *cookieError saying why when none is usable, and a store failure as it is,
// for the caller to fail closed. at is the verifier's clock, read once by the
// caller.
func (v *Verifier) authenticateCookie(ctx context.Context, h http.Header, host string, at time.Time) (*Principal, error) {
	if v.cookie == "" {
		return nil, ErrNoCredential
	}
	vals, n := cookieValues(h, v.cookie)
	if n == 0 {
		return nil, ErrNoCredential
	}
	var refused, failed error
	for _, c := range vals[:n] {
		err := errCookieNotSession
		if strings.HasPrefix(c, PrefixSession) {
			p, _, perr := v.authenticateStored(ctx, storedSessions, c, at)
			switch {
			case perr != nil:
				err = perr
			case !OnCookieDomain(host, p.CookieDomain):
				err = errCookieOtherDomain // a browser sends it nowhere else: copied or planted
			default:
				return p, nil
			}
		}
		if status, _ := Status(err); status != http.StatusUnauthorized {
			failed = err // the store could not say: unless another cookie passes, fail closed
		} else if refused == nil {
			refused = err
		}
	}
	if failed != nil {
		return nil, failed
	}
	return nil, &cookieError{refused}
}

// cookieValues returns the values of the first maxSessionCookies cookies named
// name in the Cookie headers, in the order sent, without a pair of enclosing
// double quotes (RFC 6265 §4.1.1). It does not allocate, and it looks only at
// the places where name occurs (strings.Index), so a long Cookie header full
// of other sites' cookies costs a scan, not a split of every pair.
func cookieValues(h http.Header, name string) (vals [maxSessionCookies]string, n int) {
	for _, line := range h[headerCookie] {
		for off := 0; n < maxSessionCookies; {
			i := strings.Index(line[off:], name)
			if i < 0 {
				break
			}
			i += off
			off = i + len(name)
			if !pairStart(line, i) {
				continue // inside another cookie's name or value
			}
			rest := strings.TrimLeft(line[off:], " \t")
			if rest == "" || rest[0] != '=' {
				continue // a longer name that starts with name
			}
			v, _, _ := strings.Cut(rest[1:], ";")
			v = strings.Trim(v, " \t")
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			vals[n], n = v, n+1
		}
	}
	return vals, n
}

// pairStart reports whether position i of a Cookie header starts a
// name=value pair: at the start of the line or after a ';' and blanks.
func pairStart(line string, i int) bool {
	for i > 0 && (line[i-1] == ' ' || line[i-1] == '\t') {
		i--
	}
	return i == 0 || line[i-1] == ';'
}

// OnCookieDomain reports whether host, a Host header's value (name[:port], in
// any letter case), is domain or lies under it on a label boundary:
// cams.home.example is on home.example, evilhome.example is not. An empty
// host or domain is on none. It does not allocate.
func OnCookieDomain(host, domain string) bool {
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	if domain == "" || len(host) < len(domain) || !strings.EqualFold(host[len(host)-len(domain):], domain) {
		return false
	}
	return len(host) == len(domain) || host[len(host)-len(domain)-1] == '.'
}

// validCookieName reports whether s is a cookie name: a token of RFC 9110,
// visible ASCII without separators.
func validCookieName(s string) bool {
	return s != "" && len(s) <= 256 && visibleASCII(s) && !strings.ContainsAny(s, cookieNameSeparators)
}

// navigation reports whether the original request is a browser loading a
// page: it accepts text/html and is not a script's (X-Requested-With).
func navigation(h http.Header) bool {
	if len(h[headerRequestedWith]) > 0 {
		return false
	}
	for _, a := range h[headerAccept] {
		if strings.Contains(a, "text/html") {
			return true
		}
	}
	return false
}
