package deploy_test

import (
	"net/http"
	"testing"
)

// pageCases are the TestProxies cases for browsers' page requests on a stack
// without a sign-in portal; browser_test.go drives a real browser through one.
var pageCases = []testCase{
	{name: "PageRequestWithoutPortal", run: func(t *testing.T, s *stack) {
		// A browser's page request, on a host under no cookie domain (this authgate has
		// none): no redirect, the API client's answers. nginx's go through its deny
		// dispatcher, which must leave them as they were.
		page := http.Header{"Accept": {"text/html,application/xhtml+xml,*/*;q=0.8"}}
		tag := uniqueTag("page")
		r := s.send(t, "GET", "/events/"+tag, page, "")
		s.denied(t, r, tag, http.StatusUnauthorized)
		if got := r.header.Values("WWW-Authenticate"); len(got) != 1 {
			t.Errorf("WWW-Authenticate %q; want authgate's challenge, once", got)
		}
		if got := r.header.Get("Location"); got != "" {
			t.Errorf("Location %q; want none", got)
		}
		tag = uniqueTag("page-scope")
		r = s.send(t, "GET", "/cameras/"+tag, with(page, "X-Api-Key", s.events.Key), "")
		s.denied(t, r, tag, http.StatusForbidden)
		if got := r.header.Get("Location"); got != "" {
			t.Errorf("Location %q; want none", got)
		}
	}},
}
