package verify

import (
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// Routes served by Handler.
const (
	PathForwardAuth = "/forward-auth"
	PathAuthRequest = "/auth-request"
)

// convention is what differs between proxies: where the original request is
// reported, whether a deny may carry a body, and how a browser is redirected.
type convention struct {
	name     string
	endpoint Endpoint
	target   func(http.Header) (Target, error)
	denyBody bool // nginx drops deny bodies and closes the connection when there is one
	// redirect returns the status that sends the browser to Location, for an
	// original request with this method; nil: the deny's own status carries
	// Location, and the proxy's configuration redirects (nginx's error_page).
	redirect func(method string) int
}

var (
	forwardAuth = &convention{name: "forward-auth", endpoint: EndpointForwardAuth, target: ForwardedTarget, denyBody: true, redirect: foundOrSeeOther}
	authRequest = &convention{name: "auth-request", endpoint: EndpointAuthRequest, target: OriginalTarget, denyBody: false}
)

// Handler answers proxy subrequests. See the package documentation for the contract.
type Handler struct {
	verifier *Verifier
	log      *slog.Logger
	portal   Portal   // nil: never redirect
	observer Observer // nil: nobody is told
	limiter  *Limiter // the routes' rate limits
	denyLog  *denyLogBudget
	// decisions recycles the Decision each answer fills for the observer,
	// so that observing costs no allocation; slots numbers the Decisions it
	// makes (Decision.Slot).
	decisions sync.Pool
	slots     atomic.Uint32

	cookie bool // the verifier reads session cookies

	// reqs maps a raw verify-URL query to its Requirement, parsed once. Every
	// request reads it; it is replaced whole, never written, when a query is
	// added (as rare as a new verify URL in the proxy's configuration), so a
	// lookup is a plain map read. reqsMu serialises the replacements.
	reqs   atomic.Pointer[map[string]*Requirement]
	reqsMu sync.Mutex

	idPrefix string          // random per handler, so ids differ across instances
	idSeqs   []paddedCounter // per stripe: numbers the ids made under it
}

// maxRequirements bounds the parsed-requirement cache. A deployment has as many
// distinct verify URLs as protected routes; past the bound, queries are parsed
// per request rather than letting a client grow memory.
const maxRequirements = 1024

// NewHandler returns a Handler that authenticates with v, redirecting
// browsers as o says.
func NewHandler(v *Verifier, log *slog.Logger, o HandlerOptions) *Handler {
	if o.Limiter == nil {
		var now func() time.Time
		if v != nil {
			now = v.now
		}
		o.Limiter = NewLimiter(DefaultLimiterCells, now)
	}
	if o.DenyLogRate == 0 {
		o.DenyLogRate = DefaultDenyLogRate
	}
	h := &Handler{limiter: o.Limiter, denyLog: newDenyLogBudget(int64(o.DenyLogRate)), verifier: v, log: log, portal: o.Portal, observer: o.Observer, cookie: v != nil && v.cookie != "",
		idPrefix: RandomString(8) + "-", idSeqs: make([]paddedCounter, Stripes)}
	h.decisions.New = func() any { return &Decision{Slot: h.slots.Add(1) - 1} }
	return h
}

// Register adds the verify routes to e, for every HTTP method.
func (h *Handler) Register(e *echo.Echo) {
	e.Any(PathForwardAuth, func(c echo.Context) error { return h.serve(c, forwardAuth) })
	e.Any(PathAuthRequest, func(c echo.Context) error { return h.serve(c, authRequest) })
}

// serve answers one subrequest and, when there is an observer, tells it
// what was decided. Every answer fills a Decision from the handler's pool:
// its slot is also the stripe of what a deny writes (see Stripes).
func (h *Handler) serve(c echo.Context, p *convention) error {
	d := h.decisions.Get().(*Decision)
	if h.observer == nil {
		*d = Decision{Endpoint: p.endpoint, Slot: d.Slot, At: h.now()}
		err := h.decide(c, p, d)
		h.decisions.Put(d)
		return err
	}
	start := time.Now()
	*d = Decision{Endpoint: p.endpoint, Slot: d.Slot, At: h.clock(start)}
	err := h.decide(c, p, d)
	d.Elapsed = time.Since(start)
	h.observer.Observe(d)
	h.decisions.Put(d)
	return err
}

// now is the verifier's clock (the wall clock without a verifier).
func (h *Handler) now() time.Time {
	if h.verifier != nil {
		return h.verifier.now()
	}
	return time.Now()
}

// clock is the verifier's time for a request that reached the handler at
// start (time.Now): start itself when the verifier keeps the wall clock. A
// clock read costs about 0.1 µs on a VM, and every request needs one.
func (h *Handler) clock(start time.Time) time.Time {
	if h.verifier == nil || h.verifier.wall {
		return start
	}
	return h.verifier.now()
}

// decide answers one subrequest at the verifier's time d.At, noting in d what
// it decided. It is the whole hot path, and never reads or waits
// for the request body.
func (h *Handler) decide(c echo.Context, p *convention, d *Decision) error {
	r := c.Request()
	// 0. Never wait for a body. A proxy may announce one it does not send (nginx
	// without proxy_set_header Content-Length ""); Go's server would read it
	// before answering. Closing after the answer makes it skip that read.
	if r.ContentLength != 0 {
		c.Response().Header()[echo.HeaderConnection] = connectionClose
	}
	// 1. What the route requires, from the verify URL in the proxy config.
	req, err := h.requirement(r.URL.RawQuery)
	if err != nil {
		d.note(credRef{}, err)
		return h.deny(c, p, d, nil, err)
	}
	// 2. What the client is reaching, its path normalised as the proxy routes it.
	t, err := p.target(r.Header)
	if err != nil {
		d.note(credRef{}, err)
		return h.deny(c, p, d, req, err)
	}
	// 3. Who is asking: the credential in the headers, else the session cookie.
	principal, ref, err := h.identify(r, req, &t, d.At)
	if err != nil {
		d.note(ref, err)
		return h.refuse(c, p, d, req, &t, err)
	}
	// 4. May they.
	if s := req.Missing(principal); s != "" {
		err := &scopeError{principal: principal, scope: s}
		d.note(ref, err)
		return h.refuse(c, p, d, req, &t, err)
	}
	// 5. Not too often: the credential's own rate limit, then the route's.
	if err := h.rateLimit(principal, req); err != nil {
		d.note(ref, err)
		return h.rateLimited(c, p, d, err)
	}
	// 6. Tell the upstream: every identity header, every time.
	d.note(ref, nil)
	principal.WriteHeaders(c.Response().Header())
	c.Response().WriteHeader(http.StatusOK)
	return nil
}

// note records in d the credential and what err decided.
func (d *Decision) note(ref credRef, err error) {
	d.Kind, d.CredentialID, d.Reason = ref.kind, ref.id, ReasonOf(err)
	switch d.Reason {
	case ReasonNone:
		d.Outcome = OutcomeAllow
	case ReasonRateLimited:
		d.Outcome = OutcomeRateLimited
	case ReasonMisconfigured, ReasonInternal:
		d.Outcome = OutcomeError
	default:
		d.Outcome = OutcomeDeny
	}
}

// identify returns who is asking: the credential the headers (or the
// opted-in query parameter) carry; without one, the session cookie. A session
// is read from its cookie only: a script has no business holding one, and a
// query string ends up in access logs.
func (h *Handler) identify(r *http.Request, req *Requirement, t *Target, at time.Time) (*Principal, credRef, error) {
	cred, err := Credential(r.Header, req.QueryParam, t.URI)
	switch {
	case err == nil && strings.HasPrefix(cred, PrefixSession):
		return nil, credRef{kind: KindSession}, errSessionInHeader
	case err == nil:
		return h.verifier.authenticate(r.Context(), cred, at)
	case errors.Is(err, ErrNoCredential) && h.cookie:
		p, err := h.verifier.authenticateCookie(r.Context(), r.Header, t.Host, at)
		if err == ErrNoCredential { //nolint:errorlint // exactly the sentinel: no cookie at all, not a refused one
			return nil, credRef{}, err // no cookie at all
		}
		return p, credRef{kind: KindSession}, err
	}
	return nil, credRef{}, err
}

func (h *Handler) requirement(rawQuery string) (*Requirement, error) {
	reqs := h.reqs.Load()
	if reqs != nil {
		if req, ok := (*reqs)[rawQuery]; ok {
			return req, nil
		}
	}
	req, err := ParseRequirement(rawQuery)
	if err != nil {
		return nil, err
	}
	if reqs == nil || len(*reqs) < maxRequirements { // past the bound, no lock: parsed per request
		h.remember(rawQuery, req)
	}
	return req, nil
}

// remember adds req, parsed from rawQuery, to the requirements every request
// reads, unless maxRequirements are held: a new map with it replaces the old.
func (h *Handler) remember(rawQuery string, req *Requirement) {
	h.reqsMu.Lock()
	defer h.reqsMu.Unlock()
	old := map[string]*Requirement{}
	if p := h.reqs.Load(); p != nil {
		old = *p
	}
	if _, ok := old[rawQuery]; ok || len(old) >= maxRequirements {
		return
	}
	m := make(map[string]*Requirement, len(old)+1)
	maps.Copy(m, old)
	m[strings.Clone(rawQuery)] = req // not the request's memory
	h.reqs.Store(&m)
}

// rateLimit takes one request of p from its own rate limit and the route's,
// and returns a *rateError for the first one it is over, or nil. A request
// refused by the route's limit has still used the credential's own.
func (h *Handler) rateLimit(p *Principal, req *Requirement) *rateError {
	if p.RateLimit.Requests > 0 && p.RateLimit.Valid() { // the store checks its rules; this never trusts one that overflows
		if v := h.limiter.Allow(p.rateLimitID(), "", p.RateLimit); !v.Allowed {
			return &rateError{principal: p, rule: p.RateLimit, verdict: v, own: true}
		}
	}
	if req.Rate != nil {
		if v := h.limiter.Allow(p.rateLimitID(), req.rateWhere, *req.Rate); !v.Allowed {
			return &rateError{principal: p, rule: *req.Rate, verdict: v}
		}
	}
	return nil
}

// rateError is a credential over a rate limit: its own, or the route's.
type rateError struct {
	principal *Principal
	rule      RateRule
	verdict   Verdict
	own       bool // the credential's own limit, not the route's
}

func (e *rateError) Error() string {
	if e.own {
		return "over the credential's own rate limit " + e.rule.String()
	}
	return "over the route's rate limit " + e.rule.String()
}
func (e *rateError) Unwrap() error { return ErrRateLimited }

// rateLimited answers a request over a route's rate limit: 429 with
// Retry-After and the RateLimit and RateLimit-Policy headers (IETF
// draft-ietf-httpapi-ratelimit-headers). /auth-request answers 403 with the
// same headers, since nginx's auth_request passes no other refusal: the
// shipped nginx configuration turns a 403 carrying Retry-After into a 429.
func (h *Handler) rateLimited(c echo.Context, p *convention, d *Decision, e *rateError) error {
	hdr := c.Response().Header()
	retry := int64((e.verdict.RetryAfter + time.Second - 1) / time.Second)
	hdr.Set("Retry-After", strconv.FormatInt(retry, 10))
	policy, whose := `"route"`, "this route's"
	if e.own {
		policy, whose = `"credential"`, "this credential's"
	}
	hdr.Set("RateLimit-Policy", policy+`;q=`+strconv.Itoa(e.rule.Burst)+`;w=`+
		strconv.FormatInt(int64((e.rule.Window*time.Duration(e.rule.Burst)/time.Duration(e.rule.Requests)+time.Second-1)/time.Second), 10))
	hdr.Set("RateLimit", policy+`;r=0;t=`+strconv.FormatInt(retry, 10))
	status := http.StatusTooManyRequests
	if !p.denyBody {
		status = http.StatusForbidden
	}
	h.logDeny(c, p, d, slog.LevelInfo, status, e, "")
	if !p.denyBody {
		c.Response().WriteHeader(status)
		return nil
	}
	return writeDeny(c, status, mustJSON(denyBody{CodeRateLimited, "over " + whose + " rate limit of " +
		strconv.Itoa(e.rule.Requests) + " requests per " + e.rule.Window.String() + "; retry after " +
		strconv.FormatInt(retry, 10) + " s"}))
}
