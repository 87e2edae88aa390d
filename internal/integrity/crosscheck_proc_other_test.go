//go:build !unix

package integrity

import "os/exec"

// crossInGroup does nothing where there are no process groups.
func crossInGroup(*exec.Cmd) {}

// crossKillGroup kills cmd's process alone.
func crossKillGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
