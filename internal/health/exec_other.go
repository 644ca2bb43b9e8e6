//go:build !unix

package health

import "os/exec"

// killGroup leaves cancellation to exec's default (kill the process only).
func killGroup(*exec.Cmd) {}
