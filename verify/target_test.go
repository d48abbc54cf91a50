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
	withURI := func(uri string) http.Header {
		h := full.Clone()
		h["X-Forwarded-Uri"] = []string{uri}
		return h
	}
	tests := []struct {
		name     string
		header   http.Header
		want     Target
		wantErr  error  // when an error is expected
		wantText string // in the error message, for ErrMisconfigured
	}{
		{name: "Complete", header: full,
			want: Target{Method: "POST", Proto: "https", Host: "app.example", URI: "/events?x=1", Path: "/events", ClientIP: "203.0.113.7"}},
		{name: "NoForIsFine", header: without("X-Forwarded-For"),
			want: Target{Method: "POST", Proto: "https", Host: "app.example", URI: "/events?x=1", Path: "/events"}},
		{name: "PathIsNormalised", header: withURI("/public/..//events/?x=/%2e%2e"),
			want: Target{Method: "POST", Proto: "https", Host: "app.example", URI: "/public/..//events/?x=/%2e%2e", Path: "/events/", ClientIP: "203.0.113.7"}},
		{name: "EncodedDotDot", header: withURI("/events/..%2Fcameras/x"), wantErr: ErrBadPath, wantText: "made by %-escapes"},
		{name: "DotDotAboveRoot", header: withURI("/../events"), wantErr: ErrBadPath},
		{name: "AbsoluteForm", header: withURI("https://app.example/events"), wantErr: ErrBadPath},
		{name: "NoMethod", header: without("X-Forwarded-Method"), wantErr: ErrMisconfigured, wantText: "X-Forwarded-Method"},
		{name: "NoProto", header: without("X-Forwarded-Proto"), wantErr: ErrMisconfigured, wantText: "X-Forwarded-Proto"},
		{name: "NoHost", header: without("X-Forwarded-Host"), wantErr: ErrMisconfigured, wantText: "X-Forwarded-Host"},
		{name: "NoURI", header: without("X-Forwarded-Uri"), wantErr: ErrMisconfigured, wantText: "X-Forwarded-Uri"},
		{name: "OriginalHeadersAreNotRead", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/"}},
			wantErr: ErrMisconfigured, wantText: "X-Forwarded-Method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ForwardedTarget(tt.header)
			checkTarget(t, got, err, tt.want, tt.wantErr, tt.wantText)
		})
	}
}

func TestOriginalTarget(t *testing.T) {
	tests := []struct {
		name     string
		header   http.Header
		want     Target
		wantErr  error
		wantText string
	}{
		{name: "URI", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/a?b=c"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"h"}},
			want: Target{Method: "GET", Proto: "https", Host: "h", URI: "/a?b=c", Path: "/a"}},
		{name: "URL", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Url": {"https://h.example/a/b?c=d"}},
			want: Target{Method: "GET", Proto: "https", Host: "h.example", URI: "/a/b?c=d", Path: "/a/b"}},
		{name: "URIPathIsNormalised", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/public/../app/secret"}},
			want: Target{Method: "GET", URI: "/public/../app/secret", Path: "/app/secret"}},
		{name: "URLPathIsNormalised", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Url": {"https://h//public/../app?c=d"}},
			want: Target{Method: "GET", Proto: "https", Host: "h", URI: "//public/../app?c=d", Path: "/app"}},
		{name: "URIEncodedDotDot", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/public/%2e%2e/app"}},
			wantErr: ErrBadPath, wantText: "made by %-escapes"},
		{name: "URLEncodedDotDot", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Url": {"https://h/public/%2E%2E/app"}},
			wantErr: ErrBadPath, wantText: "made by %-escapes"},
		{name: "URIDotDotAboveRoot", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/a/../../b"}}, wantErr: ErrBadPath},
		{name: "URIEncodedNUL", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/a%00"}}, wantErr: ErrBadPath},
		{name: "URLDotDotAboveRoot", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Url": {"https://h/%2e%2e/b"}}, wantErr: ErrBadPath},
		{name: "URLInvalidEscape", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Url": {"https://h/a%zz"}}, wantErr: ErrBadPath},
		{name: "RelativeURL", header: http.Header{"X-Original-Method": {"GET"}, "X-Original-Url": {"/a"}}, wantErr: ErrMisconfigured, wantText: "X-Original-URL"},
		{name: "NoMethod", header: http.Header{"X-Original-Uri": {"/"}}, wantErr: ErrMisconfigured, wantText: "X-Original-Method"},
		{name: "NoURI", header: http.Header{"X-Original-Method": {"GET"}}, wantErr: ErrMisconfigured, wantText: "X-Original-URI"},
		{name: "ForwardedHeadersAreNotRead", header: http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/"}},
			wantErr: ErrMisconfigured, wantText: "X-Original-Method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OriginalTarget(tt.header)
			checkTarget(t, got, err, tt.want, tt.wantErr, tt.wantText)
		})
	}
}

func checkTarget(t *testing.T, got Target, err error, want Target, wantErr error, wantText string) {
	t.Helper()
	if wantErr != nil {
		if !errors.Is(err, wantErr) || !strings.Contains(err.Error(), wantText) {
			t.Fatalf("err = %v; want %v naming %q", err, wantErr, wantText)
		}
		return
	}
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
}

func FuzzTargets(f *testing.F) {
	f.Add("GET", "/x", "https://h/x")
	f.Add("GET", "/a/../x", "https://h/%2e%2e/x")
	f.Fuzz(func(t *testing.T, method, uri, rawURL string) {
		h := http.Header{"X-Original-Method": {method}, "X-Original-Url": {rawURL},
			"X-Forwarded-Method": {method}, "X-Forwarded-Uri": {uri}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"h"}}
		for _, parse := range []func(http.Header) (Target, error){ForwardedTarget, OriginalTarget} {
			tg, err := parse(h)
			if err == nil && (tg.Method == "" || tg.URI == "" || !strings.HasPrefix(tg.Path, "/")) {
				t.Fatalf("accepted a target without method, URI or path: %+v", tg)
			}
			if err != nil && !errors.Is(err, ErrMisconfigured) && !errors.Is(err, ErrBadPath) {
				t.Fatalf("error %v is neither ErrMisconfigured nor ErrBadPath", err)
			}
		}
	})
}
