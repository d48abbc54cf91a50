package api

import (
	"maps"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// CredentialUsage is a credential's verify answers per hour: the answer of
// GET /v1/keys/:id/usage and of the personal-token usage routes.
type CredentialUsage struct {
	CredentialID string      `json:"credential_id"`
	Since        time.Time   `json:"since"` // the range's start in force (default: 7 days ago)
	Usage        []UsageHour `json:"usage"` // newest first; an hour without answers is absent
	// NextUntil, when set, is the ?until= that continues with older hours:
	// an answer holds at most issue.MaxUsageHours hours.
	NextUntil *time.Time `json:"next_until"`
}

// UsageHour is one hour of a credential's answers.
type UsageHour struct {
	Hour    time.Time `json:"hour"` // its start, UTC
	Allowed int64     `json:"allowed"`
	// Denied counts refusals by reason: wrong_secret, expired, disabled,
	// revoked, missing_scope, rate_limited (a reason without any is absent).
	Denied map[string]int64 `json:"denied"`
}

func credentialUsageOf(id string, u issue.Usage) CredentialUsage {
	return CredentialUsage{CredentialID: id, Since: u.Since.UTC(), NextUntil: u.Next,
		Usage: listOf(u.Hours, func(h issue.UsageHour) UsageHour {
			denied := map[string]int64{}
			maps.Copy(denied, h.Denied)
			return UsageHour{Hour: h.Hour, Allowed: h.Allowed, Denied: denied}
		})}
}

// usageRange reads ?since= and ?until= (RFC 3339, both optional); any other
// query parameter is a 400.
func usageRange(c echo.Context) (issue.UsageRange, error) {
	q, err := queryParams(c)
	if err != nil {
		return issue.UsageRange{}, err
	}
	var r issue.UsageRange
	for name, vs := range q {
		if name != "since" && name != "until" {
			return r, invalid(name, "unknown query parameter; use since, until")
		}
		if len(vs) > 1 {
			return r, invalid(name, "must be given once")
		}
	}
	since, err := queryTime(q.Get("since"), "since")
	if err != nil {
		return r, err
	}
	until, err := queryTime(q.Get("until"), "until")
	if err != nil {
		return r, err
	}
	if since != nil {
		r.Since = *since
	}
	if until != nil {
		r.Until = *until
	}
	return r, nil
}

// keyUsage is GET /v1/keys/:id/usage.
func (a *API) keyUsage(c echo.Context) error {
	r, err := usageRange(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	u, err := a.svc.KeyUsage(c.Request().Context(), id, r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, credentialUsageOf(id, u))
}

// myTokenUsage is GET /v1/me/tokens/:id/usage. Another user's token is a 404.
func (a *API) myTokenUsage(c echo.Context) error {
	return a.tokenUsage(c, callerOf(c).Principal.Subject, pathParam(c, "id"))
}

// userTokenUsage is GET /v1/users/:id/tokens/:tid/usage. A token of another user is a 404.
func (a *API) userTokenUsage(c echo.Context) error {
	return a.tokenUsage(c, pathParam(c, "id"), pathParam(c, "tid"))
}

func (a *API) tokenUsage(c echo.Context, userID, tokenID string) error {
	r, err := usageRange(c)
	if err != nil {
		return err
	}
	u, err := a.svc.TokenUsage(c.Request().Context(), userID, tokenID, r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, credentialUsageOf(tokenID, u))
}
