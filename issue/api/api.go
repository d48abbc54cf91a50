package api

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// Authenticator tells who presented a credential; *verify.Verifier is one.
type Authenticator interface {
	Authenticate(ctx context.Context, credential string) (*verify.Principal, error)
}

// API serves the management REST API under /v1.
type API struct {
	svc     *issue.Service
	auth    Authenticator
	signing *issue.SigningKeys // nil until SetSigningKeys: no JWKS, no signing-key rotation
	// external is nil until SetExternal: no ID-token exchange.
	external ExternalVerifier
}

// New returns the API over svc, admitting callers that auth recognises.
func New(svc *issue.Service, auth Authenticator) *API { return &API{svc: svc, auth: auth} }

// SetSigningKeys gives the API the instance's signing keys: GET
// /.well-known/jwks.json publishes them and POST /v1/signing-keys/rotate
// rotates them. Call it before serving; without it both answer that signing
// keys are not set up.
func (a *API) SetSigningKeys(keys *issue.SigningKeys) { a.signing = keys }

// Register adds the routes of the route table (routes.go) to e, each after mw,
// a request id of its own, and the check of who it admits: a route admitting
// anybody but open ones first authenticates a credential sent along.
func (a *API) Register(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	mw = append([]echo.MiddlewareFunc{verify.RequestID}, mw...)
	// An unknown path under /v1 is a 404 after the same middleware and
	// authentication as the routes beside it.
	guarded := append(append([]echo.MiddlewareFunc(nil), mw...), a.authenticate(perm), validPathParams)
	e.RouteNotFound("/v1", echo.NotFoundHandler, guarded...)
	e.RouteNotFound("/v1/*", echo.NotFoundHandler, guarded...)
	for _, rt := range routes() {
		h := func(c echo.Context) error { return rt.handle(a, c) }
		chain := mw
		if rt.access != open {
			chain = append(append([]echo.MiddlewareFunc(nil), mw...), a.authenticate(rt.access), validPathParams)
		}
		switch rt.access {
		case perm:
			h = a.need(rt.perm, h)
		case user:
			h = a.needUser(h)
		}
		e.Add(rt.method, rt.path, h, chain...)
	}
}
