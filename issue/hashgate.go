package issue

import (
	"context"
	"sync/atomic"
	"time"
)

// hashGate bounds how many password hashes run at once. Each argon2id takes
// argonMemory (19 MiB) for its duration, so n at once cost at most n × 19 MiB,
// however many logins arrive together. A caller waits up to wait for a slot,
// then is answered at once with ErrBusy rather than queueing without bound.
type hashGate struct {
	slots   chan struct{}
	wait    time.Duration
	waiting atomic.Int64 // callers waiting for a slot now
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
		if err := g.queue(ctx); err != nil {
			return err
		}
	}
	defer func() { <-g.slots }()
	f()
	return nil
}

// queue waits for a slot, counted in waiting meanwhile.
func (g *hashGate) queue(ctx context.Context) error {
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-t.C:
		return errHashBusy
	case <-ctx.Done():
		return ctx.Err()
	}
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

// HashQueue is the password-hashing gate's state at one moment.
type HashQueue struct {
	Running  int // hashes running now
	Waiting  int // callers waiting for a slot
	Capacity int // hashes that may run at once (Options.HashConcurrency)
}

// HashQueue returns the password-hashing gate's state now (for metrics).
func (s *Service) HashQueue() HashQueue {
	return HashQueue{Running: len(s.hashes.slots), Waiting: int(s.hashes.waiting.Load()), Capacity: cap(s.hashes.slots)}
}
