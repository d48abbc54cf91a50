package issue

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type createUserBody struct {
	Username string   `json:"username"`
	Email    string   `json:"email"`
	FullName string   `json:"full_name"`
	Password string   `json:"password"`
	Roles    []string `json:"roles"`
}

func (a *API) createUser(c echo.Context) error {
	var b createUserBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	u, err := a.svc.CreateUser(c.Request().Context(), NewUser(b), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

// registerBody has no roles: a self-registered user gets none.
type registerBody struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	FullName string `json:"full_name"`
	Password string `json:"password"`
}

func (a *API) register(c echo.Context) error {
	var b registerBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	u, err := a.svc.Register(c.Request().Context(),
		NewUser{Username: b.Username, Email: b.Email, FullName: b.FullName, Password: b.Password}, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

type userPage struct {
	Users      []User  `json:"users"`
	NextCursor *string `json:"next_cursor"`
}

func (a *API) listUsers(c echo.Context) error {
	after, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	users, next, err := a.svc.ListUsers(c.Request().Context(), after, limit)
	if err != nil {
		return err
	}
	page := userPage{Users: users}
	if page.Users == nil {
		page.Users = []User{}
	}
	if next != nil {
		s := encodeCursor(*next)
		page.NextCursor = &s
	}
	return c.JSON(http.StatusOK, page)
}

func (a *API) getUser(c echo.Context) error {
	u, err := a.svc.GetUser(c.Request().Context(), pathParam(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

type updateUserBody struct {
	FullName *string `json:"full_name"`
	Email    *string `json:"email"`
	Password *string `json:"password"`
}

func (a *API) updateUser(c echo.Context) error {
	var b updateUserBody
	if err := decode(c.Request(), &b, false); err != nil {
		return err
	}
	u, err := a.svc.UpdateUser(c.Request().Context(), pathParam(c, "id"), UserUpdate(b), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (a *API) disableUser(c echo.Context) error { return a.setUserDisabled(c, true) }
func (a *API) enableUser(c echo.Context) error  { return a.setUserDisabled(c, false) }

func (a *API) setUserDisabled(c echo.Context, disabled bool) error {
	if err := noBody(c); err != nil {
		return err
	}
	u, err := a.svc.DisableUser(c.Request().Context(), pathParam(c, "id"), disabled, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (a *API) deleteUser(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	if err := a.svc.DeleteUser(c.Request().Context(), pathParam(c, "id"), actorOf(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) userPermissions(c echo.Context) error {
	ps, err := a.svc.UserPermissions(c.Request().Context(), pathParam(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]string{"permissions": ps})
}

func (a *API) userRoles(c echo.Context) error {
	roles, err := a.svc.UserRoles(c.Request().Context(), pathParam(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]string{"roles": roles})
}

func (a *API) assignRole(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	roles, err := a.svc.AssignRole(c.Request().Context(), pathParam(c, "id"), pathParam(c, "role"), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]string{"roles": roles})
}

func (a *API) unassignRole(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	if _, err := a.svc.UnassignRole(c.Request().Context(), pathParam(c, "id"), pathParam(c, "role"), actorOf(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// noBody accepts an empty body or {} and refuses anything else.
func noBody(c echo.Context) error {
	var empty struct{}
	return decode(c.Request(), &empty, true)
}
