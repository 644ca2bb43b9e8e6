// Package auth owns who may do what on the control API: the four roles (admin, deployer,
// approver, viewer), what each allows, and the named API tokens an admin issues, kept as
// SHA-256 hashes in a file of the state directory. It knows nothing of HTTP routes (the api
// package maps each route to the role it needs) nor of SDK tokens (flags owns those).
package auth

import (
	"fmt"
	"strings"
)

// Role is what a token may do.
type Role string

// The roles, from the most to the least powerful. Admin may do everything; deployer may
// read and change services, deployments, flags and migrations; approver may read and
// approve deployments; viewer may only read.
const (
	Admin    Role = "admin"
	Deployer Role = "deployer"
	Approver Role = "approver"
	Viewer   Role = "viewer"
)

// Roles lists every role, most powerful first.
func Roles() []Role { return []Role{Admin, Deployer, Approver, Viewer} }

// ParseRole returns the role named s, or an error naming the roles there are.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("role %q: want one of %s", s, roleNames())
}

// Allows reports whether a token of role r may use a route that needs role need: admin may
// use any, deployer and approver their own and viewer's, viewer only viewer's.
func (r Role) Allows(need Role) bool {
	switch {
	case r == Admin:
		return true
	case r == need:
		return r != ""
	case need == Viewer:
		return r == Deployer || r == Approver
	}
	return false
}

func roleNames() string {
	names := make([]string, 0, 4)
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}
