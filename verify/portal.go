package verify

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Portal is where browsers sign in; portal.Portal implements it.
type Portal interface {
	// LoginURL returns the sign-in page URL for a browser that asked for t (t's absolute URL
	// as return address), false when t's host is under no configured cookie domain.
	LoginURL(t Target) (string, bool)
	// DeniedURL returns the page that tells a signed-in person which scope t needs.
	DeniedURL(t Target, scope string) (string, bool)
}

// HandlerOptions configures a Handler. The zero value serves proxies only:
// no browser is ever redirected.
type HandlerOptions struct {
	// Portal, when set, is where browsers without a usable session are sent to
	// sign in, and signed-in ones lacking a scope are told which. Without it
	// every deny is a plain 401 or 403.
	Portal Portal
	// Observer, when set, is told every answer (metrics, usage counts).
	Observer Observer
	// DenyLogRate bounds the deny log: at most this many deny lines a
	// second are written in full; past it denies are counted by reason and
	// summed up in one line the next second (default DefaultDenyLogRate;
	// negative: no bound).
	DenyLogRate int
	// Limiter decides the routes' rate limits (rate= in the verify URL);
	// nil: a limiter of its own, holding up to 100 000 credential, route and
	// rule cells. Give one to share it with a db.RateSync.
	Limiter *Limiter
}

// Portal pages a browser may be sent to, as the log names them.
const (
	pageLogin  = "login"
	pageDenied = "denied"
)

// refuse answers a request that may not pass. A browser the portal can help
// is sent there, the way its proxy redirects; anyone else gets deny's answer.
func (h *Handler) refuse(c echo.Context, p *convention, d *Decision, req *Requirement, t *Target, err error) error {
	loc, page := h.browserPage(c.Request().Header, req, t, err)
	switch {
	case loc == "":
		return h.deny(c, p, d, req, err)
	case p.redirect == nil: // nginx: the 401 or 403 carries Location, and error_page follows it
		c.Response().Header().Set(echo.HeaderLocation, loc)
		return h.answer(c, p, d, req, err, page)
	}
	status := p.redirect(t.Method)
	_, code := Status(err)
	c.Response().Header().Set(echo.HeaderLocation, loc)
	h.logDeny(c, p, d, logLevel(code, err), status, err, page)
	c.Response().WriteHeader(status)
	return nil
}

// browserPage returns the portal page for a request refused with err, and its
// name for the log, or "" when the plain answer is due. Only a page load
// (navigation) on a route that did not opt out, with a portal configured, is
// redirected, and only when a page can help: signing in, for a request
// without a header credential whose session cookie is missing or unusable;
// the denied page, for a signed-in session lacking a scope. A header
// credential is a script's: it never gets a page.
func (h *Handler) browserPage(hdr http.Header, req *Requirement, t *Target, err error) (string, string) {
	if h.portal == nil || req.NoRedirect || !navigation(hdr) {
		return "", ""
	}
	if errors.Is(err, ErrNoCredential) {
		if u, ok := h.portal.LoginURL(*t); ok {
			return u, pageLogin
		}
		return "", ""
	}
	var se *scopeError
	if errors.As(err, &se) && se.principal.Kind == KindSession {
		if u, ok := h.portal.DeniedURL(*t, se.scope); ok {
			return u, pageDenied
		}
	}
	return "", ""
}

// foundOrSeeOther is the redirect status for an original request with this
// method: 302 for a page load, 303 for a form's POST, so the browser follows
// with a GET rather than resend the form to the portal.
func foundOrSeeOther(method string) int {
	if method == http.MethodGet || method == http.MethodHead {
		return http.StatusFound
	}
	return http.StatusSeeOther
}
