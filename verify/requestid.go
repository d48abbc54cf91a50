package verify

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// MaxRequestIDLen is the longest request id ValidRequestID accepts.
const MaxRequestIDLen = 64

// ValidRequestID reports whether id may be used as a request id as it is: 1 to
// MaxRequestIDLen bytes, each visible ASCII (0x21 to 0x7e, so no space, no
// control byte, nothing beyond ASCII). Such an id is safe to echo in a header
// and to write in a log line. Callers replace an invalid one with their own
// rather than repair it.
func ValidRequestID(id string) bool {
	return id != "" && len(id) <= MaxRequestIDLen && visibleASCII(id)
}

// requestID returns the id the proxy gave the request (nginx: proxy_set_header
// X-Request-Id $request_id), or a new one when it gave none or an invalid one,
// and the header value that carries it back. New ids are a per-handler random
// prefix, the request's stripe and that stripe's counter: unique, and cheap on
// a deny path that a flood of garbage credentials can drive, from every core
// at once (each counts on a stripe of its own). The proxy's own value is
// handed back as it came (the request's header slice, never written to): no
// allocation.
func (h *Handler) requestID(hdr http.Header, stripe int) (string, []string) {
	if vals := hdr[echo.HeaderXRequestID]; len(vals) == 1 && ValidRequestID(vals[0]) {
		return vals[0], vals[:1:1]
	}
	var buf [40]byte
	b := strconv.AppendUint(append(buf[:0], h.idPrefix...), uint64(stripe), 36)
	b = strconv.AppendUint(append(b, '-'), h.idSeqs[stripe].n.Add(1), 36)
	id := string(b)
	return id, []string{id}
}

// RequestID is Echo middleware giving every request of the management API and
// the portal an id: the client's own X-Request-Id when ValidRequestID accepts
// it, else a new random one. The id is set on the request (for the request
// log, the audit rows and the 500 page) and on the answer.
func RequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		id := r.Header.Get(echo.HeaderXRequestID)
		if !ValidRequestID(id) {
			id = RandomString(20)
			r.Header.Set(echo.HeaderXRequestID, id)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}
