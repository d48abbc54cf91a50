package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// Session is a login session as the API shows it, marked when it is the
// caller's own.
type Session struct {
	ID            string     `json:"id"` // ses_…
	UserID        string     `json:"user_id"`
	Kind          string     `json:"kind"`        // api (tokens) or browser (the portal's cookie)
	DeviceName    string     `json:"device_name"` // as named at login, or ""
	CreatedAt     time.Time  `json:"created_at"`
	LastSeenAt    time.Time  `json:"last_seen_at"` // the last refresh, or the cookie's last use (to the minute)
	RefreshedAt   time.Time  `json:"refreshed_at"` // the same as last_seen_at, kept for earlier clients
	IdleExpiresAt time.Time  `json:"idle_expires_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	RevokedAt     *time.Time `json:"revoked_at"`
	RevokeReason  *string    `json:"revoke_reason"`
	IP            string     `json:"ip"`
	UserAgent     string     `json:"user_agent"`
	Current       bool       `json:"current"`
}

func sessionOf(s issue.Session, current string) Session {
	return Session{ID: s.ID, UserID: s.UserID, Kind: s.Kind, DeviceName: s.DeviceName, CreatedAt: s.CreatedAt,
		LastSeenAt: s.RefreshedAt, RefreshedAt: s.RefreshedAt,
		IdleExpiresAt: s.IdleExpiresAt, ExpiresAt: s.ExpiresAt, RevokedAt: s.RevokedAt, RevokeReason: s.RevokeReason,
		IP: s.IP, UserAgent: s.UserAgent, Current: current != "" && s.ID == current}
}

// SessionPage is a user's live sessions, oldest first.
type SessionPage struct {
	Sessions []Session `json:"sessions"`
}

// RevokedSessions is the answer of DELETE /v1/users/:id/sessions.
type RevokedSessions struct {
	Revoked []string `json:"revoked"`
}

// mySessions is GET /v1/me/sessions: the caller's live sessions, oldest first.
func (a *API) mySessions(c echo.Context) error {
	p := callerOf(c).Principal
	return a.listSessions(c, p.Subject, p.SessionID)
}

// endMySession is DELETE /v1/me/sessions/:id. Another user's session is a 404.
func (a *API) endMySession(c echo.Context) error {
	caller := callerOf(c)
	if err := a.svc.EndSession(c.Request().Context(), caller.Principal.Subject, c.Param("id"), caller.Actor); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// userSessions is GET /v1/users/:id/sessions.
func (a *API) userSessions(c echo.Context) error { return a.listSessions(c, c.Param("id"), "") }

func (a *API) listSessions(c echo.Context, userID, current string) error {
	sessions, err := a.svc.Sessions(c.Request().Context(), userID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, SessionPage{Sessions: listOf(sessions, func(s issue.Session) Session {
		return sessionOf(s, current)
	})})
}

// revokeUserSessions is DELETE /v1/users/:id/sessions: ends them all.
func (a *API) revokeUserSessions(c echo.Context) error {
	ids, err := a.svc.RevokeUserSessions(c.Request().Context(), c.Param("id"), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, RevokedSessions{Revoked: list(ids)})
}
