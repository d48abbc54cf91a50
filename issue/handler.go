package issue

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/verify"
)

// ScopeAdmin lets a credential use the whole management API.
const ScopeAdmin = "authgate:admin"

// Authenticator tells who presented a credential; *verify.Verifier is one.
type Authenticator interface {
	Authenticate(ctx context.Context, credential string) (*verify.Principal, error)
}

// API serves the management REST API under /v1.
type API struct {
	svc  *Service
	auth Authenticator
	keys *KeySet // nil until SetKeySet: no JWKS, no signing-key rotation
}

// NewAPI returns the API over svc, admitting callers that auth recognises.
func NewAPI(svc *Service, auth Authenticator) *API { return &API{svc: svc, auth: auth} }

// Register adds the /v1 routes to e, after mw and a request id of their own.
// Each route states the permission it needs (need), or that it is for a
// logged-in user (needUser); routes without either admit anybody (login,
// refresh, registration, the public signing keys). What a route may change
// is decided by the Service's authority rule, whatever the route says.
func (a *API) Register(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	mw = append([]echo.MiddlewareFunc{requestID}, mw...)
	g := e.Group("/v1", append(mw, a.authenticate, validPathParams)...)
	g.POST("/keys", a.need(PermKeysWrite, a.createKey))
	g.GET("/keys", a.need(PermKeysRead, a.listKeys))
	g.GET("/keys/:id", a.need(PermKeysRead, a.getKey))
	g.POST("/keys/:id/rotate", a.need(PermKeysWrite, a.rotateKey))
	g.POST("/keys/:id/revoke", a.need(PermKeysWrite, a.revokeKey))
	g.POST("/keys/:id/disable", a.need(PermKeysWrite, a.disableKey))
	g.POST("/keys/:id/enable", a.need(PermKeysWrite, a.enableKey))
	g.POST("/signing-keys/rotate", a.need(PermSigningKeysWrite, a.rotateSigningKey))
	g.GET("/audit", a.need(PermAuditRead, a.listAudit))
	e.GET("/.well-known/jwks.json", a.jwks, mw...) // open, outside /v1
	g.POST("/users", a.need(PermUsersWrite, a.createUser))
	g.GET("/users", a.need(PermUsersRead, a.listUsers))
	g.GET("/users/:id", a.need(PermUsersRead, a.getUser))
	g.PATCH("/users/:id", a.need(PermUsersWrite, a.updateUser))
	g.POST("/users/:id/disable", a.need(PermUsersWrite, a.disableUser))
	g.POST("/users/:id/enable", a.need(PermUsersWrite, a.enableUser))
	g.DELETE("/users/:id", a.need(PermUsersWrite, a.deleteUser))
	g.GET("/users/:id/permissions", a.need(PermUsersRead, a.userPermissions))
	g.GET("/users/:id/roles", a.need(PermUsersRead, a.userRoles))
	g.PUT("/users/:id/roles/:role", a.need(PermUsersWrite, a.assignRole))
	g.DELETE("/users/:id/roles/:role", a.need(PermUsersWrite, a.unassignRole))
	g.GET("/roles", a.need(PermRolesRead, a.listRoles))
	g.POST("/roles", a.need(PermRolesWrite, a.createRole))
	g.DELETE("/roles/:name", a.need(PermRolesWrite, a.deleteRole))
	g.PUT("/roles/:name/permissions/:perm", a.need(PermRolesWrite, a.grantPermission))
	g.DELETE("/roles/:name/permissions/:perm", a.need(PermRolesWrite, a.revokePermission))
	g.GET("/permissions", a.need(PermRolesRead, a.listPermissions))
	g.POST("/permissions", a.need(PermRolesWrite, a.createPermission))
	g.DELETE("/permissions/:name", a.need(PermRolesWrite, a.deletePermission))
	g.POST("/auth/register", a.register) // open: refused unless Options.AllowRegistration
	// Login and refresh skip authenticate: a stale access token a client sends
	// along must not stop it from getting a new one.
	e.POST("/v1/auth/login", a.login, mw...)
	e.POST("/v1/auth/refresh", a.refresh, mw...)
	g.POST("/auth/logout", a.needUser(a.logout))
	g.GET("/me", a.needUser(a.me))
	g.GET("/me/sessions", a.needUser(a.mySessions))
	g.DELETE("/me/sessions/:id", a.needUser(a.endMySession))
	g.GET("/users/:id/sessions", a.need(PermUsersRead, a.userSessions))
	g.DELETE("/users/:id/sessions", a.need(PermSessionsWrite, a.revokeUserSessions))
	g.POST("/me/tokens", a.needUser(a.createMyToken))
	g.GET("/me/tokens", a.needUser(a.myTokens))
	g.DELETE("/me/tokens/:id", a.needUser(a.revokeMyToken))
	g.GET("/users/:id/tokens", a.need(PermUsersRead, a.userTokens))
	g.DELETE("/users/:id/tokens/:tid", a.need(PermUsersWrite, a.revokeUserToken))
	g.DELETE("/users/:id/credentials", a.need(PermUsersWrite, a.revokeUserCredentials))
	g.DELETE("/me/credentials", a.needUser(a.revokeMyCredentials))
}

// authgate's own permissions (seeded by the migrations). ScopeAdmin holds them all.
const (
	PermKeysRead         = "keys:read"
	PermKeysWrite        = "keys:write"
	PermUsersRead        = "users:read"
	PermUsersWrite       = "users:write"
	PermRolesRead        = "roles:read"
	PermRolesWrite       = "roles:write"
	PermSessionsWrite    = "sessions:write"
	PermSigningKeysWrite = "signing_keys:write"
	PermAuditRead        = "audit:read"
)

const callerKey = "authgate.caller"

// Caller is who is calling the management API, and from where.
type Caller struct {
	Actor                       // with the caller's Authority
	Principal *verify.Principal // nil for an anonymous caller
	refused   error             // set for credentials the management API does not admit
}

// authenticate identifies the caller when a credential is sent: 401 for a bad
// one, 500 (fail closed) when it cannot be checked. A request without one goes
// on as anonymous, to be refused by need on every route that has one. The
// caller's Authority is read here, once per request (CallerAuthority).
func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		caller := &Caller{Actor: requestActor(c)}
		c.Set(callerKey, caller)
		cred, err := verify.Credential(r.Header, "", "")
		if errors.Is(err, verify.ErrNoCredential) {
			return next(c)
		}
		if err != nil {
			return errors.Join(ErrUnauthenticated, err)
		}
		p, err := a.auth.Authenticate(r.Context(), cred)
		if err != nil {
			if status, _ := verify.Status(err); status == http.StatusUnauthorized {
				return errors.Join(ErrUnauthenticated, err)
			}
			return err // store failure: 500, fail closed
		}
		caller.Principal = p
		caller.ID = actorID(p)
		caller.Authority, err = a.svc.CallerAuthority(r.Context(), p)
		if errors.Is(err, ErrNotForManagement) {
			caller.refused = err
		} else if err != nil {
			return err // fail closed
		}
		return next(c)
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

// need admits only callers holding perm: 401 without a credential, 403 for a
// personal token or a static key, and 403 naming the permission without it.
func (a *API) need(perm string, h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		caller := callerOf(c)
		switch {
		case caller.Principal == nil:
			return ErrUnauthenticated
		case caller.refused != nil:
			return caller.refused
		case !caller.Authority.Holds(perm):
			return &PermissionError{Permission: perm}
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
func actorOf(c echo.Context) Actor { return callerOf(c).Actor }

type createKeyBody struct {
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt *string   `json:"expires_at"`
	Metadata  rawObject `json:"metadata"`
}

func (a *API) createKey(c echo.Context) error {
	var b createKeyBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	in := NewKey{Name: b.Name, Scopes: b.Scopes, Metadata: b.Metadata.raw}
	if b.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *b.ExpiresAt)
		if err != nil {
			return invalid("expires_at", "must be an RFC 3339 time such as 2030-01-01T00:00:00Z")
		}
		in.ExpiresAt = &t
	}
	k, err := a.svc.CreateKey(c.Request().Context(), in, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, k)
}

type keyPage struct {
	Keys       []Key   `json:"keys"`
	NextCursor *string `json:"next_cursor"`
}

func (a *API) listKeys(c echo.Context) error {
	after, limit, err := pageParams(c, "state")
	if err != nil {
		return err
	}
	keys, next, err := a.svc.Keys(c.Request().Context(), State(c.QueryParam("state")), after, limit)
	if err != nil {
		return err
	}
	page := keyPage{Keys: keys}
	if page.Keys == nil {
		page.Keys = []Key{}
	}
	if next != nil {
		s := encodeCursor(*next)
		page.NextCursor = &s
	}
	return c.JSON(http.StatusOK, page)
}

func (a *API) getKey(c echo.Context) error {
	k, err := a.svc.Key(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, k)
}

type rotateBody struct {
	GraceSeconds *int64 `json:"grace_seconds"`
}

func (a *API) rotateKey(c echo.Context) error {
	var b rotateBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	if b.GraceSeconds == nil {
		return invalid("grace_seconds", "is required: how long the old key keeps working (0 ends it now)")
	}
	if *b.GraceSeconds < 0 || *b.GraceSeconds > int64(MaxGrace/time.Second) {
		return invalid("grace_seconds", "must be between 0 and "+strconv.Itoa(int(MaxGrace/time.Second)))
	}
	k, err := a.svc.RotateKey(c.Request().Context(), c.Param("id"), time.Duration(*b.GraceSeconds)*time.Second, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, k)
}

func (a *API) revokeKey(c echo.Context) error {
	return a.stateChange(c, func(ctx context.Context, id string) (Key, error) { return a.svc.RevokeKey(ctx, id, actorOf(c)) })
}

func (a *API) disableKey(c echo.Context) error {
	return a.stateChange(c, func(ctx context.Context, id string) (Key, error) {
		return a.svc.SetKeyDisabled(ctx, id, true, actorOf(c))
	})
}

func (a *API) enableKey(c echo.Context) error {
	return a.stateChange(c, func(ctx context.Context, id string) (Key, error) {
		return a.svc.SetKeyDisabled(ctx, id, false, actorOf(c))
	})
}

// stateChange runs a body-less mutation: the body may be empty or {}.
func (a *API) stateChange(c echo.Context, change func(context.Context, string) (Key, error)) error {
	var empty struct{}
	if err := decode(c.Request(), &empty, true); err != nil {
		return err
	}
	k, err := change(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, k)
}

// rawObject keeps a JSON value as it came, for fields stored verbatim.
type rawObject struct{ raw []byte }

func (o *rawObject) UnmarshalJSON(b []byte) error {
	o.raw = append([]byte(nil), b...)
	return nil
}

// ErrorBody is the JSON every management error answers with.
type ErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// ErrorHandler answers errors returned by handlers: the status and a safe
// message for the client; 5xx details go to the log. Unknown errors are 500s.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, code := Status(err)
		msg := http.StatusText(status)
		var fe *FieldError
		var se *StateError
		var pe *PermissionError
		var ae *AuthError
		var te *ThrottleError
		var he *echo.HTTPError
		switch {
		case errors.As(err, &fe):
			msg = fe.Error()
		case errors.As(err, &se):
			msg = se.Msg
		case errors.As(err, &pe):
			msg = pe.Error()
		case errors.As(err, &te):
			msg = te.Msg
			c.Response().Header().Set("Retry-After", strconv.FormatInt(max(1, int64((te.RetryAfter+time.Second-1)/time.Second)), 10))
		case errors.As(err, &ae):
			msg = ae.Msg
			if status == http.StatusUnauthorized {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="authgate"`)
			}
		case status == http.StatusUnauthorized:
			msg = "send an admin API key in X-API-Key or Authorization: Bearer"
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="authgate"`)
		case status == http.StatusNotFound:
			msg = "no such resource"
		case errors.As(err, &he): // routing: unknown path, wrong method, body too large
			status, code, msg = he.Code, strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_")), http.StatusText(he.Code)
		}
		if status >= 500 { // the request log carries the rest
			log.Error("api error", "method", c.Request().Method, "path", c.Path(), "status", status,
				"err", err.Error(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, ErrorBody{Error: code, Description: msg})
	}
}
