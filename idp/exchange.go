package idp

import (
	"context"
	"fmt"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/authgate/authgate/issue"
)

// VerifyIDToken checks an ID token that a native app obtained from the
// provider providerID by its own sign-in, and returns who it names, mapped
// as Finish maps it (the same claims, the same preset checks). It accepts
// the token only when go-oidc verifies its signature (a key from the
// provider's JWKS), issuer and expiry, its algorithm is on the allow-list
// Finish uses (discovery's minus none and HS*), and its aud holds one of the
// client ids configured for the provider (client_id or native_client_ids),
// with azp, when present, one of them too: a token issued to anybody else's
// app is refused, however valid. There is no nonce to check: the app ran the
// flow and kept it.
//
// Returns ErrUnknownProvider, ErrUnavailable (discovery not done yet) or
// ErrInvalid, wrapped, or an *UnsupportedError for a plain OAuth2 provider.
func (s *Set) VerifyIDToken(ctx context.Context, providerID, rawIDToken string) (issue.ExternalIdentity, error) {
	var none issue.ExternalIdentity
	p, d, err := s.ready(providerID)
	if err != nil {
		return none, err
	}
	if d.oauth2Only {
		return none, &UnsupportedError{Provider: p.cfg.ID, Field: "id_token", Msg: p.cfg.ID + " is a plain OAuth2 provider " +
			"and issues no ID tokens: send the access token"}
	}
	idt, err := d.native.Verify(oidc.ClientContext(ctx, s.client), rawIDToken)
	if err != nil {
		return none, fmt.Errorf("%w: ID token: %v", ErrInvalid, err)
	}
	ours := p.clientIDs()
	if !slices.ContainsFunc(idt.Audience, func(aud string) bool { return slices.Contains(ours, aud) }) {
		return none, fmt.Errorf("%w: ID token: audience %q names none of the client ids configured for %s", ErrInvalid,
			idt.Audience, p.cfg.ID)
	}
	var extra struct {
		AZP string `json:"azp"`
	}
	if err := idt.Claims(&extra); err != nil {
		return none, fmt.Errorf("%w: ID token claims: %v", ErrInvalid, err)
	}
	if extra.AZP != "" && !slices.Contains(ours, extra.AZP) {
		return none, fmt.Errorf("%w: ID token: azp %q is none of the client ids configured for %s", ErrInvalid,
			clean(extra.AZP), p.cfg.ID)
	}
	return p.identityOf(idt)
}

// clientIDs are the audiences VerifyIDToken accepts for p.
func (p *provider) clientIDs() []string {
	return append([]string{p.cfg.ClientID}, p.cfg.NativeClientIDs...)
}
