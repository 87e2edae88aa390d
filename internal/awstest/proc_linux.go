package awstest

import (
	"os/exec"
	"runtime"
	"syscall"
)

// startTied starts cmd in its own process group, bound to the test binary:
// the kernel kills it when the thread that started it ends (Pdeathsig), and
// that thread is locked to a goroutine that never returns, so it ends only
// with the binary. A test binary that dies leaves no moto_server behind.
// exited is closed when cmd exits.
func startTied(cmd *exec.Cmd, exited chan<- struct{}) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread must outlive cmd
		if err := cmd.Start(); err != nil {
			started <- err
			return // the locked thread ends with this goroutine; no child was made
		}
		started <- nil
		cmd.Wait()
		close(exited)
		select {} // keep the thread: any other child it started stays tied to it
	}()
	return <-started
}

// kill kills cmd's process group.
func kill(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
