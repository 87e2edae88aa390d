//go:build unix

package integrity

import (
	"os/exec"
	"syscall"
)

// crossInGroup makes cmd the leader of a new process group, so that crossKillGroup
// also ends whatever it starts (moto_server's reloader, the AWS CLI
// under pyenv's shim).
func crossInGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// crossKillGroup kills cmd's process group.
func crossKillGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
