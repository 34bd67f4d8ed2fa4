//go:build linux && amd64

package powerloss

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
)

// canTrace reports whether killAtSync works here.
const canTrace = true

// killAtSync starts cmd under ptrace and kills it with SIGKILL when any of
// its threads enters its k-th fsync or fdatasync (k >= 1), before that
// call runs: what the child had fsynced before is durable, and nothing
// after. It returns once the child is gone, reporting whether it reached
// the k-th call (false: it exited by itself, after fewer) and the child's
// exit status. As pebble's TestDBWALRotationCrash crashes after the k-th
// write, a test runs k = 1, 2, ... until the child no longer reaches k.
//
// The tracer follows every thread (PTRACE_O_TRACECLONE), stops each at
// every syscall and passes other signals through; ptrace needs the calls
// from the thread that started the child, hence LockOSThread.
func killAtSync(cmd *exec.Cmd, k int) (reached bool, ws syscall.WaitStatus, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	if err := cmd.Start(); err != nil {
		return false, 0, err
	}
	pid := cmd.Process.Pid
	// The child stops with SIGTRAP at its execve.
	if _, err := syscall.Wait4(pid, &ws, syscall.WALL, nil); err != nil {
		return false, 0, fmt.Errorf("wait for the traced child: %w", err)
	}
	const opts = syscall.PTRACE_O_TRACESYSGOOD | syscall.PTRACE_O_TRACECLONE | 0x100000 // PTRACE_O_EXITKILL
	if err := syscall.PtraceSetOptions(pid, opts); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return false, 0, fmt.Errorf("ptrace: %w", err)
	}
	syncs := 0
	tid := pid
	sig := 0
	for {
		if tid > 0 {
			if err := syscall.PtraceSyscall(tid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
				syscall.Kill(pid, syscall.SIGKILL)
				return reached, ws, fmt.Errorf("ptrace: %w", err)
			}
		}
		var s syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &s, syscall.WALL, nil)
		if err != nil {
			return reached, ws, fmt.Errorf("wait for the traced child: %w", err)
		}
		tid, sig = wpid, 0
		if s.Exited() || s.Signaled() {
			if wpid == pid {
				cmd.Process.Release()
				return reached, s, nil
			}
			tid = -1 // a thread ended: nothing to resume
			continue
		}
		if !s.Stopped() {
			continue
		}
		switch stop := s.StopSignal(); {
		case stop == syscall.SIGTRAP|0x80:
			var regs syscall.PtraceRegs
			if err := syscall.PtraceGetRegs(wpid, &regs); err != nil {
				continue
			}
			entry := int64(regs.Rax) == -int64(syscall.ENOSYS) // on amd64, rax holds -ENOSYS at entry
			if n := regs.Orig_rax; entry && !reached && (n == syscall.SYS_FSYNC || n == syscall.SYS_FDATASYNC) {
				if syncs++; syncs == k {
					reached = true
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		case stop == syscall.SIGTRAP:
			// A clone event, or the exec: nothing to pass on.
		case stop == syscall.SIGSTOP && s.TrapCause() == -1:
			// A new thread's first stop, or a group stop: resume without it.
		default:
			sig = int(stop)
		}
	}
}
