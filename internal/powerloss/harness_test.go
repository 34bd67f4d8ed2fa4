//go:build linux

package powerloss

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/lazyfs"
)

// rig is a lazyfs mounted over a backing directory for one test; the
// FUSE server runs in the test process, so that killing a child leaves
// the filesystem up. The data directory is "data" in the mount, created by
// keel.Open (name).
type rig struct {
	t       testing.TB
	backing string
	mnt     string
	fs      *lazyfs.FS
	name    string // the data directory's name in the mount
}

// newRig mounts a lazyfs on temporary directories, or skips t where FUSE
// cannot mount. The test's end unmounts it.
func newRig(t testing.TB) *rig {
	t.Helper()
	lazyfs.Require(t)
	r := &rig{t: t, backing: t.TempDir(), mnt: t.TempDir(), name: "data"}
	r.mount()
	t.Cleanup(func() {
		if err := r.fs.Unmount(); err != nil {
			t.Error(err)
		}
	})
	return r
}

func (r *rig) mount() {
	r.t.Helper()
	// The backing directory's own page cache survives everything lazyfs
	// simulates: skipping its fsyncs makes the rounds several times faster.
	fs, err := lazyfs.Mount(r.backing, r.mnt, lazyfs.Options{NoBackingSync: true})
	if err != nil {
		r.t.Fatal(err)
	}
	r.fs = fs
}

// dir is the data directory on the mount.
func (r *rig) dir() string { return filepath.Join(r.mnt, r.name) }

// powerCut cuts the power, tearing the last unsynced write of one file at
// tear bytes (lazyfs.NoTear, TearSector or TearPage), then unmounts and
// mounts again. It returns the write it tore, or nil.
func (r *rig) powerCut(tear int, seed uint64) *lazyfs.Torn {
	r.t.Helper()
	torn, err := r.fs.Cut(lazyfs.CutOptions{Tear: tear, Seed: seed})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.fs.Unmount(); err != nil {
		r.t.Fatal(err)
	}
	r.mount()
	return torn
}

// proc is a child process running on the mount.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	pw     *os.File      // the write end of its stdout, closed once it started
	out    bytes.Buffer  // its stdout: the ledger
	stderr bytes.Buffer  // for the failure message
	ready  chan struct{} // closed when it printed "R"
	done   chan struct{} // closed when its stdout ended
}

// command prepares the child mode on the rig's data directory with the
// extra environment env ("NAME=value"), its stdout read into the proc.
// Start it with start or killAtSync.
func (r *rig) command(mode string, env ...string) *proc {
	r.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+mode, envDir+"="+r.dir())
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &proc{cmd: cmd, ready: make(chan struct{}), done: make(chan struct{})}
	cmd.Stderr = &p.stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		r.t.Fatal(err)
	}
	cmd.Stdout, p.pw = pw, pw
	go func() {
		defer close(p.done)
		defer pr.Close()
		br := bufio.NewReader(pr)
		for {
			line, err := br.ReadString('\n')
			p.mu.Lock()
			p.out.WriteString(line)
			p.mu.Unlock()
			if line == "R\n" {
				close(p.ready)
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

// start runs the child mode; see command.
func (r *rig) start(mode string, env ...string) *proc {
	r.t.Helper()
	p := r.command(mode, env...)
	err := p.cmd.Start()
	p.pw.Close()
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// kill kills the child with SIGKILL at once and returns when (Unix ns)
// and its ledger. A child that died by itself is an error.
func (p *proc) kill() (int64, *ledger, error) {
	killNs := time.Now().UnixNano()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	err := p.cmd.Wait()
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return killNs, nil, fmt.Errorf("the child was not killed (%v): %s%s", err, p.out.String(), p.stderr.String())
	}
	l, err := parseLedger(&p.out)
	if err != nil {
		return killNs, nil, fmt.Errorf("%w\nstderr: %s", err, p.stderr.String())
	}
	return killNs, l, nil
}

// waitReady waits for the child to print "R", for at most d; it reports
// whether it did.
func (p *proc) waitReady(d time.Duration) bool {
	select {
	case <-p.ready:
		return true
	case <-p.done:
		return false
	case <-time.After(d):
		return false
	}
}
