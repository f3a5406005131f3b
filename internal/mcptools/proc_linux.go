package mcptools

import (
	"os/exec"
	"syscall"
)

// diesWithWorker makes a stdio server stop when the worker process does,
// even when it is killed: a call it was making is then not finished behind
// the worker's back, and the retry on another worker is the only one.
func diesWithWorker(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
