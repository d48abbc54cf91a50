package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// What a 401 asks for, by what the route admits.
const (
	wantUser       = "send a user's access token from /v1/auth/login in Authorization: Bearer"
	wantCredential = "send an API key in X-API-Key or Authorization: Bearer, or a user's access token from /v1/auth/login"
)

// unauthenticated is the 401 of a route admitting acc: it says what to send.
func unauthenticated(acc access, cause error) error {
	msg := wantCredential
	if acc == user {
		msg = wantUser
	}
	return &issue.AuthError{Err: errors.Join(issue.ErrUnauthenticated, cause), Msg: msg}
}

const callerKey = "authgate.caller"

// errSessionAsBearer refuses a browser session's cookie value presented as a
// header: the management API is for scripts, and a cookie copied into one
// would carry the user's whole authority outside the browser.
var errSessionAsBearer = errors.New("a browser session cookie is not accepted by the management API")

// errExternalJWT refuses an external issuer's JWT: its scopes are for the
// routes behind the proxy, and it names nobody authgate knows.
var errExternalJWT = errors.New("an external issuer's token is accepted on the verify endpoints only, not by the management API")

// Caller is who is calling the management API, and from where.
type Caller struct {
	issue.Actor                   // with the caller's Authority
	Principal   *verify.Principal // nil for an anonymous caller
	refused     error             // set for credentials the management API does not admit
}

// authenticate identifies the caller when a credential is sent: 401 (saying
// what a route admitting acc wants) for a bad one, 500 (fail closed) when it
// cannot be checked. A request without one goes on as anonymous, to be
// refused by need and needUser. The caller's Authority is read here, once per
// request (issue.Service.CallerAuthority).
func (a *API) authenticate(acc access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			caller := &Caller{Actor: requestActor(c)}
			c.Set(callerKey, caller)
			cred, err := verify.Credential(r.Header, "", "")
			if errors.Is(err, verify.ErrNoCredential) {
				return next(c)
			}
			if err != nil {
				return unauthenticated(acc, err)
			}
			p, err := a.auth.Authenticate(r.Context(), cred)
			if err != nil {
				if status, _ := verify.Status(err); status == http.StatusUnauthorized {
					return unauthenticated(acc, err)
				}
				return err // store failure: 500, fail closed
			}
			switch p.Kind {
			case verify.KindSession: // a cookie's value, sent as a header: never a bearer credential
				return unauthenticated(acc, errSessionAsBearer)
			case verify.KindExternalJWT: // valid, but for the routes behind the proxy: say so
				return &issue.AuthError{Err: errors.Join(issue.ErrUnauthenticated, errExternalJWT), Msg: errExternalJWT.Error()}
			}
			caller.Principal = p
			caller.ID = actorID(p)
			caller.Authority, err = a.svc.CallerAuthority(r.Context(), p)
			if errors.Is(err, issue.ErrNotForManagement) {
				caller.refused = err
			} else if err != nil {
				return err // fail closed
			}
			return next(c)
		}
	}
}

// actorID names a principal in audit rows: key:<id>, token:<id> (a user's
// personal token), static:<name> or user:<id>.
func actorID(p *verify.Principal) string {
	switch p.Kind {
	case verify.KindPersonalToken:
		return "token:" + p.KeyID
	case verify.KindStaticKey:
		return p.KeyID // static:<name>
	case verify.KindJWT:
		return "user:" + p.Subject
	}
	return "key:" + p.KeyID
}

// need admits only callers holding want: 401 without a credential, 403 for a
// personal token or a static key, and 403 naming the permission without it.
func (a *API) need(want string, h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		caller := callerOf(c)
		switch {
		case caller.Principal == nil:
			return unauthenticated(perm, nil)
		case caller.refused != nil:
			return caller.refused
		case !caller.Authority.Holds(want):
			return &issue.PermissionError{Permission: want}
		}
		return h(c)
	}
}

// needUser admits only callers with a user's access token (a JWT with a
// session): 401 without a credential, 403 for an API key.
func (a *API) needUser(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := callerOf(c).Principal
		if p == nil {
			return unauthenticated(user, nil)
		}
		if p.SessionID == "" {
			return &issue.AuthError{Err: issue.ErrPermission,
				Msg: "this route is for users: send the access token from /v1/auth/login, not an API key or a personal token"}
		}
		return h(c)
	}
}

// callerOf returns the caller authenticate recorded (anonymous if none).
func callerOf(c echo.Context) *Caller {
	if caller, ok := c.Get(callerKey).(*Caller); ok {
		return caller
	}
	return &Caller{Actor: requestActor(c)}
}

// actorOf is the Actor of a management request: who, from where, holding what.
func actorOf(c echo.Context) issue.Actor { return callerOf(c).Actor }

// requestActor is the one builder of a request's Actor before
// authentication: anonymous, from where it came, holding nothing. Its user
// agent is cleaned and bounded and its request id is the one verify.RequestID settled
// on, so no byte a client sends can make an audit row fail to insert.
func requestActor(c echo.Context) issue.Actor {
	return issue.Actor{ID: "anonymous", IP: c.RealIP(), UserAgent: issue.CleanUserAgent(c.Request().UserAgent()),
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
}
