package api

import (
	"bytes"
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument is the management API's OpenAPI 3.0 document, written by
// hand. TestOpenAPI_AgreesWithRoutes holds it to the route table, and the
// API tests validate every answer they receive against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the management API's OpenAPI 3.0 document (JSON): every
// route of the route table, plus /healthz, /readyz and /metrics, which
// cmd/authgate serves. Each operation names who it admits in x-authgate-access (open,
// anybody, user, perm) and the permission it needs in x-authgate-permission.
func OpenAPI() []byte { return bytes.Clone(openAPIDocument) }

// openAPI is GET /openapi.json.
func (a *API) openAPI(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDocument)
}
