package issue

import (
	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/verify"
)

// requestID gives every management request an id, in the X-Request-Id header
// of the request (for the request log) and of the answer, and in its audit
// rows: the client's own when it is usable (verify.ValidRequestID: visible
// ASCII, bounded), else a new random one. Register puts it first.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		id := r.Header.Get(echo.HeaderXRequestID)
		if !verify.ValidRequestID(id) {
			id = verify.RandomString(20)
			r.Header.Set(echo.HeaderXRequestID, id)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// requestActor is the Actor of a request before authentication: anonymous,
// from where it came, holding nothing. Its user agent is cleaned and bounded
// and its request id is the one requestID settled on, so no byte a client
// sends can make an audit row fail to insert.
func requestActor(c echo.Context) Actor {
	return Actor{ID: "anonymous", IP: c.RealIP(), UserAgent: cleanUserAgent(c.Request().UserAgent()),
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
}
