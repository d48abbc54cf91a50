package portal

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// msgBadLogin is what a failed sign-in says, whatever failed: an unknown
// user, a wrong password and a disabled account look alike.
const msgBadLogin = "Invalid username or password."

// formError maps an error from the service to the status and the message shown
// beside the form that caused it. ok is false for anything unexpected: the
// caller answers the 500 page, which says nothing internal.
//
//	*issue.ThrottleError  429 (503 when busy)  its message, with the wait
//	ErrUnauthenticated    401                  its message (sign-in: msgBadLogin)
//	ErrInvalid            400                  the field and what is wrong
//	ErrPermission         403                  the permission or rule
//	ErrConflict           409                  the state that refuses it
//	verify.ErrNotFound    404                  what is missing
func formError(err error) (status int, msg string, ok bool) {
	if te, isThrottle := errors.AsType[*issue.ThrottleError](err); isThrottle {
		status = http.StatusTooManyRequests
		if te.Busy {
			status = http.StatusServiceUnavailable
		}
		return status, throttleMessage(te), true
	}
	for _, row := range []struct {
		err    error
		status int
	}{
		{issue.ErrUnauthenticated, http.StatusUnauthorized},
		{issue.ErrInvalid, http.StatusBadRequest},
		{issue.ErrPermission, http.StatusForbidden},
		{issue.ErrConflict, http.StatusConflict},
		{verify.ErrNotFound, http.StatusNotFound},
	} {
		if !errors.Is(err, row.err) {
			continue
		}
		msg := http.StatusText(row.status)
		if ce, isClient := errors.AsType[issue.ClientError](err); isClient {
			msg = ce.ClientMessage()
		}
		if fe, isField := errors.AsType[*issue.FieldError](err); isField && fe.Field != "" {
			msg = fieldLabel(fe.Field) + ": " + fe.Msg
		}
		return row.status, sentence(msg), true
	}
	return http.StatusInternalServerError, "", false
}

// fieldLabels name the service's fields as the forms label them.
var fieldLabels = map[string]string{
	"login":            "Username or email",
	"password":         "Password",
	"device_name":      "Device name",
	"name":             "Name",
	"expires_in_days":  "Expires after (days)",
	"scopes":           "Scopes",
	"current_password": "Current password",
	"new_password":     "New password",
}

func fieldLabel(field string) string {
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	return field
}

// throttleMessage is a throttle's message with the wait spelled out: "Too many
// failed logins for this account. Try again in 5 minutes."
func throttleMessage(te *issue.ThrottleError) string {
	msg := strings.TrimSuffix(strings.TrimSuffix(te.Msg, "; try again later"), ".")
	return sentence(msg) + " Try again in " + waitWords(te.RetryAfter) + "."
}

// waitWords says a wait in whole minutes, or in seconds under a minute,
// rounded up so that nobody is told to come back too early.
func waitWords(d time.Duration) string {
	if d <= 0 {
		d = time.Second
	}
	if d >= time.Minute {
		return plural(int((d+time.Minute-1)/time.Minute), "minute")
	}
	return plural(int((d+time.Second-1)/time.Second), "second")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// sentence starts msg with a capital letter and ends it with a full stop.
func sentence(msg string) string {
	if msg == "" {
		return ""
	}
	if c := msg[0]; 'a' <= c && c <= 'z' {
		msg = string(c-'a'+'A') + msg[1:]
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
