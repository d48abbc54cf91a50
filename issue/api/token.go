package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// PersonalToken is a user's personal token as the API shows it. It never
// holds the secret.
type PersonalToken struct {
	ID         string     `json:"id"`     // tok_…
	Prefix     string     `json:"prefix"` // agp_ + lookup id: how a token is recognised in lists and logs
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"` // approximate: recorded at most once a minute
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	RateLimit  *RateLimit `json:"rate_limit"` // null: none of its own
}

func personalTokenOf(t issue.PersonalToken) PersonalToken {
	return PersonalToken{ID: t.ID, Prefix: t.Prefix, UserID: t.UserID, Name: t.Name, Scopes: list(t.Scopes),
		ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, CreatedAt: t.CreatedAt, RevokedAt: t.RevokedAt,
		RateLimit: rateLimitOf(t.RateLimit)}
}

// IssuedToken is a personal token just created, with its secret: shown this
// once, stored nowhere.
type IssuedToken struct {
	PersonalToken
	Secret string `json:"token"`
}

// TokenPage is a user's personal tokens in every state, newest first.
type TokenPage struct {
	Tokens []PersonalToken `json:"tokens"`
}

// RevokedCredentials is the answer of the compromise response: what it ended.
type RevokedCredentials struct {
	Sessions []string `json:"sessions"`
	Tokens   []string `json:"tokens"`
}

type createTokenBody struct {
	Name          string     `json:"name"`
	Scopes        []string   `json:"scopes"`
	ExpiresInDays *int       `json:"expires_in_days"`
	RateLimit     *RateLimit `json:"rate_limit"`
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
		issue.TokenRequest{Name: b.Name, Scopes: b.Scopes, ExpiresInDays: b.ExpiresInDays, RateLimit: b.RateLimit.domain()},
		caller.Actor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, IssuedToken{PersonalToken: personalTokenOf(t.PersonalToken), Secret: t.Secret})
}

// myTokens is GET /v1/me/tokens: the caller's tokens in every state, newest first.
func (a *API) myTokens(c echo.Context) error {
	return a.listTokens(c, callerOf(c).Principal.Subject)
}

// revokeMyToken is DELETE /v1/me/tokens/:id. Another user's token is a 404.
func (a *API) revokeMyToken(c echo.Context) error {
	return a.revokeToken(c, callerOf(c).Principal.Subject, pathParam(c, "id"))
}

// setMyTokenRateLimit is PUT /v1/me/tokens/:id/rate-limit: the caller's
// token's own rate limit, {"requests", "window_seconds", "burst"?}.
func (a *API) setMyTokenRateLimit(c echo.Context) error {
	var b RateLimit
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	return a.setTokenRateLimit(c, b.domain())
}

// clearMyTokenRateLimit is DELETE /v1/me/tokens/:id/rate-limit.
func (a *API) clearMyTokenRateLimit(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	return a.setTokenRateLimit(c, nil)
}

func (a *API) setTokenRateLimit(c echo.Context, l *issue.RateLimit) error {
	t, err := a.svc.SetTokenRateLimit(c.Request().Context(), callerOf(c).Principal.Subject, pathParam(c, "id"), l, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, personalTokenOf(t))
}

// userTokens is GET /v1/users/:id/tokens.
func (a *API) userTokens(c echo.Context) error { return a.listTokens(c, pathParam(c, "id")) }

// revokeUserToken is DELETE /v1/users/:id/tokens/:tid. A token of another user is a 404.
func (a *API) revokeUserToken(c echo.Context) error {
	return a.revokeToken(c, pathParam(c, "id"), pathParam(c, "tid"))
}

func (a *API) listTokens(c echo.Context, userID string) error {
	tokens, err := a.svc.ListTokens(c.Request().Context(), userID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, TokenPage{Tokens: listOf(tokens, personalTokenOf)})
}

func (a *API) revokeToken(c echo.Context, userID, tokenID string) error {
	if err := noBody(c); err != nil {
		return err
	}
	t, err := a.svc.RevokeToken(c.Request().Context(), userID, tokenID, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, personalTokenOf(t))
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
	return c.JSON(http.StatusOK, RevokedCredentials{Sessions: list(r.Sessions), Tokens: list(r.Tokens)})
}
