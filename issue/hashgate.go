package issue

import (
	"context"
	"time"
)

// hashGate bounds how many password hashes run at once. Each argon2id takes
// argonMemory (19 MiB) for its duration, so n at once cost at most n × 19 MiB,
// however many logins arrive together. A caller waits up to wait for a slot,
// then is answered at once with ErrBusy rather than queueing without bound.
type hashGate struct {
	slots chan struct{}
	wait  time.Duration
}

// hashWait is how long a password check waits for a free slot before the
// server answers 503: longer than a few hashes, shorter than a client's patience.
const hashWait = time.Second

func newHashGate(n int, wait time.Duration) *hashGate {
	return &hashGate{slots: make(chan struct{}, n), wait: wait}
}

// errHashBusy answers a login, registration or password change that found
// every hashing slot taken for hashWait.
var errHashBusy = &ThrottleError{Busy: true, RetryAfter: time.Second,
	Msg: "the server is busy checking other passwords; try again in a second"}

// run calls f once a slot is free. It returns errHashBusy (ErrBusy) when none
// frees within the wait, and ctx's error when ctx ends first; f has not run then.
func (g *hashGate) run(ctx context.Context, f func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(g.wait)
		defer t.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-t.C:
			return errHashBusy
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-g.slots }()
	f()
	return nil
}

// hashPassword is HashPassword within the gate.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	var hash string
	var err error
	if gerr := s.hashes.run(ctx, func() { hash, err = HashPassword(pw) }); gerr != nil {
		return "", gerr
	}
	return hash, err
}
