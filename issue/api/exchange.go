package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// ExternalVerifier checks the ID tokens native apps exchange at POST
// /v1/auth/oauth/login; cmd/authgate adapts the configured OpenID providers
// (idp.Set) to it.
type ExternalVerifier interface {
	// VerifyIDToken returns who the ID token from the provider names, or an
	// error the API's table maps: a *issue.FieldError for an unknown
	// provider (400), an *issue.AuthError with ErrUnauthenticated for a
	// token that fails a check (401), a *issue.ThrottleError with Busy for a
	// provider that cannot be reached (503).
	VerifyIDToken(ctx context.Context, provider, rawIDToken string) (issue.ExternalIdentity, error)
	// Policy returns how the provider's identities become users, and
	// whether there is such a provider.
	Policy(provider string) (issue.ProviderPolicy, bool)
}

// SetExternal gives the API the identity providers whose ID tokens POST
// /v1/auth/oauth/login exchanges. Call it before serving; without it that
// route answers 400: no identity providers are configured.
func (a *API) SetExternal(v ExternalVerifier) { a.external = v }

// oauthLoginBody is what a native app presents: an ID token it obtained from
// the provider. access_token is read only to refuse it with a reason.
type oauthLoginBody struct {
	Provider    string `json:"provider"`
	IDToken     string `json:"id_token"`
	AccessToken string `json:"access_token"`
	DeviceName  string `json:"device_name"` // optional; the access tokens carry it as device_id
}

// maxIDTokenLen bounds an ID token (a JWT): far above any provider's.
const maxIDTokenLen = 16 << 10

// errAccessTokenForm explains why a provider's access token is refused.
var errAccessTokenForm = invalid("access_token", "only ID tokens are accepted: send id_token. "+
	"A provider's access token proves at its userinfo endpoint that it is valid, not which app it was issued to, "+
	"so a token another app obtained would pass; and no configured provider offers token introspection here yet")

// oauthLogin is POST /v1/auth/oauth/login: open, throttled per client IP with
// the password logins. It exchanges an ID token a native app obtained from a
// configured provider for authgate tokens, the same answer as /v1/auth/login.
func (a *API) oauthLogin(c echo.Context) error {
	noStore(c)
	var b oauthLoginBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	switch {
	case b.AccessToken != "":
		return errAccessTokenForm
	case a.external == nil:
		return invalid("provider", "no identity providers are configured")
	case b.Provider == "":
		return invalid("provider", "is required: the id of the identity provider the ID token is from")
	case b.IDToken == "":
		return invalid("id_token", "is required: the ID token the app obtained from the provider")
	case len(b.IDToken) > maxIDTokenLen:
		return invalid("id_token", "is too long to be an ID token")
	}
	by := requestActor(c)
	refund, err := a.svc.TakeLoginAttempt(by)
	if err != nil {
		return err
	}
	pol, ok := a.external.Policy(b.Provider)
	if !ok {
		return invalid("provider", "no identity provider has this id")
	}
	ctx := c.Request().Context()
	id, err := a.external.VerifyIDToken(ctx, b.Provider, b.IDToken)
	if err != nil {
		return err
	}
	t, err := a.svc.ExchangeExternal(ctx, id, pol, b.DeviceName, by)
	if err != nil {
		return err
	}
	refund() // only a success gives the attempt back, as in Login
	return c.JSON(http.StatusOK, tokensOf(t))
}
