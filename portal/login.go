package portal

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// loginView is the sign-in page's data. The password is never put back.
type loginView struct {
	chrome
	Login        string
	DeviceName   string
	Remember     bool
	RememberHint string
	RD           string // the validated return URL, or ""
	Method       string // rm: the method of the request that needed a sign-in, when not GET
	Error        string
	Notice       string
	Providers    []providerButton // a sign-in button per OpenID provider, in the form
}

// notices are the one-line confirmations a redirect after a form can ask
// for (?done=…): a fixed list, so the query cannot put words on the page.
var notices = map[string]string{
	"signed_out":       "You have signed out.",
	"signed_out_all":   "You have signed out everywhere.",
	"session_ended":    "The session has ended.",
	"sessions_ended":   "Every other session has ended.",
	"password_changed": "Your password has been changed, and your other sessions have ended.",
	"token_revoked":    "The token has been revoked.",
}

// loginPage is GET /login. A return URL (rd) the rule refuses gets the error
// page (400), with a way to sign in without it.
func (p *Portal) loginPage(c echo.Context) error {
	s := siteOf(c)
	v := p.newLoginView(c)
	if raw := c.QueryParam("rd"); raw != "" {
		rd, ok := p.returnURL(s, raw)
		if !ok {
			p.log.Info("portal: return URL refused", "length", len(raw), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			return p.errorPage(c, http.StatusBadRequest, pageBadReturn, nil)
		}
		v.RD = rd
		if rm := c.QueryParam("rm"); rm != http.MethodGet && rm != http.MethodHead && methodToken(rm) {
			v.Method = rm
		}
	}
	v.Providers = p.providerButtons()
	v.Notice = notices[c.QueryParam("done")]
	v.DeviceName = truncate(deviceName(c.Request().UserAgent()), issue.MaxDeviceNameLen)
	// Whether someone is signed in only changes a line of text: a failure to
	// tell must not keep anyone from signing in.
	if pr, _, err := p.signedIn(c); err != nil {
		p.log.Warn("portal: session check on the sign-in page", "err", err.Error())
	} else if pr != nil {
		v.User = pr.User
	}
	return p.render(c, http.StatusOK, "login", v)
}

func (p *Portal) newLoginView(c echo.Context) loginView {
	o := p.svc.Options()
	return loginView{chrome: chrome{Title: "Sign in"},
		RememberHint: "Keeps you signed in here for " + span(o.BrowserRememberTTL) + " of inactivity, even after the browser closes. " +
			"Otherwise the session ends when the browser closes, or after " + span(o.BrowserIdleTTL) + " unused."}
}

// signIn is POST /login: the password is checked by the service (throttles,
// lockout, audit), a new session is started whatever cookie came with the
// request, and the browser is sent to the validated return URL, or to its
// account when there is none.
func (p *Portal) signIn(c echo.Context) error {
	s := siteOf(c)
	f, err := postForm(c)
	if err != nil {
		return p.errorPage(c, http.StatusBadRequest, pageBadForm, err)
	}
	rd, _ := p.returnURL(s, f.get("rd")) // refused: go to the account instead
	in := issue.LoginRequest{Login: f.get("login"), Password: f.get("password"),
		DeviceName: strings.TrimSpace(f.get("device_name")), Remember: f.get("remember") != ""}
	bs, err := p.svc.SignIn(c.Request().Context(), s.domain, in, requestActor(c))
	if err != nil {
		status, msg, ok := formError(err)
		if !ok {
			return p.serverError(c, err)
		}
		if errors.Is(err, issue.ErrUnauthenticated) {
			msg = msgBadLogin
		}
		v := p.newLoginView(c)
		v.Login, v.DeviceName, v.Remember, v.RD, v.Error = in.Login, in.DeviceName, in.Remember, rd, msg
		v.Providers = p.providerButtons()
		return p.render(c, status, "login", v)
	}
	p.endReplaced(c)
	p.setCookie(c, s, bs)
	if rd == "" {
		rd = "/account"
	}
	return c.Redirect(http.StatusSeeOther, rd)
}

// endReplaced ends the sessions whose cookies came with a sign-in: the new
// cookie overwrites them in this browser, so nobody could use them again,
// and left alive they would count against the user's session cap. This is
// housekeeping; a failure is logged and the sign-in goes on.
func (p *Portal) endReplaced(c echo.Context) {
	ctx := c.Request().Context()
	for _, v := range p.presented(c.Request()) {
		pr, err := p.auth.Authenticate(ctx, v)
		if err != nil || pr.Kind != verify.KindSession || pr.CookieDomain != siteOf(c).domain {
			continue
		}
		if err = p.endSession(c, pr, false); err != nil {
			p.log.Warn("portal: end the session a sign-in replaced", "session_id", pr.SessionID, "err", err.Error())
		}
	}
}

// endSession ends pr's session, or every session of its user with all set,
// acting as that user.
func (p *Portal) endSession(c echo.Context, pr *verify.Principal, all bool) error {
	ctx := c.Request().Context()
	by, err := p.actorOf(ctx, c, pr)
	if err != nil {
		return err
	}
	err = p.svc.Logout(ctx, pr.Subject, pr.SessionID, all, by)
	if errors.Is(err, verify.ErrNotFound) {
		return nil // ended meanwhile
	}
	return err
}

// logout is POST /logout: ends this session (all=1: every session of the
// user), clears the cookie, and sends the browser to the sign-in page. It
// clears the cookie even when no live session came with it.
func (p *Portal) logout(c echo.Context) error {
	s := siteOf(c)
	f, err := postForm(c)
	if err != nil {
		return p.errorPage(c, http.StatusBadRequest, pageBadForm, err)
	}
	all := f.get("all") == "1"
	pr, _, err := p.signedIn(c)
	p.clearCookie(c, s)
	if err != nil {
		return p.serverError(c, err)
	}
	if pr != nil {
		if err := p.endSession(c, pr, all); err != nil {
			return p.serverError(c, err)
		}
	}
	done := "signed_out"
	if all && pr != nil {
		done = "signed_out_all"
	}
	return c.Redirect(http.StatusSeeOther, "/login?done="+done)
}
