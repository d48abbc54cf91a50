package portal

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// deniedView is the missing-permission page's data.
type deniedView struct {
	chrome
	Scope string // the permission the page needs, when the link named a plausible one
	RD    string // the validated return URL, or ""
}

// maxScopeLen bounds the permission name the page repeats.
const maxScopeLen = 200

// denied is GET /denied?scope=…&rd=…: the 403 page the hot path sends a
// signed-in person to when a page needs a permission they lack. It works
// signed out too (the session may have ended since), and shows a return URL
// only if the rule accepts it.
func (p *Portal) denied(c echo.Context) error {
	v := deniedView{chrome: chrome{Title: "No access"}}
	if sc := c.QueryParam("scope"); plausibleScope(sc) {
		v.Scope = sc
	}
	if rd, ok := p.returnURL(siteOf(c), c.QueryParam("rd")); ok {
		v.RD = rd
	}
	if pr, _, err := p.signedIn(c); err != nil {
		p.log.Warn("portal: session check on the denied page", "err", err.Error())
	} else if pr != nil {
		v.User = pr.User
	}
	return p.render(c, http.StatusForbidden, "denied", v)
}

// plausibleScope reports whether s could be a permission name worth showing:
// printable ASCII without spaces, at most maxScopeLen bytes.
func plausibleScope(s string) bool {
	if s == "" || len(s) > maxScopeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
