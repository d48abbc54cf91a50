package issue

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

func (a *API) listRoles(c echo.Context) error {
	roles, err := a.svc.ListRoles(c.Request().Context())
	if err != nil {
		return err
	}
	if roles == nil {
		roles = []Role{}
	}
	return c.JSON(http.StatusOK, map[string][]Role{"roles": roles})
}

type createNamedBody struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type createRoleBody struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"` // each one the caller holds
}

func (a *API) createRole(c echo.Context) error {
	var b createRoleBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	r, err := a.svc.CreateRole(c.Request().Context(), b.Name, b.Description, b.Permissions, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

func (a *API) deleteRole(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	if err := a.svc.DeleteRole(c.Request().Context(), pathParam(c, "name"), actorOf(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) grantPermission(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	r, err := a.svc.GrantPermission(c.Request().Context(), pathParam(c, "name"), pathParam(c, "perm"), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (a *API) revokePermission(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	if err := a.svc.RevokePermission(c.Request().Context(), pathParam(c, "name"), pathParam(c, "perm"), actorOf(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) listPermissions(c echo.Context) error {
	ps, err := a.svc.ListPermissions(c.Request().Context())
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []Permission{}
	}
	return c.JSON(http.StatusOK, map[string][]Permission{"permissions": ps})
}

func (a *API) createPermission(c echo.Context) error {
	var b createNamedBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	p, err := a.svc.CreatePermission(c.Request().Context(), b.Name, b.Description, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (a *API) deletePermission(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	if err := a.svc.DeletePermission(c.Request().Context(), pathParam(c, "name"), actorOf(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// pathParam returns path parameter name, percent-decoded: Echo leaves parameters
// as sent when the path has escapes, and clients may encode the colon of a
// permission. A bad escape leaves the value as sent, which matches nothing.
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}
