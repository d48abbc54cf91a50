package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// Role is a role as the API shows it.
type Role struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Builtin     bool     `json:"builtin"`
	Permissions []string `json:"permissions"` // sorted; for admin, every permission
}

func roleOf(r issue.Role) Role {
	return Role{Name: r.Name, Description: r.Description, Builtin: r.Builtin, Permissions: list(r.Permissions)}
}

// Permission is a permission as the API shows it.
type Permission struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Builtin     bool   `json:"builtin"`
}

func permissionOf(p issue.Permission) Permission {
	return Permission{Name: p.Name, Description: p.Description, Builtin: p.Builtin}
}

// RoleList is every role.
type RoleList struct {
	Roles []Role `json:"roles"`
}

// PermissionList is the permission catalogue.
type PermissionList struct {
	Permissions []Permission `json:"permissions"`
}

func (a *API) listRoles(c echo.Context) error {
	roles, err := a.svc.ListRoles(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, RoleList{Roles: listOf(roles, roleOf)})
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
	return c.JSON(http.StatusCreated, roleOf(r))
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
	return c.JSON(http.StatusOK, roleOf(r))
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
	return c.JSON(http.StatusOK, PermissionList{Permissions: listOf(ps, permissionOf)})
}

type createPermissionBody struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (a *API) createPermission(c echo.Context) error {
	var b createPermissionBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	p, err := a.svc.CreatePermission(c.Request().Context(), b.Name, b.Description, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, permissionOf(p))
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
