package issue

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/verify"
)

// SetKeySet gives the API the instance's signing keys: GET
// /.well-known/jwks.json publishes them and POST /v1/signing-keys/rotate
// rotates them. Call it before serving; without it both answer that signing
// keys are not set up.
func (a *API) SetKeySet(keys *KeySet) { a.keys = keys }

// jwks serves the public signing keys. They change only on rotation, which
// publishes the new key at once; a short max-age lets verifiers elsewhere see
// it soon.
func (a *API) jwks(c echo.Context) error {
	if a.keys == nil {
		return verify.ErrNotFound
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=60")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, a.keys.JWKS())
}

func (a *API) rotateSigningKey(c echo.Context) error {
	var empty struct{}
	if err := decode(c.Request(), &empty, true); err != nil {
		return err
	}
	if a.keys == nil {
		return &StateError{Msg: "signing keys are not set up on this server"}
	}
	rot, err := a.keys.Rotate(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, rot)
}
