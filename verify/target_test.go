package verify

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestForwardedTarget(t *testing.T) {
	full := http.Header{
		"X-Forwarded-Method": {"POST"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example"},
		"X-Forwarded-Uri": {"/events?x=1"}, "X-Forwarded-For": {"203.0.113.7"},
	}
	without := func(name string) http.Header {
		h := full.Clone()
		delete(h, name)
		return h
	}
	tests := []struct {
		name     string
		header   http.Header
		want     Target
		wantText string // in the error message, when an error is expected
	}{
		{"Complete", full, Target{"POST", "https", "app.example", "/events?x=1", "203.0.113.7"}, ""},
		{"NoForIsFine", without("X-Forwarded-For"), Target{"POST", "https", "app.example", "/events?x=1", ""}, ""},
		{"NoMethod", without("X-Forwarded-Method"), Target{}, "X-Forwarded-Method"},
		{"NoProto", without("X-Forwarded-Proto"), Target{}, "X-Forwarded-Proto"},
		{"NoHost", without("X-Forwarded-Host"), Target{}, "X-Forwarded-Host"},
		{"NoURI", without("X-Forwarded-Uri"), Target{}, "X-Forwarded-Uri"},
		{"OriginalHeadersAreNotRead", http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/"}}, Target{}, "X-Forwarded-Method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ForwardedTarget(tt.header)
			checkTarget(t, got, err, tt.want, tt.wantText)
		})
	}
}

func TestOriginalTarget(t *testing.T) {
	tests := []struct {
		name     string
		header   http.Header
		want     Target
		wantText string
	}{
		{"URI", http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/a?b=c"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"h"}},
			Target{"GET", "https", "h", "/a?b=c", ""}, ""},
		{"URL", http.Header{"X-Original-Method": {"GET"}, "X-Original-Url": {"https://h.example/a/b?c=d"}},
			Target{"GET", "https", "h.example", "/a/b?c=d", ""}, ""},
		{"RelativeURL", http.Header{"X-Original-Method": {"GET"}, "X-Original-Url": {"/a"}}, Target{}, "X-Original-URL"},
		{"NoMethod", http.Header{"X-Original-Uri": {"/"}}, Target{}, "X-Original-Method"},
		{"NoURI", http.Header{"X-Original-Method": {"GET"}}, Target{}, "X-Original-URI"},
		{"ForwardedHeadersAreNotRead", http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/"}}, Target{}, "X-Original-Method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OriginalTarget(tt.header)
			checkTarget(t, got, err, tt.want, tt.wantText)
		})
	}
}

func checkTarget(t *testing.T, got Target, err error, want Target, wantText string) {
	t.Helper()
	if wantText != "" {
		if !errors.Is(err, ErrMisconfigured) || !strings.Contains(err.Error(), wantText) {
			t.Fatalf("err = %v; want ErrMisconfigured naming %s", err, wantText)
		}
		return
	}
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
}

func FuzzTargets(f *testing.F) {
	f.Add("GET", "/x", "https://h/x")
	f.Fuzz(func(t *testing.T, method, uri, rawURL string) {
		h := http.Header{"X-Original-Method": {method}, "X-Original-Url": {rawURL},
			"X-Forwarded-Method": {method}, "X-Forwarded-Uri": {uri}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"h"}}
		for _, parse := range []func(http.Header) (Target, error){ForwardedTarget, OriginalTarget} {
			tg, err := parse(h)
			if err == nil && (tg.Method == "" || tg.URI == "") {
				t.Fatalf("accepted a target without method or URI: %+v", tg)
			}
			if err != nil && !errors.Is(err, ErrMisconfigured) {
				t.Fatalf("error %v is not ErrMisconfigured", err)
			}
		}
	})
}
