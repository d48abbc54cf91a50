package issue

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type createTokenBody struct {
	Name          string   `json:"name"`
	Scopes        []string `json:"scopes"`
	ExpiresInDays *int     `json:"expires_in_days"`
}

type tokenPage struct {
	Tokens []PersonalToken `json:"tokens"`
}

// createMyToken is POST /v1/me/tokens: the answer holds the token, shown this
// once, so it must not be cached.
func (a *API) createMyToken(c echo.Context) error {
	noStore(c)
	var b createTokenBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	caller := callerOf(c)
	t, err := a.svc.CreateToken(c.Request().Context(), caller.Principal.Subject,
		NewToken{Name: b.Name, Scopes: b.Scopes, ExpiresInDays: b.ExpiresInDays}, caller.Actor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

// myTokens is GET /v1/me/tokens: the caller's tokens in every state, newest first.
func (a *API) myTokens(c echo.Context) error {
	return a.listTokens(c, callerOf(c).Principal.Subject)
}

// revokeMyToken is DELETE /v1/me/tokens/:id. Another user's token is a 404.
func (a *API) revokeMyToken(c echo.Context) error {
	return a.revokeToken(c, callerOf(c).Principal.Subject, pathParam(c, "id"))
}

// userTokens is GET /v1/users/:id/tokens.
func (a *API) userTokens(c echo.Context) error { return a.listTokens(c, pathParam(c, "id")) }

// revokeUserToken is DELETE /v1/users/:id/tokens/:tid. A token of another user is a 404.
func (a *API) revokeUserToken(c echo.Context) error {
	return a.revokeToken(c, pathParam(c, "id"), pathParam(c, "tid"))
}

func (a *API) listTokens(c echo.Context, userID string) error {
	list, err := a.svc.ListTokens(c.Request().Context(), userID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tokenPage{Tokens: list})
}

func (a *API) revokeToken(c echo.Context, userID, tokenID string) error {
	if err := noBody(c); err != nil {
		return err
	}
	t, err := a.svc.RevokeToken(c.Request().Context(), userID, tokenID, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// revokedCredentials is the answer of the compromise response: what it ended.
type revokedCredentials struct {
	Sessions []string `json:"sessions"`
	Tokens   []string `json:"tokens"`
}

// revokeUserCredentials is DELETE /v1/users/:id/credentials: every session,
// refresh token and personal token of the user, at once.
func (a *API) revokeUserCredentials(c echo.Context) error {
	return a.revokeCredentials(c, pathParam(c, "id"))
}

// revokeMyCredentials is DELETE /v1/me/credentials: the same for the caller,
// this session included.
func (a *API) revokeMyCredentials(c echo.Context) error {
	return a.revokeCredentials(c, callerOf(c).Principal.Subject)
}

func (a *API) revokeCredentials(c echo.Context, userID string) error {
	if err := noBody(c); err != nil {
		return err
	}
	r, err := a.svc.RevokeCredentials(c.Request().Context(), userID, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, revokedCredentials{Sessions: r.Sessions, Tokens: r.Tokens})
}
