package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// ExternalVerifier checks the provider tokens native apps exchange at POST
// /v1/auth/oauth/login; cmd/authgate adapts the configured identity
// providers (idp.Set) to it.
type ExternalVerifier interface {
	// VerifyIDToken returns who the ID token from the provider names, or an
	// error the API's table maps: a *issue.FieldError for an unknown
	// provider (400), an *issue.AuthError with ErrUnauthenticated for a
	// token that fails a check (401), a *issue.ThrottleError with Busy for a
	// provider that cannot be reached (503).
	// A provider that issues no ID tokens answers a *issue.FieldError (400)
	// saying so.
	VerifyIDToken(ctx context.Context, provider, rawIDToken string) (issue.ExternalIdentity, error)
	// VerifyAccessToken returns who the access token from the provider
	// names, once the provider said it was issued to one of the client ids
	// configured for it; errors as VerifyIDToken's, and a *issue.FieldError
	// (400) naming the provider when it offers no way to say.
	VerifyAccessToken(ctx context.Context, provider, accessToken string) (issue.ExternalIdentity, error)
	// Policy returns how the provider's identities become users, and
	// whether there is such a provider.
	Policy(provider string) (issue.ProviderPolicy, bool)
}

// SetExternal gives the API the identity providers whose ID tokens POST
// /v1/auth/oauth/login exchanges. Call it before serving; without it that
// route answers 400: no identity providers are configured.
func (a *API) SetExternal(v ExternalVerifier) { a.external = v }

// oauthLoginBody is what a native app presents: an ID token or an access
// token it obtained from the provider, exactly one.
type oauthLoginBody struct {
	Provider    string `json:"provider"`
	IDToken     string `json:"id_token"`
	AccessToken string `json:"access_token"`
	DeviceName  string `json:"device_name"` // optional; the access tokens carry it as device_id
}

// maxTokenLen bounds an ID token (a JWT) or access token: far above any
// provider's.
const maxTokenLen = 16 << 10

// oauthLogin is POST /v1/auth/oauth/login: open, throttled per client IP with
// the password logins. It exchanges an ID token or access token a native app
// obtained from a configured provider for authgate tokens, the same answer
// as /v1/auth/login. Which form each provider accepts, and why, is the
// verifier's to say (see idp.Set.VerifyAccessToken).
func (a *API) oauthLogin(c echo.Context) error {
	noStore(c)
	var b oauthLoginBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	switch {
	case a.external == nil:
		return invalid("provider", "no identity providers are configured")
	case b.Provider == "":
		return invalid("provider", "is required: the id of the identity provider the token is from")
	case b.IDToken != "" && b.AccessToken != "":
		return invalid("access_token", "give id_token or access_token, not both")
	case b.IDToken == "" && b.AccessToken == "":
		return invalid("id_token", "is required: the ID token the app obtained from the provider (or, where the "+
			"provider can say which app it was issued to, its access_token)")
	case len(b.IDToken) > maxTokenLen:
		return invalid("id_token", "is too long to be an ID token")
	case len(b.AccessToken) > maxTokenLen:
		return invalid("access_token", "is too long to be an access token")
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
	verify := a.external.VerifyIDToken
	token := b.IDToken
	if b.AccessToken != "" {
		verify, token = a.external.VerifyAccessToken, b.AccessToken
	}
	id, err := verify(ctx, b.Provider, token)
	if na, ok := errors.AsType[*issue.NotAdmittedError](err); ok { // the answer is good, the account not admitted: audit it
		if aerr := a.svc.ExternalNotAdmitted(ctx, b.Provider, na.Check, by); aerr != nil {
			return aerr
		}
	}
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
