package issue

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// me is GET /v1/me: the calling user, with roles, permissions and the session
// its access token belongs to.
func (a *API) me(c echo.Context) error {
	p := callerOf(c).Principal
	prof, err := a.svc.Profile(c.Request().Context(), p.Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		Profile
		SessionID string `json:"session_id"`
	}{prof, p.SessionID})
}

// sessionView is a session in a list, marked when it is the caller's own.
type sessionView struct {
	Session
	Current bool `json:"current"`
}

type sessionPage struct {
	Sessions []sessionView `json:"sessions"`
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
	list, err := a.svc.Sessions(c.Request().Context(), userID)
	if err != nil {
		return err
	}
	page := sessionPage{Sessions: make([]sessionView, len(list))}
	for i, s := range list {
		page.Sessions[i] = sessionView{Session: s, Current: current != "" && s.ID == current}
	}
	return c.JSON(http.StatusOK, page)
}

// revokeUserSessions is DELETE /v1/users/:id/sessions: ends them all.
func (a *API) revokeUserSessions(c echo.Context) error {
	ids, err := a.svc.RevokeUserSessions(c.Request().Context(), c.Param("id"), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		Revoked []string `json:"revoked"`
	}{ids})
}
