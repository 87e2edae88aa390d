//go:build !linux

package awstest

import "os/exec"

// startTied starts cmd; outside Linux nothing ties it to the test binary,
// which leaves it running if the binary is killed.
func startTied(cmd *exec.Cmd, exited chan<- struct{}) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { cmd.Wait(); close(exited) }()
	return nil
}

// kill kills cmd.
func kill(cmd *exec.Cmd) {
	if cmd.Process != nil {
		cmd.Process.Kill()
	}
}
