package portal

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/portal.css
var stylesheetCSS []byte

// pageNames are the pages, each templates/<name>.html inside layout.html.
var pageNames = []string{"login", "account", "denied", "error"}

// parsePages parses every page once, at start-up.
func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// chrome is what the layout shows around every page.
type chrome struct {
	Title string
	User  string // the signed-in username, shown with a sign-out button; "" for nobody
}

// render answers status with page name filled in from data.
func (p *Portal) render(c echo.Context, status int, name string, data any) error {
	if name == "login" && p.providers != nil { // its provider buttons lead to the providers
		c.Response().Header().Set("Content-Security-Policy", allowFormTargets(p.csp, p.providers.AuthorizationOrigins()))
	}
	var buf bytes.Buffer
	if err := p.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		p.log.Error("portal: render page", "page", name, "err", err.Error(),
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return c.String(http.StatusInternalServerError, "Internal Server Error")
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// stylesheet is GET /static/portal.css.
func (p *Portal) stylesheet(c echo.Context) error {
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", stylesheetCSS)
}

// errorKind is an error page's words and its way on.
type errorKind struct {
	Heading  string
	Message  string
	LinkText string
	LinkHref string
}

// The error pages. None says anything internal: a 500's detail is in the log,
// found by the reference (the request id) the page shows.
var (
	pageNotFound = &errorKind{"Page not found", "There is no such page here.",
		"Go to your account", "/account"}
	pageCrossOrigin = &errorKind{"Form refused",
		"This form was sent from another site, so it was not accepted. Open the page on this site and send the form from there.",
		"Go to your account", "/account"}
	pageBadReturn = &errorKind{"This sign-in link cannot be followed",
		"The link that brought you here would send you on to an address this sign-in page does not serve, so it was not followed. You can still sign in.",
		"Sign in without it", "/login"}
	pageSessionEnded = &errorKind{"Your session has ended",
		"You signed out, the session expired, or it was ended from another device. Sign in again to go on.",
		"Sign in again", "/login"}
	pageBadForm = &errorKind{"The form could not be read",
		"The form that was sent is too large or malformed. Go back and try again.",
		"Go to your account", "/account"}
	pageServer = &errorKind{"Something went wrong",
		"The request could not be completed. Try again in a moment; if it keeps happening, tell your administrator the reference below.",
		"Go to your account", "/account"}
)

// errorView is the error page's data.
type errorView struct {
	chrome
	*errorKind
	Status    int
	Reference string // the request id, on a 500 only
}

// errorPage answers status with the error page of kind k. err, when set, is
// logged (at error level for a 5xx), never shown.
func (p *Portal) errorPage(c echo.Context, status int, k *errorKind, err error) error {
	v := errorView{chrome: chrome{Title: k.Heading}, errorKind: k, Status: status}
	id := c.Response().Header().Get(echo.HeaderXRequestID)
	if status >= 500 {
		v.Reference = id
	}
	if err != nil {
		log := p.log.Info
		if status >= 500 {
			log = p.log.Error
		}
		log("portal: "+k.Heading, "method", c.Request().Method, "path", c.Path(), "status", status,
			"err", err.Error(), "request_id", id)
	}
	return p.render(c, status, "error", v)
}

// serverError answers the 500 page and logs err.
func (p *Portal) serverError(c echo.Context, err error) error {
	return p.errorPage(c, http.StatusInternalServerError, pageServer, err)
}
