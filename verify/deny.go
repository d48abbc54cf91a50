package verify

import (
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/labstack/echo/v4"
)

// This file holds how a verify endpoint says no: the deny bodies and
// challenges built once, the answer per status, and the deny log line that
// ties a request id to its reason.

type scopeError struct {
	principal *Principal
	scope     string
}

func (e *scopeError) Error() string { return "missing scope " + e.scope }
func (e *scopeError) Unwrap() error { return ErrForbidden }

// Deny bodies that never change, encoded once.
var (
	bodyMissing = mustJSON(denyBody{CodeMissingCredential,
		"send an API key in the X-API-Key header or as Authorization: Bearer"})
	bodyInvalid = mustJSON(denyBody{CodeInvalidToken,
		"the credential is malformed, unknown, expired, disabled or revoked"})
	bodyBadPath = mustJSON(denyBody{CodeInvalidPath,
		"the request path cannot be normalised safely (a .. above the root, a . or .. made by %-escapes, a bad %-escape or a control character)"})
	bodyMisconfigured = mustJSON(denyBody{CodeProxyMisconfigured,
		"the proxy did not call authgate the way this endpoint needs (see authgate's log)"})
	bodyServer = mustJSON(denyBody{CodeServerError,
		"authgate could not check the credential; the request is denied (see authgate's log)"})
)

var connectionClose = []string{"close"}

// contentTypeJSON is a deny body's Content-Type as an http.Header holds it,
// built once: Echo's JSONBlob sets one only when none is set, with Set,
// which allocates.
var contentTypeJSON = []string{echo.MIMEApplicationJSON}

// writeDeny answers status with a JSON deny body, allocating nothing.
func writeDeny(c echo.Context, status int, body []byte) error {
	c.Response().Header()[echo.HeaderContentType] = contentTypeJSON
	return c.JSONBlob(status, body)
}

const (
	challengeMissing = `Bearer realm="authgate"`
	challengeInvalid = `Bearer realm="authgate", error="invalid_token"`
)

// headerWWWAuthenticate is WWW-Authenticate as an http.Header keys it, and
// the challenges as its values, built once: a deny sets them with no
// allocation.
const headerWWWAuthenticate = "Www-Authenticate"

var (
	challengeMissingValue = []string{challengeMissing}
	challengeInvalidValue = []string{challengeInvalid}
)

type denyBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// deny answers a subrequest refused with err, as d (which has noted err)
// says, and logs why. The client learns the status and a short code; the log
// learns the reason, never the credential.
func (h *Handler) deny(c echo.Context, p *convention, d *Decision, req *Requirement, err error) error {
	return h.answer(c, p, d, req, err, "")
}

// answer is deny, naming in the log the portal page a browser is sent to
// (page), when the proxy's configuration does the redirecting.
func (h *Handler) answer(c echo.Context, p *convention, d *Decision, req *Requirement, err error, page string) error {
	status, code := Status(err)
	hdr := c.Response().Header()
	var body []byte
	switch code {
	case CodeMissingCredential:
		hdr[headerWWWAuthenticate] = challengeMissingValue
		body = bodyMissing
	case CodeInvalidToken:
		hdr[headerWWWAuthenticate] = challengeInvalidValue
		body = bodyInvalid
	case CodeInsufficientScope:
		hdr[headerWWWAuthenticate] = req.challenge
		body = mustJSON(denyBody{code, "this route needs " + req.needs})
	case CodeInvalidPath:
		body = bodyBadPath // no challenge: no credential would help
	case CodeProxyMisconfigured:
		body = bodyMisconfigured
		var ce *ConfigError
		if errors.As(err, &ce) && ce != nil { // its message is written to be shown
			body = mustJSON(denyBody{code, ce.Msg})
		}
	default:
		body = bodyServer
	}
	h.logDeny(c, p, d, logLevel(code, err), status, err, page)
	if !p.denyBody {
		c.Response().WriteHeader(status)
		return nil
	}
	return writeDeny(c, status, body)
}

// logLevel is how loud a deny is: a request without a credential is routine,
// a proxy or authgate failing is an error.
func logLevel(code string, err error) slog.Level {
	switch code {
	case CodeMissingCredential:
		if errors.As(err, new(*cookieError)) { // a browser whose session ended or was refused
			return slog.LevelInfo
		}
		return slog.LevelDebug
	case CodeProxyMisconfigured, CodeServerError:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// logDeny writes why a request was refused, and sets the request id that ties
// what the client is shown to that log line. d is the request's Decision,
// which has noted err: the flood budget counts by its time, reason and stripe.
// page is the portal page a browser was sent to, if any.
func (h *Handler) logDeny(c echo.Context, p *convention, d *Decision, level slog.Level, status int, err error, page string) {
	id, value := h.requestID(c.Request().Header, d.Stripe())
	c.Response().Header()[echo.HeaderXRequestID] = value // the key is canonical already: no Set, which would canonicalise
	ctx := c.Request().Context()
	if !h.log.Enabled(ctx, level) {
		return
	}
	full, summary := h.denyLog.take(d.At, d.Reason, d.Stripe())
	if summary != nil {
		h.log.LogAttrs(ctx, slog.LevelWarn, "deny log suppressed", summary...)
	}
	if !full {
		return
	}
	// Attrs, not key-value pairs: slog keeps up to five in the record itself,
	// so the common line boxes and allocates nothing for its fields.
	var buf [7]slog.Attr
	attrs := append(buf[:0], slog.String("endpoint", p.name), slog.Int("status", status),
		slog.String("reason", err.Error()), slog.String("request_id", id))
	if page != "" {
		attrs = append(attrs, slog.String("redirect", page))
	}
	// Who was refused, for a missing scope or a rate limit: found by walking
	// the chain (errors.As would move its target to the heap on every line).
chain:
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch x := e.(type) {
		case *scopeError:
			attrs = who(attrs, x.principal)
			break chain
		case *rateError:
			attrs = who(attrs, x.principal)
			break chain
		}
	}
	h.log.LogAttrs(ctx, level, "deny", attrs...)
}

// who appends to attrs what names a principal in a log line, by what
// identifies its credential: never the credential itself.
func who(attrs []slog.Attr, p *Principal) []slog.Attr {
	switch p.Kind {
	case KindJWT, KindSession:
		return append(attrs, slog.String("subject", p.Subject), slog.String("session_id", p.SessionID))
	case KindPersonalToken:
		return append(attrs, slog.String("subject", p.Subject), slog.String("token_id", p.KeyID))
	case KindExternalJWT:
		return append(attrs, slog.String("subject", p.Subject))
	}
	return append(attrs, slog.String("key_id", p.KeyID))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
