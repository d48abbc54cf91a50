package portal

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/verify"
)

var _ verify.Portal = (*Portal)(nil)

// Register adds the portal's pages to e, each after mw (the request log, for
// instance), a request id, the security headers and the check that the
// request's Host is a configured portal's (else the 404 page); form posts
// also pass the cross-origin check (else the 403 page).
//
//	GET  /login                      sign-in form (rd, rm: where to go after)
//	POST /login                      sign in: new session cookie, 303 to rd or /account
//	POST /logout                     sign out (all=1: everywhere), cookie cleared, 303 to /login
//	GET  /account                    the user, their sessions and tokens, password change
//	POST /account/sessions/end       end one session (id)
//	POST /account/sessions/end-all   end every other session
//	POST /account/identities/unlink  unlink a provider identity (issuer, subject)
//	POST /account/tokens             create a personal token (name, days, scopes): secret shown once
//	POST /account/tokens/revoke      revoke a personal token (id)
//	POST /account/password           change password (current, new, repeat)
//	GET  /denied                     the missing-permission page (scope, rd)
//	GET  /static/portal.css          the stylesheet
//	GET  /sso/:id/start              with providers: begin a sign-in with provider id (rd), 303 to it
//	POST /sso/:id/start              the same from the sign-in form (rd, remember, device_name)
//	GET  /sso/:id/callback           with providers: the provider's answer; session cookie, 303 to rd or /account
//
// The /sso routes are throttled per client address (Config.SSOLimit; the
// 429 page with Retry-After).
func (p *Portal) Register(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	page := append(append([]echo.MiddlewareFunc(nil), mw...), verify.RequestID, p.secure, p.onSite)
	form := append(append([]echo.MiddlewareFunc(nil), page...), p.sameOrigin)
	e.GET("/login", p.loginPage, page...)
	e.POST("/login", p.signIn, form...)
	e.POST("/logout", p.logout, form...)
	e.GET("/account", p.needSession(p.accountPage), page...)
	e.POST("/account/sessions/end", p.needSession(p.endOneSession), form...)
	e.POST("/account/sessions/end-all", p.needSession(p.endOtherSessions), form...)
	e.POST("/account/identities/unlink", p.needSession(p.unlinkIdentity), form...)
	e.POST("/account/tokens", p.needSession(p.createToken), form...)
	e.POST("/account/tokens/revoke", p.needSession(p.revokeToken), form...)
	e.POST("/account/password", p.needSession(p.changePassword), form...)
	e.GET("/denied", p.denied, page...)
	e.GET("/static/portal.css", p.stylesheet, page...)
	if p.providers != nil {
		e.GET("/sso/:id/start", p.ssoStart, page...)
		e.POST("/sso/:id/start", p.ssoStart, form...)
		e.GET("/sso/:id/callback", p.ssoCallback, page...)
	}
}

// CookieName is the session cookie's name, for the verifier's
// verify.SessionOptions.Cookie: the two must agree.
func (p *Portal) CookieName() string { return p.cookie }

// freshForm is the new-token form as first shown: 90 days, or the longest
// allowed when that is shorter.
func (p *Portal) freshForm() tokenForm {
	return tokenForm{Days: strconv.Itoa(min(90, p.svc.Options().MaxTokenDays))}
}
