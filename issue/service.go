package issue

import (
	"runtime"
	"time"

	"github.com/authgate/authgate/verify"
)

// Service applies the issuer's rules: minting, rotating and revoking keys,
// users, roles, logins and sessions, signing keys, and the audit log they write.
type Service struct {
	store  Store
	hasher *verify.Hasher
	now    func() time.Time
	opts   Options

	loginIPs   *ipThrottle // failed login (and registration) attempts per client IP
	refreshIPs *ipThrottle // failed refreshes per client IP
	hashes     *hashGate   // password hashes running at once
}

// Options are the issuer's policies. Zero fields take the defaults below.
type Options struct {
	AccessTTL          time.Duration // access token lifetime; default 15 min
	Leeway             time.Duration // clock skew allowed when verifying tokens; default 30 s
	RefreshIdleTTL     time.Duration // a session unused this long ends; default 24 h
	RefreshAbsoluteTTL time.Duration // a session ends this long after login; default 7 days
	RefreshReuseGrace  time.Duration // a refresh token presented again within this gets the same successor; default 10 s
	BrowserIdleTTL     time.Duration // a browser session unused this long ends; default 24 h
	BrowserRememberTTL time.Duration // the same with "remember this device"; default 30 days
	BrowserAbsoluteTTL time.Duration // a browser session ends this long after sign-in, however used; default 90 days
	MaxSessions        int           // live sessions per user, API and browser together, the oldest evicted; default 5
	PasswordMinLen     int           // default 12 (the maximum is MaxPasswordLen)
	LockoutThreshold   int           // failed logins within LockoutWindow that lock the account; default 5
	LockoutWindow      time.Duration // default 15 min
	LockoutDuration    time.Duration // default 5 min
	AllowRegistration  bool          // open self-registration (POST /v1/auth/register); default off
	AuditRetention     time.Duration // audit rows older than this are pruned; default 365 days
	MaxTokenDays       int           // longest life of a personal token, in days; default 365
	HashConcurrency    int           // password hashes (19 MiB each) running at once; default GOMAXPROCS
	Issuer             string        // access tokens' iss; default "authgate"
	Audience           string        // access tokens' aud; default "authgate"

	// Signer signs access tokens. Nil until signing keys are set up: login then fails closed.
	Signer TokenSigner

	// AuditObserver, when set, is told of every audit row the Service writes
	// (metrics count logins by it). Nil: nobody is told.
	AuditObserver AuditObserver
}

// AuditObserver sees the action and outcome (OutcomeSuccess or
// OutcomeFailure) of each audit row as it is written in its transaction: a
// transaction that then fails to commit has still been seen. It runs on the
// request's goroutine and must not block.
type AuditObserver interface {
	ObserveAudit(action Action, outcome string)
}

// MaxPasswordLen bounds a password, so hashing cost cannot be driven by input size.
const MaxPasswordLen = 256

// withDefaults fills zero fields.
func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.AccessTTL, 15*time.Minute)
	def(&o.Leeway, 30*time.Second)
	def(&o.RefreshIdleTTL, 24*time.Hour)
	def(&o.RefreshAbsoluteTTL, 7*24*time.Hour)
	def(&o.RefreshReuseGrace, 10*time.Second)
	def(&o.BrowserIdleTTL, 24*time.Hour)
	def(&o.BrowserRememberTTL, 30*24*time.Hour)
	def(&o.BrowserAbsoluteTTL, 90*24*time.Hour)
	def(&o.LockoutWindow, 15*time.Minute)
	def(&o.LockoutDuration, 5*time.Minute)
	def(&o.AuditRetention, 365*24*time.Hour)
	if o.MaxSessions == 0 {
		o.MaxSessions = 5
	}
	if o.PasswordMinLen == 0 {
		o.PasswordMinLen = 12
	}
	if o.LockoutThreshold == 0 {
		o.LockoutThreshold = 5
	}
	if o.MaxTokenDays == 0 {
		o.MaxTokenDays = 365
	}
	if o.HashConcurrency == 0 {
		o.HashConcurrency = runtime.GOMAXPROCS(0)
	}
	if o.Issuer == "" {
		o.Issuer = "authgate"
	}
	if o.Audience == "" {
		o.Audience = "authgate"
	}
	return o
}

// NewService returns a Service. now is the clock; nil means time.Now.
func NewService(store Store, hasher *verify.Hasher, now func() time.Time, opts Options) *Service {
	if now == nil {
		now = time.Now
	}
	opts = opts.withDefaults()
	return &Service{store: store, hasher: hasher, now: now, opts: opts,
		loginIPs:   newIPThrottle(opts.LockoutThreshold*4, opts.LockoutWindow),
		refreshIPs: newIPThrottle(opts.LockoutThreshold*4, opts.LockoutWindow),
		hashes:     newHashGate(opts.HashConcurrency, hashWait)}
}

// Options returns the policies in force, defaults filled in.
func (s *Service) Options() Options { return s.opts }
