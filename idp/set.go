package idp

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authgate/authgate/issue"
)

// Options are a Set's collaborators and timings; zero values take defaults.
type Options struct {
	HTTPClient *http.Client // for discovery, JWKS and the token endpoint; default: 10s timeout
	Now        func() time.Time
	Log        *slog.Logger
	// RetryMin and RetryMax bound the pause between discovery attempts of a
	// provider that did not answer (default 2s and 5m, doubling).
	RetryMin, RetryMax time.Duration
}

// ProviderInfo is what the sign-in page shows of a provider.
type ProviderInfo struct {
	ID   string
	Name string
}

// Set is the configured providers. It is built once by New and is safe for
// concurrent use; Close stops its background discovery.
type Set struct {
	list   []*provider // in configuration order
	byID   map[string]*provider
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
	min    time.Duration
	max    time.Duration
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// provider is one configured provider and, once discovery succeeded, what it
// told.
type provider struct {
	cfg   ProviderConfig
	mu    sync.RWMutex
	ready *discovered // nil until discovery succeeds
}

// discovered is a provider's discovery, turned into what the flow needs.
type discovered struct {
	oauth    oauth2.Config // without RedirectURL, set per call
	verifier *oidc.IDTokenVerifier
	// native verifies as verifier does but leaves the audience to
	// VerifyIDToken, which accepts the native client ids too.
	native   *oidc.IDTokenVerifier
	issParam bool // authorization_response_iss_parameter_supported
	// oauth2Only: no ID token (verifier and native are nil); Finish reads
	// the identity with api.
	oauth2Only bool
	// api reads who an access token names; check asks which client it was
	// issued to (VerifyAccessToken).
	api   identityAPI
	check tokenChecker
}

// New validates cfgs (ValidateAll: a *ConfigError names the provider and
// field) and discovers each provider once, concurrently, within ctx. A
// provider whose discovery fails is logged as a warning and retried in the
// background until it succeeds or Close is called; meanwhile Begin and Finish
// answer ErrUnavailable for it. New fails only on configuration.
func New(ctx context.Context, cfgs []ProviderConfig, o Options) (*Set, error) {
	if err := ValidateAll(cfgs); err != nil {
		return nil, err
	}
	s := &Set{byID: make(map[string]*provider, len(cfgs)), client: o.HTTPClient, now: o.Now, log: o.Log,
		min: o.RetryMin, max: o.RetryMax}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.min <= 0 {
		s.min = 2 * time.Second
	}
	if s.max < s.min {
		s.max = max(5*time.Minute, s.min)
	}
	for _, c := range cfgs {
		c.withDefaults()
		p := &provider{cfg: c}
		s.list = append(s.list, p)
		s.byID[c.ID] = p
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	var first sync.WaitGroup
	for _, p := range s.list {
		first.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := s.discover(ctx, p)
			first.Done()
			if err != nil {
				s.retry(bg, p, err)
			}
		}()
	}
	first.Wait()
	return s, nil
}

// Close stops the background discovery and waits for it.
func (s *Set) Close() {
	s.stop()
	s.wg.Wait()
}

// retry rediscovers p with a doubling pause until it succeeds or ctx ends.
func (s *Set) retry(ctx context.Context, p *provider, err error) {
	wait := s.min
	for {
		s.log.Warn("idp: provider discovery failed; sign-in with it is unavailable until it succeeds",
			"provider", p.cfg.ID, "issuer", p.cfg.Issuer, "retry_in", wait.String(), "err", err.Error())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err = s.discover(ctx, p); err == nil {
			return
		}
		wait = min(wait*2, s.max)
	}
}

// discover fetches p's discovery document and makes it ready. A plain
// OAuth2 provider has none: it is ready at once.
func (s *Set) discover(ctx context.Context, p *provider) error {
	if p.cfg.oauth2Only() {
		p.mu.Lock()
		p.ready = oauth2Discovered(p.cfg)
		p.mu.Unlock()
		return nil
	}
	ctx = oidc.ClientContext(ctx, s.client)
	op, err := oidc.NewProvider(ctx, p.cfg.Issuer)
	if err != nil {
		return err
	}
	var meta struct {
		Algs          []string `json:"id_token_signing_alg_values_supported"`
		IssParam      bool     `json:"authorization_response_iss_parameter_supported"`
		Introspection string   `json:"introspection_endpoint"`
		IntroAuth     []string `json:"introspection_endpoint_auth_methods_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return err
	}
	algs := signingAlgs(meta.Algs)
	d := &discovered{
		oauth: oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: op.Endpoint(),
			Scopes: slices.Clone(p.cfg.Scopes)},
		verifier: op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, SupportedSigningAlgs: algs, Now: s.now}),
		native:   op.Verifier(&oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: algs, Now: s.now}),
		issParam: meta.IssParam,
		api:      userinfoAPI{op.UserInfoEndpoint()},
		check:    noCheck{why: "its discovery lists no token introspection endpoint"},
	}
	switch {
	case meta.Introspection == "":
	case op.UserInfoEndpoint() == "":
		d.check = noCheck{why: "its discovery lists no userinfo endpoint to read the identity from"}
	case endpointProblem(meta.Introspection) != "":
		d.check = noCheck{why: "its introspection endpoint is not https: " + endpointProblem(meta.Introspection)}
	default:
		d.check = introspection{url: meta.Introspection, post: introspectionAuthPost(meta.IntroAuth), now: s.now}
	}
	p.mu.Lock()
	p.ready = d
	p.mu.Unlock()
	_, introspects := d.check.(introspection)
	s.log.Info("idp: provider discovered", "provider", p.cfg.ID, "issuer", p.cfg.Issuer, "iss_parameter", meta.IssParam,
		"introspection", introspects)
	return nil
}

// oauth2Discovered is what a plain OAuth2 provider's configuration gives in
// place of discovery: its endpoints, and its preset's API or its userinfo
// endpoint to read the identity. Only a preset's API can check an app's
// token.
func oauth2Discovered(c ProviderConfig) *discovered {
	d := &discovered{oauth2Only: true,
		oauth: oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: slices.Clone(c.Scopes),
			Endpoint: oauth2.Endpoint{AuthURL: c.AuthURL, TokenURL: c.TokenURL}},
		api:   userinfoAPI{c.UserinfoURL},
		check: noCheck{why: "it is a plain OAuth2 provider without token introspection"},
	}
	if api := presets[c.Preset].api; api != nil {
		d.api = api
		if check, ok := api.(tokenChecker); ok {
			d.check = check
		}
	}
	return d
}

// signingAlgs is the ID-token algorithm allow-list: what discovery lists,
// without none and the HMAC algorithms (a client secret is no signing key),
// or RS256, the default OpenID Connect names, when nothing is left.
func signingAlgs(listed []string) []string {
	var out []string
	for _, a := range listed {
		switch a {
		case "none", "HS256", "HS384", "HS512", "":
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		out = []string{oidc.RS256}
	}
	return out
}

// Providers lists the providers in configuration order, for buttons.
func (s *Set) Providers() []ProviderInfo {
	out := make([]ProviderInfo, 0, len(s.list))
	for _, p := range s.list {
		out = append(out, ProviderInfo{ID: p.cfg.ID, Name: p.cfg.Name})
	}
	return out
}

// Provider returns the provider with this id, and whether there is one.
func (s *Set) Provider(id string) (ProviderInfo, bool) {
	p, ok := s.byID[id]
	if !ok {
		return ProviderInfo{}, false
	}
	return ProviderInfo{ID: p.cfg.ID, Name: p.cfg.Name}, true
}

// Policy returns how identities from the provider with this id become
// authgate users, and whether there is such a provider.
func (s *Set) Policy(id string) (issue.ProviderPolicy, bool) {
	p, ok := s.byID[id]
	if !ok {
		return issue.ProviderPolicy{}, false
	}
	pol := p.cfg.Policy
	pol.Roles = maps.Clone(pol.Roles)
	return pol, true
}

// AuthorizationOrigins returns the origins (scheme://host[:port]) of the
// authorization endpoints of the providers discovered so far: where a sign-in
// form's provider button ends up, which the page's CSP form-action must
// allow, since browsers apply it to the redirects a form post answers with.
func (s *Set) AuthorizationOrigins() []string {
	var out []string
	for _, p := range s.list {
		d := p.discovered()
		if d == nil {
			continue
		}
		u, err := url.Parse(d.oauth.Endpoint.AuthURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			continue
		}
		if o := u.Scheme + "://" + u.Host; !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// Ready reports whether the provider with this id has been discovered.
func (s *Set) Ready(id string) bool {
	p, ok := s.byID[id]
	return ok && p.discovered() != nil
}

func (p *provider) discovered() *discovered {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.ready
}
