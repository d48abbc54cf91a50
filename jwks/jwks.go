// Package jwks keeps the signing keys of an external JWT issuer (GitHub
// Actions, a Kubernetes cluster, another company's identity provider): its
// JWKS, found through OpenID discovery or named directly, fetched in the
// background and refreshed, with a refetch when a token names an unknown key
// that is rate limited, so that a flood of made-up kids never hammers the
// issuer. It answers from memory otherwise.
//
// The fetching and the JWK parsing are github.com/MicahParks/keyfunc/v3 over
// github.com/MicahParks/jwkset; this package adds discovery with retries, the
// non-blocking refetch policy and logging that names the issuer.
package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// Options say where an issuer's keys are and how often to fetch them. Zero
// values take the defaults shown.
type Options struct {
	// Issuer is the iss its tokens carry; its discovery document is at
	// Issuer + "/.well-known/openid-configuration" and must name the same
	// issuer. Used only when JWKSURL is "".
	Issuer string
	// JWKSURL, when set, is fetched directly, without discovery (Kubernetes
	// API servers, whose discovery needs a credential).
	JWKSURL string
	Client  *http.Client // default: 10 s timeout
	Log     *slog.Logger // default slog.Default()
	// Refresh is how often the JWKS is fetched again; default 5 min.
	Refresh time.Duration
	// UnknownKIDEvery is the least time between two refetches caused by a
	// token naming a key the set does not hold; default 30 s.
	UnknownKIDEvery time.Duration
	// RetryMin and RetryMax bound the pause between discovery attempts of an
	// issuer that did not answer; default 2 s and 5 min, doubling.
	RetryMin, RetryMax time.Duration
}

// Keys is one issuer's key set. It is safe for concurrent use; Close stops
// its background work.
type Keys struct {
	o     Options
	kf    atomic.Pointer[keyfunc.Keyfunc] // nil until the JWKS URL is known
	err   atomic.Pointer[error]           // why the keys are not known yet, for the log
	stop  context.CancelFunc
	done  chan struct{}
	limit *rate.Limiter
}

// Errors Key returns. Both mean the token must be refused.
var (
	// ErrNotReady means the issuer's JWKS URL is not known yet: discovery has
	// not succeeded.
	ErrNotReady = errors.New("the issuer's keys have not been fetched yet")
	// ErrUnknownKey means the set holds no usable key with this kid, even
	// after a refetch (or none was allowed yet).
	ErrUnknownKey = errors.New("no key with this kid in the issuer's JWKS")
)

// Start begins discovering and fetching the keys in the background and
// returns at once: an issuer that does not answer is logged as a warning and
// retried, never an error.
func Start(o Options) (*Keys, error) {
	switch {
	case o.JWKSURL == "" && o.Issuer == "":
		return nil, errors.New("jwks: give Issuer or JWKSURL")
	case o.Refresh < 0 || o.UnknownKIDEvery < 0 || o.RetryMin < 0 || o.RetryMax < 0:
		return nil, errors.New("jwks: durations must not be negative")
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Refresh == 0 {
		o.Refresh = 5 * time.Minute
	}
	if o.UnknownKIDEvery == 0 {
		o.UnknownKIDEvery = 30 * time.Second
	}
	if o.RetryMin == 0 {
		o.RetryMin = 2 * time.Second
	}
	if o.RetryMax == 0 {
		o.RetryMax = 5 * time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	k := &Keys{o: o, stop: cancel, done: make(chan struct{}), limit: rate.NewLimiter(rate.Every(o.UnknownKIDEvery), 1)}
	notYet := error(ErrNotReady)
	k.err.Store(&notYet)
	go k.run(ctx)
	return k, nil
}

// Close stops the background discovery and refreshes.
func (k *Keys) Close() {
	k.stop()
	<-k.done
}

// Ready reports whether the JWKS URL is known and its first fetch is over
// (it may have failed; Key says so).
func (k *Keys) Ready() bool { return k.kf.Load() != nil }

// WaitReady waits until Ready or ctx is done, and reports whether Ready.
func (k *Keys) WaitReady(ctx context.Context) bool {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !k.Ready() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

// Key returns the public key the JWKS holds under kid, for a token signed
// with alg: a key whose JWK names another alg is refused. A kid the set does
// not hold causes one refetch when the rate limit allows one (one per
// UnknownKIDEvery); when the next is due within the fetch timeout the caller
// waits for it, otherwise the answer is ErrUnknownKey at once. ctx bounds the
// wait and the refetch.
func (k *Keys) Key(ctx context.Context, kid, alg string) (any, error) {
	kf := k.kf.Load()
	if kf == nil {
		return nil, fmt.Errorf("%w: %w", ErrNotReady, *k.err.Load())
	}
	// keyfunc reads the kid and alg from a token's header; it is given
	// exactly those two, already checked by the caller.
	t := &jwt.Token{Header: map[string]any{"kid": kid, "alg": alg}}
	key, err := (*kf).KeyfuncCtx(ctx)(t)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrUnknownKey, kid, err)
	}
	return key, nil
}

// run finds the JWKS URL (discovery, retried with backoff) and then hands
// the fetching to keyfunc, which refreshes every Refresh until ctx ends.
func (k *Keys) run(ctx context.Context) {
	defer close(k.done)
	u := k.o.JWKSURL
	for pause := k.o.RetryMin; u == ""; pause = min(2*pause, k.o.RetryMax) {
		var err error
		if u, err = k.discover(ctx); err == nil {
			break
		}
		k.err.Store(&err)
		k.o.Log.Warn("external JWT issuer: discovery failed; retrying", "issuer", k.o.Issuer, "in", pause, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
	noErrorFirst := true
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{u}, keyfunc.Override{
		Client:                    k.o.Client,
		HTTPTimeout:               k.o.Client.Timeout,
		NoErrorReturnFirstHTTPReq: &noErrorFirst,
		RefreshInterval:           k.o.Refresh,
		RefreshUnknownKID:         k.limit,
		// Wait for the limiter only as long as a fetch may take: with a
		// limit far longer than that, a refused refetch fails at once
		// (rate.Limiter.Wait knows it cannot make the deadline) rather than
		// keep a request waiting.
		RateLimitWaitMax: max(k.o.Client.Timeout, time.Second),
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				k.o.Log.Warn("external JWT issuer: fetching the JWKS failed", "issuer", k.o.Issuer, "jwks_url", u, "error", err)
			}
		},
	})
	if err != nil { // only for a URL keyfunc cannot use: Validate refused those already
		k.err.Store(&err)
		k.o.Log.Error("external JWT issuer: cannot fetch its JWKS", "issuer", k.o.Issuer, "jwks_url", u, "error", err)
		return
	}
	k.kf.Store(&kf)
	<-ctx.Done()
}

// maxDiscovery bounds a discovery document.
const maxDiscovery = 1 << 20

// discover reads the issuer's discovery document and returns its jwks_uri.
func (k *Keys) discover(ctx context.Context) (string, error) {
	wellKnown := strings.TrimSuffix(k.o.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.o.Client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered %s", wellKnown, resp.Status)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDiscovery)).Decode(&doc); err != nil {
		return "", fmt.Errorf("%s: %w", wellKnown, err)
	}
	switch {
	case doc.Issuer != k.o.Issuer:
		return "", fmt.Errorf("%s names issuer %q, not %q: configure the issuer exactly as its tokens write it", wellKnown, doc.Issuer, k.o.Issuer)
	case doc.JWKSURI == "":
		return "", fmt.Errorf("%s has no jwks_uri", wellKnown)
	}
	return doc.JWKSURI, nil
}
