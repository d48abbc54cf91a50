package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ExternalIssuer is an issuer other than authgate whose JWTs the verify
// endpoints admit, for machine-to-machine calls: GitHub Actions, a Kubernetes
// cluster's service accounts, another company's identity provider. A token
// is admitted when its signature verifies under a key of the issuer's
// (Keys), with an algorithm on Algorithms, its iss is Issuer, its aud holds
// one of Audiences, it has not expired (exp is required), and it carries
// every claim Require names. Its principal (KindExternalJWT) has the subject
// "ext:" + ID + ":" + its sub, and the scopes Scopes and ClaimScopes grant:
// the mapping is the operator's, and an external token never reaches the
// management API.
type ExternalIssuer struct {
	ID         string   // [a-z0-9_-], at most 32: names the issuer in X-Auth-Subject and the log
	Issuer     string   // the iss its tokens carry, exactly
	Audiences  []string // aud must hold one of these; at least one
	Algorithms []string // RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA; at least one
	Keys       ExternalKeys
	// Require lists claims every token must carry with exactly this value
	// (for an array claim: among its values). Issuers that sign tokens for
	// anybody who asks (GitHub Actions mints one for any repository, with
	// any audience its workflow names) are safe only with a Require that
	// pins the owner.
	Require map[string]string
	// Scopes are granted to every admitted token; ClaimScopes to those whose
	// claim has the value.
	Scopes      []string
	ClaimScopes []ClaimScopes
	// UserClaim names the claim sent as X-Auth-User, as "ext:" + ID + ":" and
	// its value, so that an upstream never takes it for an authgate
	// username; "" for none.
	UserClaim string
	// Leeway is the clock skew allowed on exp, nbf and iat; default 30 s.
	Leeway time.Duration
}

// ClaimScopes grants Scopes to a token whose Claim has Value: a string claim
// equal to it, an array claim holding it, or a scope claim (space-separated,
// RFC 9068) listing it. Booleans and numbers compare as JSON writes them.
type ClaimScopes struct {
	Claim  string
	Value  string
	Scopes []string
}

// ExternalKeys looks up an external issuer's verification keys; jwks.Keys is
// one. It is called for every token not already cached: it must answer from
// memory, except for a refetch, rate limited, when a kid is unknown.
type ExternalKeys interface {
	// Key returns the public key with this kid, for a token signed with
	// alg, or an error when there is none (the token is then refused).
	Key(ctx context.Context, kid, alg string) (any, error)
}

// ExternalAlgorithms are the algorithms an external issuer may be allowed:
// the asymmetric ones only (a shared secret would let the issuer's every
// client forge tokens), never none.
var ExternalAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

var externalIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Validate checks x and returns an error naming the field at fault.
func (x ExternalIssuer) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("external issuer %s: %s: %s", quote(x.ID), field, fmt.Sprintf(format, args...))
	}
	switch {
	case !externalIDPattern.MatchString(x.ID):
		return bad("id", "must be 1 to 32 lowercase letters, digits, - or _, starting with a letter or digit")
	case x.Issuer == "" || !visibleASCII(x.Issuer):
		return bad("issuer", "must be set, exactly as the tokens' iss writes it")
	case len(x.Audiences) == 0 || slices.Contains(x.Audiences, ""):
		return bad("audience", "name at least one audience, none empty: a token for another audience must be refused")
	case len(x.Algorithms) == 0:
		return bad("algorithms", "name at least one of %s", strings.Join(ExternalAlgorithms, ", "))
	case x.Keys == nil:
		return bad("keys", "no key source")
	case x.Leeway < 0:
		return bad("leeway", "must not be negative")
	}
	for _, a := range x.Algorithms {
		if !slices.Contains(ExternalAlgorithms, a) {
			return bad("algorithms", "%s is not allowed: use %s", quote(a), strings.Join(ExternalAlgorithms, ", "))
		}
	}
	for claim, value := range x.Require {
		if claim == "" || value == "" {
			return bad("require", "claims and values must not be empty")
		}
	}
	for _, s := range x.Scopes {
		if !ValidScope(s) {
			return bad("scopes", "%s is not a valid scope", quote(s))
		}
	}
	for _, cs := range x.ClaimScopes {
		if cs.Claim == "" || cs.Value == "" || len(cs.Scopes) == 0 {
			return bad("claim_scopes", "each needs a claim, a value and scopes")
		}
		for _, s := range cs.Scopes {
			if !ValidScope(s) {
				return bad("claim_scopes", "%s is not a valid scope", quote(s))
			}
		}
	}
	return nil
}

// externalIssuer checks the tokens of one ExternalIssuer.
type externalIssuer struct {
	cfg    ExternalIssuer
	parser *jwt.Parser
}

// ValidateExternal validates each issuer and the list: no id or issuer twice,
// and none claiming authgate's own issuer (ownIssuer; "" when authgate's
// JWTs are not admitted).
func ValidateExternal(list []ExternalIssuer, ownIssuer string) error {
	ids, issuers := map[string]bool{}, map[string]bool{}
	for _, x := range list {
		if err := x.Validate(); err != nil {
			return err
		}
		switch {
		case ids[x.ID]:
			return fmt.Errorf("external issuer %s: id: used twice", quote(x.ID))
		case issuers[x.Issuer]:
			return fmt.Errorf("external issuer %s: issuer: %s is configured twice", quote(x.ID), quote(x.Issuer))
		case ownIssuer != "" && x.Issuer == ownIssuer:
			return fmt.Errorf("external issuer %s: issuer: %s is authgate's own (AUTHGATE_JWT_ISSUER)", quote(x.ID), quote(x.Issuer))
		}
		ids[x.ID], issuers[x.Issuer] = true, true
	}
	return nil
}

func newExternalIssuers(list []ExternalIssuer, own *JWTOptions, now func() time.Time) (map[string]*externalIssuer, error) {
	ownIssuer := ""
	if own != nil {
		ownIssuer = own.Issuer
	}
	if err := ValidateExternal(list, ownIssuer); err != nil {
		return nil, err
	}
	out := make(map[string]*externalIssuer, len(list))
	for _, x := range list {
		if x.Leeway == 0 {
			x.Leeway = defaultLeeway
		}
		out[x.Issuer] = &externalIssuer{cfg: x, parser: jwt.NewParser(
			jwt.WithValidMethods(x.Algorithms),
			jwt.WithIssuer(x.Issuer),
			jwt.WithAudience(x.Audiences...), // any one of them
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(x.Leeway),
			jwt.WithTimeFunc(now),
		)}
	}
	return out, nil
}

// Why an external token is refused, where the reason is always the same.
var (
	errNoIssuer = fmt.Errorf("%w: no iss", ErrMalformed)
	errNoSub    = fmt.Errorf("%w: no sub", ErrInvalidClaims)
)

// peekIssuer reads a JWT's iss without checking anything else: it only
// chooses whose rules check the token.
func peekIssuer(token string) (string, error) {
	_, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	var c struct {
		Iss any `json:"iss"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	iss, _ := c.Iss.(string)
	if iss == "" {
		return "", errNoIssuer
	}
	return iss, nil
}

// verify checks a token of this issuer and returns the principal it names
// and its exp.
func (x *externalIssuer) verify(ctx context.Context, token string) (*Principal, time.Time, error) {
	var c jwt.MapClaims
	_, err := x.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) { return x.keyFor(ctx, t) })
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %w", x.cfg.ID, jwtError(err))
	}
	sub, _ := c["sub"].(string)
	if sub == "" {
		return nil, time.Time{}, fmt.Errorf("%s token: %w", x.cfg.ID, errNoSub)
	}
	for claim, want := range x.cfg.Require {
		if !claimHas(c, claim, want) {
			return nil, time.Time{}, fmt.Errorf("%s token: %w: %s is not %s", x.cfg.ID, ErrInvalidClaims, quote(claim), quote(want))
		}
	}
	scopes := slices.Clone(x.cfg.Scopes)
	for _, cs := range x.cfg.ClaimScopes {
		if claimHas(c, cs.Claim, cs.Value) {
			scopes = append(scopes, cs.Scopes...)
		}
	}
	var user string
	if x.cfg.UserClaim != "" {
		if u, _ := c[x.cfg.UserClaim].(string); u != "" {
			user = "ext:" + x.cfg.ID + ":" + u // never mistaken for an authgate username upstream
		}
	}
	exp, _ := c.GetExpirationTime() // required by the parser: never nil here
	return NewPrincipal(Principal{Kind: KindExternalJWT, Subject: "ext:" + x.cfg.ID + ":" + sub, User: user,
		Scopes: scopes}), exp.Time, nil
}

// keyFor is the parser's keyfunc: the parser has checked alg is on the
// issuer's list; the key comes from the issuer's keys by kid.
func (x *externalIssuer) keyFor(ctx context.Context, t *jwt.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, errCrit
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errNoKid
	}
	key, err := x.cfg.Keys.Key(ctx, kid, t.Method.Alg())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnknownSigningKey, err)
	}
	return key, nil
}

// claimHas reports whether claim in c has the value want: a string equal to
// it (for "scope", one of its space-separated words), an array holding it, or
// a boolean or number JSON writes as it.
func claimHas(c jwt.MapClaims, claim, want string) bool {
	switch v := c[claim].(type) {
	case string:
		if claim == "scope" {
			return slices.Contains(strings.Fields(v), want)
		}
		return v == want
	case []any:
		return slices.ContainsFunc(v, func(e any) bool { s, ok := e.(string); return ok && s == want })
	case bool:
		return strconv.FormatBool(v) == want
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64) == want
	}
	return false
}
