package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// Identity is an external identity linked to a user, as the API shows it.
type Identity struct {
	Provider     string    `json:"provider"` // the configured provider's id when it was linked
	Issuer       string    `json:"issuer"`
	Subject      string    `json:"subject"`
	Email        string    `json:"email"` // as the provider gave it at the last sign-in
	LinkedAt     time.Time `json:"linked_at"`
	LastSignInAt time.Time `json:"last_sign_in_at"`
}

func identityOf(l issue.LinkedIdentity) Identity {
	return Identity{Provider: l.Provider, Issuer: l.Issuer, Subject: l.Subject, Email: l.Email,
		LinkedAt: l.LinkedAt, LastSignInAt: l.LastSignInAt}
}

// IdentityPage is a user's linked identities, oldest first.
type IdentityPage struct {
	Identities []Identity `json:"identities"`
}

// unlinkBody names the identity to unlink.
type unlinkBody struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
}

// myIdentities is GET /v1/me/identities.
func (a *API) myIdentities(c echo.Context) error {
	return a.listIdentities(c, callerOf(c).Principal.Subject)
}

// userIdentities is GET /v1/users/:id/identities.
func (a *API) userIdentities(c echo.Context) error { return a.listIdentities(c, pathParam(c, "id")) }

func (a *API) listIdentities(c echo.Context, userID string) error {
	list, err := a.svc.Identities(c.Request().Context(), userID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, IdentityPage{Identities: listOf(list, identityOf)})
}

// unlinkMyIdentity is DELETE /v1/me/identities {issuer, subject}. Another
// user's identity is a 404.
func (a *API) unlinkMyIdentity(c echo.Context) error {
	caller := callerOf(c)
	return a.unlink(c, caller.Principal.Subject, caller.Actor)
}

// unlinkUserIdentity is DELETE /v1/users/:id/identities {issuer, subject}:
// the caller must hold every permission of the user (the authority rule).
func (a *API) unlinkUserIdentity(c echo.Context) error {
	return a.unlink(c, pathParam(c, "id"), actorOf(c))
}

func (a *API) unlink(c echo.Context, userID string, by issue.Actor) error {
	var b unlinkBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	if err := a.svc.Unlink(c.Request().Context(), userID, b.Issuer, b.Subject, by); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
