package main

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/authgate/authgate/idp"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/portal"
	"github.com/authgate/authgate/verify"
)

// Config is everything authgate reads from its environment. It is resolved and
// validated once, at start; nothing else reads the environment.
type Config struct {
	DatabaseURL      string        `env:"DATABASE_URL" help:"Postgres connection URL, e.g. postgres://authgate@127.0.0.1:5432/authgate (make run starts a private Postgres and sets it)"`
	Secret           string        `env:"AUTHGATE_SECRET" help:"server secret, at least 32 characters; keys are hashed under it and the database records its fingerprint, so keep it stable (generate: head -c 32 /dev/urandom | base64; make run keeps one in .data/secret)"`
	SecretPrevious   string        `env:"AUTHGATE_SECRET_PREVIOUS" help:"when rotating AUTHGATE_SECRET: the secret it replaces; credentials hashed under it keep working while it is set (empty: no rotation)"`
	Addr             string        `env:"AUTHGATE_ADDR" envDefault:"127.0.0.1:8080" help:"host:port to listen on for the verify endpoints, and for the management API unless AUTHGATE_MANAGEMENT_ADDR is set"`
	ManagementAddr   string        `env:"AUTHGATE_MANAGEMENT_ADDR" help:"host:port of a listener of its own for the management API (/v1, /.well-known/jwks.json), e.g. 127.0.0.1:8081; AUTHGATE_ADDR then serves only the verify endpoints (empty: AUTHGATE_ADDR serves both)"`
	MetricsAddr      string        `env:"AUTHGATE_METRICS_ADDR" help:"host:port of a listener of its own for the Prometheus metrics at /metrics, e.g. 127.0.0.1:9090 (empty: /metrics is served with the management API, on AUTHGATE_MANAGEMENT_ADDR when set, else AUTHGATE_ADDR); /metrics asks for no credential, so keep it on an internal address"`
	TrustedProxies   string        `env:"AUTHGATE_TRUSTED_PROXIES" help:"comma-separated addresses or CIDR networks (IPv4 or IPv6) of the reverse proxies in front of authgate, e.g. 10.0.0.0/8,192.0.2.7, whose X-Forwarded-For is believed: a request's client address (in audit rows and sessions, and for per-address login throttling) is the rightmost X-Forwarded-For entry not in the list, walking left from the peer through listed hops; it is the peer's own address when the peer is not listed, the header is missing, or an entry on the way is not an address (empty: trust none, the client is always the peer; 0.0.0.0/0 and ::/0 are refused)"`
	Migrate          bool          `env:"AUTHGATE_MIGRATE" envDefault:"true" help:"apply database migrations at start (false: run 'authgate migrate' yourself)"`
	CacheTTL         time.Duration `env:"AUTHGATE_CACHE_TTL" envDefault:"10s" help:"how long a verified key is trusted without asking Postgres, 100ms to 10s: the revocation bound when change notifications are lost"`
	NegativeCacheTTL time.Duration `env:"AUTHGATE_NEGATIVE_CACHE_TTL" envDefault:"5s" help:"how long an unknown key id is remembered, 100ms to 5s"`
	CacheSize        int           `env:"AUTHGATE_CACHE_SIZE" envDefault:"100000" help:"most keys held in the verify cache, 100 to 10000000"`
	LogLevel         slog.Level    `env:"AUTHGATE_LOG_LEVEL" envDefault:"info" help:"debug, info, warn or error; logs are JSON on stderr"`
	ShutdownTimeout  time.Duration `env:"AUTHGATE_SHUTDOWN_TIMEOUT" envDefault:"10s" help:"how long in-flight requests may finish after SIGINT/SIGTERM"`

	JWTAlg             string        `env:"AUTHGATE_JWT_ALG" envDefault:"ES256" help:"access-token signing algorithm: ES256, EdDSA or HS256"`
	JWTHS256Secret     string        `env:"AUTHGATE_JWT_HS256_SECRET" help:"the shared secret when AUTHGATE_JWT_ALG=HS256, at least 32 characters (every verifier of the tokens needs it)"`
	JWTIssuer          string        `env:"AUTHGATE_JWT_ISSUER" envDefault:"authgate" help:"iss of access tokens, checked on verify"`
	JWTAudience        string        `env:"AUTHGATE_JWT_AUDIENCE" envDefault:"authgate" help:"aud of access tokens, checked on verify"`
	AccessTTL          time.Duration `env:"AUTHGATE_ACCESS_TTL" envDefault:"15m" help:"access-token lifetime, 1m to 1h"`
	RefreshIdleTTL     time.Duration `env:"AUTHGATE_REFRESH_IDLE_TTL" envDefault:"24h" help:"a session not refreshed for this long ends"`
	RefreshAbsoluteTTL time.Duration `env:"AUTHGATE_REFRESH_ABSOLUTE_TTL" envDefault:"168h" help:"a session ends this long after login, whatever its use"`
	MaxSessions        int           `env:"AUTHGATE_MAX_SESSIONS" envDefault:"5" help:"live sessions per user, 1 to 100; a login beyond it ends the oldest"`
	PasswordMinLength  int           `env:"AUTHGATE_PASSWORD_MIN_LENGTH" envDefault:"12" help:"shortest password accepted, 8 to 256 characters"`
	LockoutThreshold   int           `env:"AUTHGATE_LOCKOUT_THRESHOLD" envDefault:"5" help:"failed logins within AUTHGATE_LOCKOUT_WINDOW that lock the account, 1 to 100"`
	LockoutWindow      time.Duration `env:"AUTHGATE_LOCKOUT_WINDOW" envDefault:"15m" help:"window in which failed logins are counted"`
	LockoutDuration    time.Duration `env:"AUTHGATE_LOCKOUT_DURATION" envDefault:"5m" help:"how long a locked account stays locked"`
	AllowRegistration  bool          `env:"AUTHGATE_ALLOW_REGISTRATION" envDefault:"false" help:"open self-registration at POST /v1/auth/register (new users get no role)"`
	AuditRetention     time.Duration `env:"AUTHGATE_AUDIT_RETENTION" envDefault:"8760h" help:"audit rows older than this are deleted (default 365 days)"`
	MaxTokenDays       int           `env:"AUTHGATE_MAX_TOKEN_DAYS" envDefault:"365" help:"longest life of a personal token in days, 1 to 3650"`
	RateSyncInterval   time.Duration `env:"AUTHGATE_RATE_SYNC_INTERVAL" envDefault:"1s" help:"how often instances sharing the database exchange what the routes' rate limits (rate= in a verify URL) admitted, 100ms to 10s: a client spread over N instances may exceed a limit by N-1 bursts plus what the others admit in this long"`
	StaticKeys         string        `env:"AUTHGATE_STATIC_KEYS" help:"fixed keys for small setups: k1,k2 or a JSON array of keys and {key,name,scopes} objects; hashed at start, never logged"`

	// Browser sign-in (portalconfig.go). With no cookie domain there is no
	// portal: the verify endpoints answer browsers as they answer machines.
	CookieDomains      string        `env:"AUTHGATE_COOKIE_DOMAINS" help:"comma-separated domains the browser session cookie covers, e.g. home.example (the cookie is sent to home.example and every host under it); empty: no sign-in pages and no session cookie; a public suffix (com, co.uk, github.io) is refused"`
	PortalURLs         string        `env:"AUTHGATE_PORTAL_URLS" help:"comma-separated base URLs of the sign-in pages, one per cookie domain and on a host inside it, e.g. https://auth.home.example; the proxy sends that host to authgate"`
	PortalDev          bool          `env:"AUTHGATE_PORTAL_DEV" envDefault:"false" help:"development mode: allow plain http portal URLs and return addresses for localhost and *.localhost only; the cookie then loses its Secure attribute and __Secure- prefix"`
	CookieName         string        `env:"AUTHGATE_COOKIE_NAME" help:"name of the browser session cookie (empty: __Secure-authgate_session, or authgate_session in development mode)"`
	SessionIdleTTL     time.Duration `env:"AUTHGATE_SESSION_IDLE_TTL" envDefault:"24h" help:"a browser session not used for this long ends"`
	SessionRememberTTL time.Duration `env:"AUTHGATE_SESSION_REMEMBER_TTL" envDefault:"720h" help:"the idle lifetime of a browser session signed in with \"remember this device\" (30 days)"`
	SessionMaxTTL      time.Duration `env:"AUTHGATE_SESSION_MAX_TTL" envDefault:"2160h" help:"a browser session ends this long after sign-in, however it is used (90 days)"`

	// OpenID providers (providers.go): their buttons are on the portal's sign-in page.
	Providers     string `env:"AUTHGATE_PROVIDERS" help:"OpenID providers people may sign in with, as a JSON list of {id, name, issuer, client_id, client_secret_env or client_secret_file, scopes, new_users (refuse or create), default_role, link_by_verified_email, username_claim, groups_claim, roles (provider group -> authgate role), native_client_ids (your apps' client ids, whose ID tokens POST /v1/auth/oauth/login exchanges)}; their buttons need AUTHGATE_COOKIE_DOMAINS (without it they serve native apps' token exchange only); each provider's redirect URI is <portal URL>/sso/<id>/callback (empty: none)"`
	ProvidersFile string `env:"AUTHGATE_PROVIDERS_FILE" help:"a file holding the JSON of AUTHGATE_PROVIDERS instead (empty: none)"`

	// External JWT issuers (issuers.go), admitted on the verify endpoints.
	ExternalIssuers     string `env:"AUTHGATE_EXTERNAL_ISSUERS" help:"issuers other than authgate whose JWTs the verify endpoints admit (GitHub Actions, Kubernetes service accounts, another company's identity provider), as a JSON list of {id, issuer, audience (one or a list), algorithms (default RS256, ES256), jwks_url (default: from the issuer's discovery), require (claim -> value every token must carry), scopes (granted to all), claim_scopes ([{claim, value, scopes}]), user_claim}; X-Auth-Kind is external_jwt and X-Auth-Subject ext:<id>:<sub> (empty: none)"`
	ExternalIssuersFile string `env:"AUTHGATE_EXTERNAL_ISSUERS_FILE" help:"a file holding the JSON of AUTHGATE_EXTERNAL_ISSUERS instead (empty: none)"`

	// sites is CookieDomains paired with PortalURLs (LoadConfig); empty: no portal.
	sites []portal.Site
	// providers is Providers or ProvidersFile parsed and validated (LoadConfig).
	providers []idp.ProviderConfig
	// external is ExternalIssuers or ExternalIssuersFile parsed and validated (LoadConfig).
	external []externalIssuer
	// trustedProxies is TrustedProxies parsed (LoadConfig).
	trustedProxies []*net.IPNet
	// macVersion is the MAC key version of Secret, from the database's record
	// (checkSecret); 0 before it is read, taken as 1.
	macVersion int16
}

// LoadConfig reads the configuration from environ (NAME → value) and checks it.
// needDB and needSecret say whether the command at hand uses them. Errors name
// the variable and say how to fix it.
func LoadConfig(environ map[string]string, needDB, needSecret bool) (Config, error) {
	var c Config
	if err := env.ParseWithOptions(&c, env.Options{Environment: environ}); err != nil {
		return c, configError(err)
	}
	var errs []error
	bad := func(name, format string, args ...any) { errs = append(errs, fmt.Errorf(name+" "+format, args...)) }
	if needDB && c.DatabaseURL == "" {
		bad("DATABASE_URL", "is not set: point it at a Postgres database, e.g. postgres://authgate@127.0.0.1:5432/authgate (or use 'make run', which starts a private one)")
	}
	if needSecret && len(c.Secret) < 32 {
		bad("AUTHGATE_SECRET", "must be at least 32 characters (it has %d): use the secret this database was set up under "+
			"('make run' keeps it in .data/secret, and 'make cli ARGS=...' runs commands with it); "+
			"only for a new database generate one with 'head -c 32 /dev/urandom | base64', and keep it: "+
			"keys hashed under one secret do not verify under another", len(c.Secret))
	}
	switch {
	case c.SecretPrevious == "":
	case len(c.SecretPrevious) < 32:
		bad("AUTHGATE_SECRET_PREVIOUS", "must be at least 32 characters (it has %d): the AUTHGATE_SECRET being replaced, or empty", len(c.SecretPrevious))
	case c.SecretPrevious == c.Secret:
		bad("AUTHGATE_SECRET_PREVIOUS", "is the same as AUTHGATE_SECRET: set it to the secret being replaced, or unset it")
	}
	if !isHostPort(c.Addr) {
		bad("AUTHGATE_ADDR", "must be host:port, e.g. 127.0.0.1:8080 or :8080 (got %q)", c.Addr)
	}
	switch {
	case c.ManagementAddr == "":
	case !isHostPort(c.ManagementAddr):
		bad("AUTHGATE_MANAGEMENT_ADDR", "must be host:port, e.g. 127.0.0.1:8081, or empty to serve the management API on AUTHGATE_ADDR (got %q)", c.ManagementAddr)
	case c.ManagementAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0"): // port 0: each listener gets a free port of its own
		bad("AUTHGATE_MANAGEMENT_ADDR", "is the same address as AUTHGATE_ADDR (%s): give the management API another port, or leave AUTHGATE_MANAGEMENT_ADDR empty to serve it on AUTHGATE_ADDR", c.Addr)
	}
	switch {
	case c.MetricsAddr == "":
	case !isHostPort(c.MetricsAddr):
		bad("AUTHGATE_METRICS_ADDR", "must be host:port, e.g. 127.0.0.1:9090, or empty to serve /metrics with the management API (got %q)", c.MetricsAddr)
	case (c.MetricsAddr == c.Addr || c.MetricsAddr == c.ManagementAddr) && !strings.HasSuffix(c.MetricsAddr, ":0"):
		bad("AUTHGATE_METRICS_ADDR", "is the same address as AUTHGATE_ADDR or AUTHGATE_MANAGEMENT_ADDR (%s): give the metrics another port, or leave AUTHGATE_METRICS_ADDR empty to serve them with the management API", c.MetricsAddr)
	}
	var err error
	if c.trustedProxies, err = parseTrustedProxies(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	if c.CacheTTL < 100*time.Millisecond || c.CacheTTL > 10*time.Second {
		bad("AUTHGATE_CACHE_TTL", "must be between 100ms and 10s (got %s): it bounds how long a revoked key keeps working", c.CacheTTL)
	}
	if c.NegativeCacheTTL < 100*time.Millisecond || c.NegativeCacheTTL > 5*time.Second {
		bad("AUTHGATE_NEGATIVE_CACHE_TTL", "must be between 100ms and 5s (got %s)", c.NegativeCacheTTL)
	}
	if c.CacheSize < 100 || c.CacheSize > 10_000_000 {
		bad("AUTHGATE_CACHE_SIZE", "must be between 100 and 10000000 (got %d)", c.CacheSize)
	}
	if c.ShutdownTimeout <= 0 {
		bad("AUTHGATE_SHUTDOWN_TIMEOUT", "must be a positive duration such as 10s (got %s)", c.ShutdownTimeout)
	}
	switch c.JWTAlg {
	case "ES256", "EdDSA":
		if c.JWTHS256Secret != "" {
			bad("AUTHGATE_JWT_HS256_SECRET", "is set but AUTHGATE_JWT_ALG is %s: unset it, or set AUTHGATE_JWT_ALG=HS256", c.JWTAlg)
		}
	case "HS256":
		if len(c.JWTHS256Secret) < 32 {
			bad("AUTHGATE_JWT_HS256_SECRET", "must be at least 32 characters when AUTHGATE_JWT_ALG=HS256 (it has %d): generate one with 'head -c 32 /dev/urandom | base64'", len(c.JWTHS256Secret))
		}
	default:
		bad("AUTHGATE_JWT_ALG", "must be ES256, EdDSA or HS256 (got %q)", c.JWTAlg)
	}
	if c.JWTIssuer == "" {
		bad("AUTHGATE_JWT_ISSUER", "must not be empty")
	}
	if c.JWTAudience == "" {
		bad("AUTHGATE_JWT_AUDIENCE", "must not be empty")
	}
	if c.AccessTTL < time.Minute || c.AccessTTL > time.Hour {
		bad("AUTHGATE_ACCESS_TTL", "must be between 1m and 1h (got %s): it bounds how long a token outlives a role change", c.AccessTTL)
	}
	if c.RefreshIdleTTL < c.AccessTTL {
		bad("AUTHGATE_REFRESH_IDLE_TTL", "must be at least AUTHGATE_ACCESS_TTL (%s; got %s)", c.AccessTTL, c.RefreshIdleTTL)
	}
	if c.RefreshAbsoluteTTL < c.RefreshIdleTTL {
		bad("AUTHGATE_REFRESH_ABSOLUTE_TTL", "must be at least AUTHGATE_REFRESH_IDLE_TTL (%s; got %s)", c.RefreshIdleTTL, c.RefreshAbsoluteTTL)
	}
	if c.MaxSessions < 1 || c.MaxSessions > 100 {
		bad("AUTHGATE_MAX_SESSIONS", "must be between 1 and 100 (got %d)", c.MaxSessions)
	}
	if c.PasswordMinLength < 8 || c.PasswordMinLength > 256 {
		bad("AUTHGATE_PASSWORD_MIN_LENGTH", "must be between 8 and 256 (got %d)", c.PasswordMinLength)
	}
	if c.LockoutThreshold < 1 || c.LockoutThreshold > 100 {
		bad("AUTHGATE_LOCKOUT_THRESHOLD", "must be between 1 and 100 (got %d)", c.LockoutThreshold)
	}
	if c.LockoutWindow <= 0 || c.LockoutDuration <= 0 {
		bad("AUTHGATE_LOCKOUT_WINDOW and AUTHGATE_LOCKOUT_DURATION", "must be positive durations such as 15m and 5m (got %s and %s)", c.LockoutWindow, c.LockoutDuration)
	}
	if _, err := parseStaticKeys(c.StaticKeys); err != nil {
		errs = append(errs, err)
	}
	if c.RateSyncInterval < 100*time.Millisecond || c.RateSyncInterval > 10*time.Second {
		bad("AUTHGATE_RATE_SYNC_INTERVAL", "must be between 100ms and 10s (got %s)", c.RateSyncInterval)
	}
	if c.MaxTokenDays < 1 || c.MaxTokenDays > 3650 {
		bad("AUTHGATE_MAX_TOKEN_DAYS", "must be between 1 and 3650 (got %d)", c.MaxTokenDays)
	}
	if c.sites, err = c.portalSites(); err != nil {
		errs = append(errs, err)
	}
	if c.providers, err = c.loadProviders(environ); err != nil {
		errs = append(errs, err)
	}
	if c.external, err = c.loadExternalIssuers(); err != nil {
		errs = append(errs, err)
	}
	if err := c.checkLifetimes(); err != nil {
		errs = append(errs, err)
	}
	if c.AuditRetention < 24*time.Hour {
		bad("AUTHGATE_AUDIT_RETENTION", "must be at least 24h (got %s)", c.AuditRetention)
	}
	return c, errors.Join(errs...)
}

// isHostPort reports whether addr has the host:port form net.Listen takes (the
// host may be empty: every interface).
func isHostPort(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port != ""
}

// Hasher returns the hasher for key secrets. Its keys are derived from the
// server secrets, so a secret itself is never used as a MAC key: the current
// version (the database's record, 1 until the first rotation) from
// AUTHGATE_SECRET, which hashes new credentials, and the version before it
// from AUTHGATE_SECRET_PREVIOUS when that is set, so credentials hashed before
// a rotation still verify.
func (c Config) Hasher() (*verify.Hasher, error) {
	version := max(c.macVersion, 1)
	k, err := macKey(c.Secret)
	if err != nil {
		return nil, err
	}
	keys := map[int16][]byte{version: k}
	if c.SecretPrevious != "" && version > 1 {
		if keys[version-1], err = macKey(c.SecretPrevious); err != nil {
			return nil, err
		}
	}
	return verify.NewHasher(keys, version)
}

func macKey(secret string) ([]byte, error) {
	return hkdf.Key(sha256.New, []byte(secret), nil, "authgate api-key mac v1", 32)
}

// IssuerOptions returns the issuer's policies from the configuration (without
// a Signer, which needs the signing keys).
func (c Config) IssuerOptions() issue.Options {
	return issue.Options{
		AccessTTL: c.AccessTTL, RefreshIdleTTL: c.RefreshIdleTTL, RefreshAbsoluteTTL: c.RefreshAbsoluteTTL,
		MaxSessions: c.MaxSessions, PasswordMinLen: c.PasswordMinLength,
		LockoutThreshold: c.LockoutThreshold, LockoutWindow: c.LockoutWindow, LockoutDuration: c.LockoutDuration,
		AllowRegistration: c.AllowRegistration, AuditRetention: c.AuditRetention, MaxTokenDays: c.MaxTokenDays,
		Issuer: c.JWTIssuer, Audience: c.JWTAudience, Leeway: tokenLeeway,
		BrowserIdleTTL: c.SessionIdleTTL, BrowserRememberTTL: c.SessionRememberTTL, BrowserAbsoluteTTL: c.SessionMaxTTL,
	}
}

// StaticKeyset returns the verifier's static keys, hashed, or nil when none are configured.
func (c Config) StaticKeyset(h *verify.Hasher) (*verify.StaticKeys, error) {
	keys, err := parseStaticKeys(c.StaticKeys)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	set, err := verify.NewStaticKeys(keys, h)
	if err != nil {
		return nil, fmt.Errorf("AUTHGATE_STATIC_KEYS: %w", err)
	}
	return set, nil
}

// SealKey returns the key that seals JWT signing keys at rest, derived from the
// server secret like the Hasher's.
func (c Config) SealKey() ([]byte, error) { return sealKey(c.Secret) }

func sealKey(secret string) ([]byte, error) {
	return hkdf.Key(sha256.New, []byte(secret), nil, "authgate signing keys v1", 32)
}

// configError rewrites the parser's errors to name the variable.
func configError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	var errs []error
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			f, _ := reflect.TypeFor[Config]().FieldByName(pe.Name)
			errs = append(errs, fmt.Errorf("%s is not a valid %s: %v", f.Tag.Get("env"), kindName(pe.Type), pe.Err))
			continue
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

func kindName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[time.Duration]():
		return "duration (use e.g. 500ms, 10s, 1m)"
	case reflect.TypeFor[bool]():
		return "boolean (true or false)"
	case reflect.TypeFor[int]():
		return "whole number"
	case reflect.TypeFor[slog.Level]():
		return "log level (debug, info, warn or error)"
	}
	return t.String()
}

// configHelp lists every variable with its default and meaning, for --help.
func configHelp() string {
	var b strings.Builder
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		def := f.Tag.Get("envDefault")
		if def == "" {
			def = "(none)"
		}
		fmt.Fprintf(&b, "  %-30s default %-10s %s\n", f.Tag.Get("env"), def, f.Tag.Get("help"))
	}
	return b.String()
}
