//go:build linux && !amd64

package powerloss

import (
	"errors"
	"os/exec"
	"syscall"
)

// canTrace reports whether killAtSync works here: it reads amd64's
// registers.
const canTrace = false

func killAtSync(cmd *exec.Cmd, k int) (bool, syscall.WaitStatus, error) {
	return false, 0, errors.New("killAtSync needs linux/amd64")
}
