package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// childEnv, when set, makes the test binary run as the bench command: the
// harness starts its W8 and W9 children as os.Args[0], which in a test is
// this binary.
const childEnv = "KEEL_BENCH_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestKeynoteChild drives one W9 child through the protocol the parent
// uses: a run that records every call's latency, the log's counters and
// the note, and the close.
func TestKeynoteChild(t *testing.T) {
	t.Setenv(childEnv, "1")
	e := &env{base: t.TempDir(), accounts: 2000, quick: true}
	c := e.keynoteChild(keelPipelined, keynoteSubmitters, Durable, true)
	if c.err != nil {
		t.Fatalf("start the child: %v", c.err)
	}
	if c.remote == nil {
		t.Fatal("the contender does not run in a child")
	}
	smp, err := c.slice(c.callers, 100*time.Millisecond, 1_000_000, true)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(smp.lats) == 0 || smp.elapsed <= 0 || smp.cpu <= 0 {
		t.Fatalf("run: %d latencies in %v, CPU %v; want calls, a wall time and CPU", len(smp.lats), smp.elapsed, smp.cpu)
	}
	for i, d := range smp.lats {
		if d <= 0 || d > smp.elapsed+time.Second {
			t.Fatalf("latency %d is %v in a run of %v", i, d, smp.elapsed)
		}
	}
	lc, ok := c.log.logStats()
	if !ok {
		t.Fatal("the durable child reports no log")
	}
	// The accounts were loaded through the log too, so it holds at least
	// every transfer of the run.
	if lc.Entries < uint64(len(smp.lats)) || lc.Groups == 0 || lc.Syncs == 0 {
		t.Fatalf("log counters %+v after %d calls", lc, len(smp.lats))
	}
	if note := c.note(); strings.Contains(note, "child") {
		t.Fatalf("note: %q", note)
	}
	closeAll([]*contender{c})
	if c.err != nil {
		t.Fatalf("close: %v", c.err)
	}
	// The counters asked for at the close are what the report reads once
	// the contenders are closed.
	if after, ok := c.log.logStats(); !ok || after.Entries < lc.Entries {
		t.Fatalf("counters after the close: %+v, %v; before %+v", after, ok, lc)
	}
}

// TestKeynoteChildErrors: a child that cannot open its contender says why,
// and a child that dies fails the parent's next request instead of hanging
// it.
func TestKeynoteChildErrors(t *testing.T) {
	t.Setenv(childEnv, "1")
	e := &env{base: t.TempDir(), accounts: 100, quick: true}
	c := e.keynoteChild("no such system", keynoteSubmitters, Durable, false)
	if c.err == nil || !strings.Contains(c.err.Error(), `no W9 contender "no such system"`) {
		t.Fatalf("unknown contender: err %v", c.err)
	}
	closeAll([]*contender{c})

	c = e.keynoteChild("buntdb", 4, Memory, false)
	if c.err != nil {
		t.Fatalf("start the child: %v", c.err)
	}
	if err := c.remote.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.slice(4, 10*time.Millisecond, 1000, true); err == nil || !strings.Contains(err.Error(), "child buntdb") {
		t.Fatalf("run on a dead child: err %v", err)
	}
	if err := c.close(); err == nil {
		t.Fatal("close of a dead child: no error")
	}
}

// TestQuick runs every workload with -quick's sizes, as `go run . -quick`
// does, and checks that every system of every workload was measured: a
// system that failed shows as "not run" in the report.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every workload (about 40 s)")
	}
	t.Setenv(childEnv, "1")
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := run(false, true, "", out, "", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, l := range strings.Split(md, "\n") {
		if strings.Contains(l, "not run:") {
			t.Errorf("a system was not measured: %s", l)
		}
	}
	for _, w := range []string{"### W1:", "### W2:", "### W3:", "### W4:", "### W6:", "### W7:", "### W8:", "### W9: keynote, uniform", "### W9: keynote, Zipf"} {
		if !strings.Contains(md, w) {
			t.Errorf("the report has no section %q", w)
		}
	}
	// Each W9 system ran in its child, the peers included, and Keel's
	// children reported their log's counters.
	for _, mode := range []string{"durable", "in memory"} {
		for _, sys := range []string{keelPipelined, keelSync, "buntdb", "sqlite"} {
			if !strings.Contains(md, "| "+mode+" | "+sys+" | ") {
				t.Errorf("W9 has no %s row for %s", mode, sys)
			}
		}
	}
	if !strings.Contains(md, "| durable | "+keelPipelined+" | ") || !strings.Contains(md, "transactions per fsync") {
		t.Error("the pipelined durable row has no log counters")
	}
}

// TestRawTailCountsMeasuredCalls: the raw loop's time-weighted tail and
// its longest fsync are over the measured calls, as its p50 and p99 are,
// not over its warm-up.
func TestRawTailCountsMeasuredCalls(t *testing.T) {
	e := &env{base: t.TempDir()}
	c, err := e.rawContender(4, true)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll([]*contender{c})
	// A warm-up alone: nothing measured, so no tail to report.
	if _, err := c.slice(1, time.Hour, 20, false); err != nil {
		t.Fatal(err)
	}
	if note := c.note(); strings.Contains(note, "loop's time") {
		t.Fatalf("after a warm-up alone the note reports a tail: %q", note)
	}
	e.interleave([]*contender{c}, Durable, budget{dur: time.Hour, maxOps: 5 * 20, warmup: time.Hour})
	if c.err != nil {
		t.Fatal(c.err)
	}
	lats := c.smp.lats
	if len(lats) != 5*20 {
		t.Fatalf("%d measured calls, want %d", len(lats), 5*20)
	}
	if want := "the longest " + dur(slices.Max(lats)); !strings.HasSuffix(c.note(), want) {
		t.Fatalf("note %q does not end with the longest measured call, %q", c.note(), want)
	}
}
