package issue

import (
	"context"
	"fmt"
	"time"
)

// ExchangeExternal signs in the person id names, whose ID token from the
// provider p belongs to a native app presented and the caller verified, and
// starts an API session for them exactly as Login does (a refresh token and a
// first access token; deviceName kept on the session; the MaxSessions cap),
// audited as user.login with kind api and the provider. Who they are, the
// role sync and the refusals are SignInExternal's, decided by the same code:
// a refusal creates nothing, is audited as user.login_failed with its reason,
// and answers ErrSignInRefused. A bad device name is a *FieldError; without a
// signing key nothing is created and an error is returned.
func (s *Service) ExchangeExternal(ctx context.Context, id ExternalIdentity, p ProviderPolicy, deviceName string,
	by Actor) (Tokens, error) {
	if err := validDeviceName(deviceName); err != nil {
		return Tokens{}, err
	}
	if s.opts.Signer == nil {
		return Tokens{}, fmt.Errorf("exchange with %s: %w", id.Provider, errNoSigner)
	}
	var out Tokens
	err := s.admitExternal(ctx, id, p, by, func(tx Store, u User, by Actor, now time.Time) error {
		var err error
		out, err = s.apiSession(ctx, tx, u, deviceName, by, now, map[string]any{"provider": id.Provider})
		return err
	})
	if err != nil {
		return Tokens{}, err
	}
	return out, nil
}

// TakeLoginAttempt charges one attempt to by.IP in the allowance password
// logins share (per client address), for a sign-in whose proof is checked
// outside the service, such as an ID token a native app exchanges. It
// returns a *ThrottleError (ErrThrottled) when the address has none left, and
// otherwise refund: call it once the sign-in succeeded, and only then, so
// that only failures count.
func (s *Service) TakeLoginAttempt(by Actor) (refund func(), err error) {
	refund, wait := s.loginIPs.take(by.IP, s.now())
	if wait > 0 {
		return nil, &ThrottleError{RetryAfter: wait, Msg: "too many login attempts from this address; try again later"}
	}
	return refund, nil
}
