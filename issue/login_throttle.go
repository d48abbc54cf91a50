package issue

import "time"

// AddressLimit limits requests per client address, in memory, with the
// login throttle's machinery: each address may make burst requests at once,
// refilled evenly over window, and at most 10,000 addresses are remembered.
// It guards routes anyone may call that cost something each time (the
// portal's sign-in through a provider: a cookie per start, a call to the
// provider's token endpoint per callback). Unlike the login throttle it
// counts every request, not only failures. Safe for concurrent use.
type AddressLimit struct {
	t   *ipThrottle
	msg string
}

// NewAddressLimit allows each address burst requests per window (both above
// zero). msg is the refusal's message, "too many … from this address".
func NewAddressLimit(burst int, window time.Duration, msg string) *AddressLimit {
	return &AddressLimit{t: newIPThrottle(max(burst, 1), max(window, time.Second)), msg: msg}
}

// Take charges one request to address ip at now. Returns a *ThrottleError
// (ErrThrottled) with the wait when ip has none left; the refused request is
// not charged.
func (l *AddressLimit) Take(ip string, now time.Time) error {
	if _, wait := l.t.take(ip, now); wait > 0 {
		return &ThrottleError{RetryAfter: wait, Msg: l.msg}
	}
	return nil
}
