-- Names sort with COLLATE "C" so the order is the same as Go's byte order,
-- whatever the database's collation.

-- name: RoleList :many
-- The admin role holds every permission, present and future.
SELECT r.name, r.description, r.builtin,
       (CASE WHEN r.name = @admin_role::text
             THEN (SELECT coalesce(array_agg(p.name ORDER BY p.name COLLATE "C"), '{}') FROM permissions p)
             ELSE (SELECT coalesce(array_agg(rp.permission ORDER BY rp.permission COLLATE "C"), '{}')
                   FROM role_permissions rp WHERE rp.role = r.name)
        END)::text[] AS permissions
FROM roles r
ORDER BY r.name COLLATE "C";

-- name: RoleGetByName :one
SELECT r.name, r.description, r.builtin,
       (CASE WHEN r.name = @admin_role::text
             THEN (SELECT coalesce(array_agg(p.name ORDER BY p.name COLLATE "C"), '{}') FROM permissions p)
             ELSE (SELECT coalesce(array_agg(rp.permission ORDER BY rp.permission COLLATE "C"), '{}')
                   FROM role_permissions rp WHERE rp.role = r.name)
        END)::text[] AS permissions
FROM roles r
WHERE r.name = @name;

-- name: RoleInsert :exec
INSERT INTO roles (name, description, builtin) VALUES (@name, @description, @builtin);

-- name: RoleDelete :execrows
DELETE FROM roles WHERE name = @name;

-- name: PermissionList :many
SELECT name, description, builtin FROM permissions ORDER BY name COLLATE "C";

-- name: PermissionInsert :exec
INSERT INTO permissions (name, description, builtin) VALUES (@name, @description, @builtin);

-- name: PermissionDelete :execrows
DELETE FROM permissions WHERE name = @name;

-- name: RoleGrant :exec
-- An unknown role or permission is a foreign-key violation.
INSERT INTO role_permissions (role, permission) VALUES (@role, @permission) ON CONFLICT DO NOTHING;

-- name: RoleRevoke :exec
DELETE FROM role_permissions WHERE role = @role AND permission = @permission;

-- name: UserRoleAssign :exec
-- An unknown user or role is a foreign-key violation.
INSERT INTO user_roles (user_id, role) VALUES (@user_id, @role) ON CONFLICT DO NOTHING;

-- name: UserRoleUnassign :exec
DELETE FROM user_roles WHERE user_id = @user_id AND role = @role;

-- name: UserRoleList :many
SELECT role FROM user_roles WHERE user_id = @user_id ORDER BY role COLLATE "C";

-- name: UserPermissionList :many
-- Every permission for a holder of the admin role, else the union of its roles' grants.
SELECT p.name FROM permissions p
WHERE EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = @user_id AND ur.role = @admin_role::text)
   OR EXISTS (SELECT 1 FROM user_roles ur JOIN role_permissions rp ON rp.role = ur.role
              WHERE ur.user_id = @user_id AND rp.permission = p.name)
ORDER BY p.name COLLATE "C";

-- name: PermissionLock :exec
-- Serialises changes to the permission catalogue until the transaction ends,
-- so its size bound holds across instances. The key is "authperm" in ASCII,
-- distinct from the other advisory locks.
SELECT pg_advisory_xact_lock(7022647185865273965);
