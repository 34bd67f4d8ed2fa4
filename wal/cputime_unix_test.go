//go:build unix

package wal_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process used so far: on a machine shared
// with other work, rows per CPU-second varies less than rows per second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
