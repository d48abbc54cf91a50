package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// Rotation is the answer of POST /v1/signing-keys/rotate.
type Rotation struct {
	KID      string    `json:"kid"`       // the new signing key, published and signing at once
	Retiring []string  `json:"retiring"`  // the keys it replaces
	RetireAt time.Time `json:"retire_at"` // they verify until then
}

// jwks serves the public signing keys. They change only on rotation, which
// publishes the new key at once; a short max-age lets verifiers elsewhere see
// it soon.
func (a *API) jwks(c echo.Context) error {
	if a.signing == nil {
		return verify.ErrNotFound
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=60")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, a.signing.JWKS())
}

func (a *API) rotateSigningKey(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	if a.signing == nil {
		return &issue.StateError{Msg: "signing keys are not set up on this server"}
	}
	rot, err := a.signing.Rotate(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, Rotation{KID: rot.KID, Retiring: list(rot.Retiring), RetireAt: rot.RetireAt})
}
