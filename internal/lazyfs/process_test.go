//go:build linux

package lazyfs

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writerEnv, when set to a directory, makes TestKilledWriter the writer process that its parent kills.
const writerEnv = "LAZYFS_TEST_WRITER"

// exitEnv, when set to a directory, makes TestExitWithOpenFile the process that mounts and exits.
const exitEnv = "LAZYFS_TEST_EXIT"

func record(i int) string { return fmt.Sprintf("record %04d\n", i) }

// TestKilledWriter is the crash test lazyfs is for: a process appends records to a log, fsyncing every
// tenth, writes one more without fsync and is killed with SIGKILL. The kill loses nothing, as the page
// cache survives it; the power cut then loses the record that was not fsynced, and only that.
func TestKilledWriter(t *testing.T) {
	if dir := os.Getenv(writerEnv); dir != "" {
		writer(dir)
		return
	}
	h := mountTest(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), writerEnv+"="+h.mnt)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // killed: its error says so
	if line != "ready\n" {
		t.Fatalf("writer said %q, %v", line, err)
	}
	var all strings.Builder
	for i := range 101 {
		all.WriteString(record(i))
	}
	h.shows("log", []byte(all.String()))
	h.crash(CutOptions{})
	h.want("log", []byte(all.String()[:100*len(record(0))]))
}

// writer is the process TestKilledWriter kills.
func writer(dir string) {
	fail := func(err error) {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	f, err := os.OpenFile(filepath.Join(dir, "log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fail(err)
	}
	d, err := os.Open(dir)
	if err != nil {
		fail(err)
	}
	if err := d.Sync(); err != nil {
		fail(err)
	}
	for i := range 101 {
		if _, err := f.WriteString(record(i)); err != nil {
			fail(err)
		}
		if i%10 == 9 {
			if err := f.Sync(); err != nil {
				fail(err)
			}
		}
	}
	fmt.Println("ready")
	time.Sleep(time.Hour)
}

// TestUnmountBusy checks that Unmount detaches a mount that a process still uses, and finishes once that
// process lets go of it.
func TestUnmountBusy(t *testing.T) {
	h := mountTest(t)
	h.write("f", []byte("data"), false)
	f, err := os.Open(h.path("f"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.fs.Unmount() }()
	select {
	case err := <-done:
		t.Fatalf("Unmount returned %v while a file was open", err)
	case <-time.After(time.Second):
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(h.mnt, &st); err != nil || st.Type == fuseSuperMagic {
		t.Errorf("mount point still shows the FUSE mount (%v) after a lazy unmount", err)
	}
	b := make([]byte, 4)
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "data" {
		t.Errorf("read through the open file after the detach: %q, %v", b, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Unmount did not return after the file was closed")
	}
	h.has("f", []byte("data")) // a clean unmount
}

// TestExitWithOpenFile checks that a process serving a mount can exit with a file still open on it. The
// close at exit would wait forever for a FLUSH reply from the server that died with it, but lazyfs tells
// the kernel to send no FLUSH.
func TestExitWithOpenFile(t *testing.T) {
	if dir := os.Getenv(exitEnv); dir != "" {
		if _, err := Mount(filepath.Join(dir, "b"), filepath.Join(dir, "m"), Options{}); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		if _, err := os.Create(filepath.Join(dir, "m", "open")); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	Require(t)
	dir := t.TempDir()
	mustMkdir(t, filepath.Join(dir, "b"))
	mustMkdir(t, filepath.Join(dir, "m"))
	t.Cleanup(func() { syscall.Unmount(filepath.Join(dir, "m"), syscall.MNT_DETACH) }) // it died mounted
	cmd := exec.Command(os.Args[0], "-test.run=^TestExitWithOpenFile$")
	cmd.Env = append(os.Environ(), exitEnv+"="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the process failed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the process hangs in exit; abort its connection in /sys/fs/fuse/connections to reap it")
	}
}

// fuseSuperMagic is the f_type of a FUSE filesystem in statfs.
const fuseSuperMagic = 0x65735546
