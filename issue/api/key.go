package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// Key is an API key as the API shows it. It never holds the secret.
type Key struct {
	ID          string          `json:"id"`
	Prefix      string          `json:"prefix"` // agk_ + lookup id: how a key is recognised in lists and logs
	Subject     string          `json:"subject"`
	Name        string          `json:"name"`
	Scopes      []string        `json:"scopes"`
	Metadata    json.RawMessage `json:"metadata"`
	State       string          `json:"state"`
	ExpiresAt   *time.Time      `json:"expires_at"`
	DisabledAt  *time.Time      `json:"disabled_at"`
	RevokedAt   *time.Time      `json:"revoked_at"`
	RotatedFrom *string         `json:"rotated_from"`
	LastUsedAt  *time.Time      `json:"last_used_at"`
	CreatedAt   time.Time       `json:"created_at"`
	CreatedBy   string          `json:"created_by"`
	RateLimit   *RateLimit      `json:"rate_limit"` // null: none of its own
}

// RateLimit is a credential's own rate limit on the verify endpoints:
// requests per window_seconds, in bursts of up to burst (default requests).
type RateLimit struct {
	Requests      int `json:"requests"`
	WindowSeconds int `json:"window_seconds"`
	Burst         int `json:"burst"`
}

func rateLimitOf(l *issue.RateLimit) *RateLimit {
	if l == nil {
		return nil
	}
	return &RateLimit{Requests: l.Requests, WindowSeconds: l.WindowSeconds, Burst: l.Burst}
}

// domain is the rate limit as issue takes it; nil for nil.
func (l *RateLimit) domain() *issue.RateLimit {
	if l == nil {
		return nil
	}
	return &issue.RateLimit{Requests: l.Requests, WindowSeconds: l.WindowSeconds, Burst: l.Burst}
}

func keyOf(k issue.Key) Key {
	return Key{ID: k.ID, Prefix: k.Prefix, Subject: k.Subject, Name: k.Name, Scopes: list(k.Scopes),
		Metadata: k.Metadata, State: string(k.State), ExpiresAt: k.ExpiresAt, DisabledAt: k.DisabledAt,
		RevokedAt: k.RevokedAt, RotatedFrom: k.RotatedFrom, LastUsedAt: k.LastUsedAt, CreatedAt: k.CreatedAt,
		CreatedBy: k.CreatedBy, RateLimit: rateLimitOf(k.RateLimit)}
}

// IssuedKey is a key just created or rotated, with its secret: shown this
// once, stored nowhere.
type IssuedKey struct {
	Key
	Secret string `json:"key"`
}

func issuedKeyOf(k issue.IssuedKey) IssuedKey { return IssuedKey{Key: keyOf(k.Key), Secret: k.Secret} }

// KeyPage is a page of keys, newest first.
type KeyPage struct {
	Keys       []Key   `json:"keys"`
	NextCursor *string `json:"next_cursor"`
}

type createKeyBody struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *string    `json:"expires_at"`
	Metadata  rawObject  `json:"metadata"`
	RateLimit *RateLimit `json:"rate_limit"`
}

func (a *API) createKey(c echo.Context) error {
	var b createKeyBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	in := issue.KeyRequest{Name: b.Name, Scopes: b.Scopes, Metadata: b.Metadata.raw, RateLimit: b.RateLimit.domain()}
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
	return c.JSON(http.StatusCreated, issuedKeyOf(k))
}

func (a *API) listKeys(c echo.Context) error {
	q, limit, cursor, err := pageParams(c, "state")
	if err != nil {
		return err
	}
	after, err := afterCursor(cursor)
	if err != nil {
		return err
	}
	keys, next, err := a.svc.Keys(c.Request().Context(), issue.State(q.Get("state")), after, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, KeyPage{Keys: listOf(keys, keyOf), NextCursor: nextCursor(next)})
}

func (a *API) getKey(c echo.Context) error {
	k, err := a.svc.Key(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, keyOf(k))
}

type rotateBody struct {
	GraceSeconds *int64 `json:"grace_seconds"`
}

func (a *API) rotateKey(c echo.Context) error {
	var b rotateBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	maxGrace := int64(issue.MaxGrace / time.Second)
	if b.GraceSeconds == nil {
		return invalid("grace_seconds", "is required: how long the old key keeps working (0 ends it now)")
	}
	if *b.GraceSeconds < 0 || *b.GraceSeconds > maxGrace {
		return invalid("grace_seconds", "must be between 0 and "+strconv.FormatInt(maxGrace, 10))
	}
	k, err := a.svc.RotateKey(c.Request().Context(), c.Param("id"), time.Duration(*b.GraceSeconds)*time.Second, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, issuedKeyOf(k))
}

func (a *API) revokeKey(c echo.Context) error {
	return a.changeKey(c, func(ctx context.Context, id string) (issue.Key, error) {
		return a.svc.RevokeKey(ctx, id, actorOf(c))
	})
}

func (a *API) disableKey(c echo.Context) error {
	return a.changeKey(c, func(ctx context.Context, id string) (issue.Key, error) {
		return a.svc.SetKeyDisabled(ctx, id, true, actorOf(c))
	})
}

func (a *API) enableKey(c echo.Context) error {
	return a.changeKey(c, func(ctx context.Context, id string) (issue.Key, error) {
		return a.svc.SetKeyDisabled(ctx, id, false, actorOf(c))
	})
}

// setKeyRateLimit is PUT /v1/keys/:id/rate-limit: the key's own rate limit,
// {"requests", "window_seconds", "burst"?}.
func (a *API) setKeyRateLimit(c echo.Context) error {
	var b RateLimit
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	k, err := a.svc.SetKeyRateLimit(c.Request().Context(), c.Param("id"), b.domain(), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, keyOf(k))
}

// clearKeyRateLimit is DELETE /v1/keys/:id/rate-limit: the key has no limit
// of its own any more (a route's rate= still applies).
func (a *API) clearKeyRateLimit(c echo.Context) error {
	return a.changeKey(c, func(ctx context.Context, id string) (issue.Key, error) {
		return a.svc.SetKeyRateLimit(ctx, id, nil, actorOf(c))
	})
}

// changeKey runs a body-less change of key :id: the body may be empty or {}.
func (a *API) changeKey(c echo.Context, change func(context.Context, string) (issue.Key, error)) error {
	if err := noBody(c); err != nil {
		return err
	}
	k, err := change(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, keyOf(k))
}
