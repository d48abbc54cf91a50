package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// Tokens is the answer of a login or a refresh (RFC 6749 5.1).
type Tokens struct {
	AccessToken  string `json:"access_token"`  // a JWT, sent as Authorization: Bearer
	RefreshToken string `json:"refresh_token"` // agr_…, exchanged at /v1/auth/refresh
	TokenType    string `json:"token_type"`    // always "bearer"
	ExpiresIn    int64  `json:"expires_in"`    // seconds until the access token expires
}

func tokensOf(t issue.Tokens) Tokens {
	return Tokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType, ExpiresIn: t.ExpiresIn}
}

// loginBody names the user by login; username is accepted as another name for
// it, since many clients send that.
type loginBody struct {
	Login      string `json:"login"`
	Username   string `json:"username"`
	Password   string `json:"password"`
	DeviceName string `json:"device_name"` // optional; the access tokens carry it as device_id
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
	t, err := a.svc.Login(c.Request().Context(), issue.LoginRequest{Login: b.Login, Password: b.Password, DeviceName: b.DeviceName}, requestActor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tokensOf(t))
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
	return c.JSON(http.StatusOK, tokensOf(t))
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

// Me is the calling user as GET /v1/me shows them: with roles, effective
// permissions, and the session their access token belongs to.
type Me struct {
	User
	Permissions []string `json:"permissions"` // sorted; every permission for an admin
	SessionID   string   `json:"session_id"`
}

// me is GET /v1/me.
func (a *API) me(c echo.Context) error {
	p := callerOf(c).Principal
	prof, err := a.svc.Profile(c.Request().Context(), p.Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Me{User: userOf(prof.User), Permissions: list(prof.Permissions), SessionID: p.SessionID})
}
