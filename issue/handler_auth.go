package issue

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// loginBody names the user by login; username is accepted as another name for
// it, since many clients send that.
type loginBody struct {
	Login    string `json:"login"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// login is POST /v1/auth/login: open, throttled per client IP and per account.
func (a *API) login(c echo.Context) error {
	noStore(c)
	var b loginBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	switch {
	case b.Login == "":
		b.Login = b.Username
	case b.Username != "" && b.Username != b.Login:
		return invalid("username", "send either login or username, not both")
	}
	t, err := a.svc.Login(c.Request().Context(), LoginRequest{Login: b.Login, Password: b.Password}, requestActor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

type refreshBody struct {
	RefreshToken string `json:"refresh_token"`
}

// refresh is POST /v1/auth/refresh: open; the refresh token is the credential.
func (a *API) refresh(c echo.Context) error {
	noStore(c)
	var b refreshBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	t, err := a.svc.Refresh(c.Request().Context(), b.RefreshToken, requestActor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

type logoutBody struct {
	All bool `json:"all"` // end every session of the user, not just this one
}

// logout is POST /v1/auth/logout, by the access token of the session it ends.
func (a *API) logout(c echo.Context) error {
	var b logoutBody
	if err := decode(c.Request(), &b, true); err != nil {
		return err
	}
	caller := callerOf(c)
	p := caller.Principal
	if err := a.svc.Logout(c.Request().Context(), p.Subject, p.SessionID, b.All, caller.Actor); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// needUser admits only callers with a user's access token (a JWT with a
// session): 401 without a credential, 403 for an API key.
func (a *API) needUser(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := callerOf(c).Principal
		if p == nil {
			return &AuthError{Err: ErrUnauthenticated,
				Msg: "send the access token from /v1/auth/login in Authorization: Bearer"}
		}
		if p.SessionID == "" {
			return &AuthError{Err: ErrPermission,
				Msg: "this route is for users: send the access token from /v1/auth/login, not an API key or a personal token"}
		}
		return h(c)
	}
}

// noStore keeps credentials in an answer out of every cache (RFC 6749 5.1).
func noStore(c echo.Context) {
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("Pragma", "no-cache")
}
