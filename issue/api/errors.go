package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// ErrorBody is the JSON every management error answers with.
type ErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// statuses maps the issuer's sentinels to a status, a code and the message a
// client gets when the error carries none of its own (issue.ClientError).
// The first row an error Is wins; anything else is a 500.
var statuses = []struct {
	err    error
	status int
	code   string
	msg    string
}{
	{issue.ErrInvalid, http.StatusBadRequest, "invalid_request", "Bad Request"},
	{issue.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated", wantCredential},
	{issue.ErrPermission, http.StatusForbidden, "forbidden", "Forbidden"},
	{issue.ErrThrottled, http.StatusTooManyRequests, "too_many_requests", "Too Many Requests"},
	{issue.ErrBusy, http.StatusServiceUnavailable, "busy", "Service Unavailable"},
	{verify.ErrNotFound, http.StatusNotFound, "not_found", "no such resource"},
	{issue.ErrConflict, http.StatusConflict, "conflict", "Conflict"},
}

// echoCodes are the codes of the errors Echo itself answers with: an unknown
// path, a wrong method, a body too large.
var echoCodes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "request_entity_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusTooManyRequests:       "too_many_requests",
	http.StatusServiceUnavailable:    "service_unavailable",
}

// Status maps an error to its HTTP status, code and client-safe message.
// Anything unrecognised is a 500 whose detail stays in the log.
func Status(err error) (status int, code, msg string) {
	status, code, msg = http.StatusInternalServerError, "server_error", http.StatusText(http.StatusInternalServerError)
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			status, code, msg = s.status, s.code, s.msg
			break
		}
	}
	var he *echo.HTTPError
	var ce issue.ClientError
	switch {
	case status != http.StatusInternalServerError && errors.As(err, &ce):
		msg = ce.ClientMessage()
	case status == http.StatusInternalServerError && errors.As(err, &he):
		status, code, msg = he.Code, echoCodes[he.Code], http.StatusText(he.Code)
		if code == "" {
			code = "error"
		}
	}
	return status, code, msg
}

// ErrorHandler answers errors returned by handlers: the status and a safe
// message for the client; 5xx details go to the log. Unknown errors are 500s.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, code, msg := Status(err)
		h := c.Response().Header()
		if te, ok := errors.AsType[*issue.ThrottleError](err); ok {
			h.Set("Retry-After", strconv.FormatInt(max(1, int64((te.RetryAfter+time.Second-1)/time.Second)), 10))
		}
		if status == http.StatusUnauthorized {
			h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="authgate"`)
		}
		if status >= 500 { // the request log carries the rest
			log.Error("api error", "method", c.Request().Method, "path", c.Path(), "status", status,
				"err", err.Error(), "request_id", h.Get(echo.HeaderXRequestID))
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, ErrorBody{Error: code, Description: msg})
	}
}
