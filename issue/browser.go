package issue

import (
	"context"
	"errors"
	"time"

	"github.com/authgate/authgate/verify"
)

// BrowserSession is a browser's sign-in, as SignIn answers it.
type BrowserSession struct {
	ID        string // ses_…
	UserID    string
	Cookie    string    // ags_…, the cookie's value: revealed once, stored only as a MAC
	ExpiresAt time.Time // absolute expiry: the cookie's Expires when Remember
	Remember  bool
}

// BrowserSignIn is what a person chooses for a browser session, however they
// proved who they are.
type BrowserSignIn struct {
	DeviceName string // optional: what the user calls this device (validDeviceName)
	Remember   bool   // "remember this device": BrowserRememberTTL idle instead of BrowserIdleTTL
}

// SessionCookie is the stored form of a browser session's cookie (ags_…): its
// lookup id and the HMAC of its secret, like an API key's, and the cookie
// domain it was set for, outside which it is never honoured.
type SessionCookie struct {
	LookupID   string
	SecretMAC  []byte
	MACVersion int16
	Domain     string
}

// SignIn checks the password exactly as Login does (the same throttles,
// lockout, hash gate and answers; every attempt audited, a success as
// user.login with kind browser) and starts a browser session: a new cookie
// every time, never one the browser had. The session ends after
// BrowserIdleTTL unused (BrowserRememberTTL with in.Remember) and
// BrowserAbsoluteTTL after sign-in however used. The MaxSessions cap counts
// browser and API sessions together, the oldest evicted first. Unlike Login it
// needs no signing key. domain is the cookie domain the cookie is set for (the
// portal's configuration, never the client's word): the session is honoured
// on that domain's hosts only.
func (s *Service) SignIn(ctx context.Context, domain string, in LoginRequest, by Actor) (BrowserSession, error) {
	if domain == "" {
		return BrowserSession{}, errors.New("sign in: no cookie domain")
	}
	if err := validLogin(in); err != nil {
		return BrowserSession{}, err
	}
	now := s.now()
	u, refund, err := s.authenticate(ctx, in, by, now)
	if err != nil {
		return BrowserSession{}, err
	}
	var out BrowserSession
	err = s.startSession(ctx, u.ID, u.PasswordHash, now, func(tx Store, u User) error {
		var err error
		out, err = s.browserSession(ctx, tx, u, domain, BrowserSignIn{DeviceName: in.DeviceName, Remember: in.Remember},
			by, now, nil)
		return err
	})
	if err != nil {
		return BrowserSession{}, err
	}
	refund() // only a success gives the attempt back, as in Login
	return out, nil
}

// browserSession starts a browser session for u, who has proved who they are,
// through tx (the transaction that read u, holding their row): the one way
// SignIn and SignInExternal create one. meta is added to the user.login row.
func (s *Service) browserSession(ctx context.Context, tx Store, u User, domain string, in BrowserSignIn, by Actor,
	now time.Time, meta map[string]any) (BrowserSession, error) {
	idle := s.opts.BrowserIdleTTL
	if in.Remember {
		idle = s.opts.BrowserRememberTTL
	}
	sess := Session{ID: "ses_" + verify.RandomString(16), UserID: u.ID, Kind: SessionBrowser, DeviceName: in.DeviceName,
		CreatedAt: now, RefreshedAt: now, ExpiresAt: now.Add(s.opts.BrowserAbsoluteTTL),
		IP: by.IP, UserAgent: truncateRunes(by.UserAgent, maxUserAgentLen), Remember: in.Remember, IdleTTL: idle}
	sess.IdleExpiresAt = earlier(now.Add(idle), sess.ExpiresAt)
	cookie := verify.NewKey(verify.PrefixSession)
	version, mac := s.hasher.Sum(cookie.Secret)
	err := s.openSession(ctx, tx, u, sess, by, now, meta, func() error {
		return tx.SessionInsertBrowser(ctx, sess, SessionCookie{LookupID: cookie.LookupID, SecretMAC: mac,
			MACVersion: version, Domain: domain})
	})
	if err != nil {
		return BrowserSession{}, err
	}
	return BrowserSession{ID: sess.ID, UserID: u.ID, Cookie: cookie.Reveal(), ExpiresAt: sess.ExpiresAt, Remember: in.Remember}, nil
}
