package wal_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// seqCrashMod is the test module with a small nocycle sequence with advance: post ids
// 1..10, four per persisted boundary.
func seqCrashMod() *testmod.Module {
	return testmod.New(table.SeqParams[uint64]{Max: 10, HasMax: true, NoCycle: true, Advance: true, Batch: 4})
}

// TestSeqCrashChild is the writer TestSeqCrashAdvanceNoCycle runs in a
// child process: generated ids, an explicit id ahead of the sequence, a
// rolled-back insert, one more generated id; it prints "A id" for each
// committed id, then "R" and waits to be killed.
func TestSeqCrashChild(t *testing.T) {
	dir := os.Getenv("KEEL_SEQCRASH_DIR")
	if dir == "" {
		t.Skip("run by TestSeqCrashAdvanceNoCycle")
	}
	m := seqCrashMod()
	db, err := open(dir, m, keel.Options{})
	if err != nil {
		fmt.Printf("E open: %v\n", err)
		os.Exit(3)
	}
	ctx := t.Context()
	add := func(slug string) {
		p, err := keel.Run(ctx, db, "w", m.AddPost, testmod.AddPostArgs{Slug: slug})
		if err != nil {
			fmt.Printf("E %s: %v\n", slug, err)
			os.Exit(3)
		}
		fmt.Printf("A %d\n", p.ID)
	}
	add("a")
	add("b")
	if err := db.Update(ctx, "w", func(c *reducer.Ctx) error {
		_, err := table.Use(c.Tx, m.Post).Insert(testmod.Post{ID: 6, Slug: "explicit"})
		return err
	}); err != nil {
		fmt.Printf("E explicit: %v\n", err)
		os.Exit(3)
	}
	fmt.Println("A 6")
	keel.Run(ctx, db, "w", m.Fail, "rolled-back") // takes a value, gives it back never
	add("c")
	fmt.Println("R")
	// A sleep, not select {}: with every goroutine blocked and no timer
	// pending, the runtime would end the child itself ("all goroutines
	// are asleep"), at times before the kill, failing the test.
	time.Sleep(time.Hour)
}

// TestSeqCrashAdvanceNoCycle kills a writer whose nocycle sequence was
// moved by an explicit value and by a rolled-back insert, and checks that
// after the restart the sequence hands out no id a committed transaction
// used: it goes on past them or reports exhaustion.
func TestSeqCrashAdvanceNoCycle(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSeqCrashChild$")
	cmd.Env = append(os.Environ(), "KEEL_SEQCRASH_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	used := map[uint64]bool{1: true} // the init reducer's post
	ready := false
	sc := bufio.NewScanner(out)
	for !ready && sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "A "):
			var id uint64
			fmt.Sscan(line[2:], &id)
			used[id] = true
		case line == "R":
			ready = true
		case strings.HasPrefix(line, "E "):
			t.Errorf("child: %s", line)
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	if err := killed(cmd.Wait()); err != nil {
		t.Fatal(err)
	}
	if !ready {
		t.Fatal("the child did not finish its writes")
	}
	db := mustOpenMod(t, dir, seqCrashMod(), keel.Options{})
	for i := range 3 {
		p, err := keel.Run(t.Context(), db.DB, "t", db.m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprintf("after%d", i)})
		if errors.Is(err, table.ErrExhausted) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if used[p.ID] {
			t.Fatalf("after the kill the sequence handed out %d again (used: %v)", p.ID, used)
		}
		if p.ID < 8 {
			t.Fatalf("after the kill the sequence went back to %d", p.ID)
		}
		used[p.ID] = true
	}
}
