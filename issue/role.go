package issue

// RoleAdmin holds every permission, including those added later.
const RoleAdmin = "admin"

// Role is a named set of permissions.
type Role struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Builtin     bool     `json:"builtin"`
	Permissions []string `json:"permissions"` // sorted; for admin, every permission
}

// Permission is a named right, resource:action (keys:write, events:read).
type Permission struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Builtin     bool   `json:"builtin"`
}
