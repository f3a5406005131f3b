//go:build !linux

package mcptools

import "os/exec"

// diesWithWorker is a no-op where the system cannot tie a child's life to
// its parent's; the server then stops when its stdin closes.
func diesWithWorker(*exec.Cmd) {}
