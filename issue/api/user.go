package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// User is a user as the API shows it: never the password or its hash, nor
// the state of failed logins.
type User struct {
	ID         string     `json:"id"` // usr_…
	Username   string     `json:"username"`
	Email      string     `json:"email"`
	FullName   string     `json:"full_name"`
	DisabledAt *time.Time `json:"disabled_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Roles      []string   `json:"roles"`
}

func userOf(u issue.User) User {
	return User{ID: u.ID, Username: u.Username, Email: u.Email, FullName: u.FullName, DisabledAt: u.DisabledAt,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Roles: list(u.Roles)}
}

// UserPage is a page of users, newest first.
type UserPage struct {
	Users      []User  `json:"users"`
	NextCursor *string `json:"next_cursor"`
}

// UserRoles answers the routes that read or change a user's roles.
type UserRoles struct {
	Roles []string `json:"roles"`
}

// UserPermissions is what a user's roles give them.
type UserPermissions struct {
	Permissions []string `json:"permissions"`
}

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
	u, err := a.svc.CreateUser(c.Request().Context(), issue.UserRequest(b), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, userOf(u))
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
		issue.UserRequest{Username: b.Username, Email: b.Email, FullName: b.FullName, Password: b.Password}, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, userOf(u))
}

func (a *API) listUsers(c echo.Context) error {
	_, limit, cursor, err := pageParams(c)
	if err != nil {
		return err
	}
	after, err := afterCursor(cursor)
	if err != nil {
		return err
	}
	users, next, err := a.svc.ListUsers(c.Request().Context(), after, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, UserPage{Users: listOf(users, userOf), NextCursor: nextCursor(next)})
}

func (a *API) getUser(c echo.Context) error {
	u, err := a.svc.GetUser(c.Request().Context(), pathParam(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userOf(u))
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
	u, err := a.svc.UpdateUser(c.Request().Context(), pathParam(c, "id"), issue.UserUpdate(b), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userOf(u))
}

func (a *API) disableUser(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	u, err := a.svc.SetUserDisabled(c.Request().Context(), pathParam(c, "id"), true, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userOf(u))
}

func (a *API) enableUser(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	u, err := a.svc.SetUserDisabled(c.Request().Context(), pathParam(c, "id"), false, actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userOf(u))
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
	return c.JSON(http.StatusOK, UserPermissions{Permissions: list(ps)})
}

func (a *API) userRoles(c echo.Context) error {
	roles, err := a.svc.UserRoles(c.Request().Context(), pathParam(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, UserRoles{Roles: list(roles)})
}

func (a *API) assignRole(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	roles, err := a.svc.AssignRole(c.Request().Context(), pathParam(c, "id"), pathParam(c, "role"), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, UserRoles{Roles: list(roles)})
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
