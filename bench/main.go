// Command bench measures Keel against the embedded databases a Go
// developer would otherwise pick, side by side in one run, and writes
// RESULTS.md. See README.md.
//
//	go run . [-full] [-only W1,W3] [-out RESULTS.md] [-pprof dir]
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

//go:embed ANALYSIS.md
var analysis string

// env is one run: its sizes, budgets and report.
type env struct {
	rep      *report
	base     string
	durable  budget // durable measurements
	fast     budget // in-memory and no-fsync measurements
	accounts uint64
	items    uint64
	loadRows uint64
	pprofDir string
	profiles int
	current  string // the workload being measured, for profile names
	quick    bool   // -quick: a smoke test
}

var cmdFlags string

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

func main() {
	full := flag.Bool("full", false, "larger sizes and longer measurements")
	quick := flag.Bool("quick", false, "tiny sizes and short measurements: a smoke test, not figures to report")
	only := flag.String("only", "", "comma-separated workloads to run (W1..W9); all when empty")
	out := flag.String("out", "RESULTS.md", "the report to write")
	pprofDir := flag.String("pprof", "", "write a CPU profile of every Keel measurement into this directory")
	dir := flag.String("dir", "", "where data directories are created (default: the system's temporary directory)")
	child := flag.String("w8-child", "", "internal: load rows into this system and report its resident set")
	childRows := flag.Uint64("w8-rows", 0, "internal: rows for -w8-child")
	w9Child := flag.String("w9-child", "", "internal: run this W9 contender for the parent's requests on stdin")
	w9Mode := flag.Int("w9-mode", 0, "internal: the mode of -w9-child")
	w9Zipf := flag.Bool("w9-zipf", false, "internal: -w9-child draws Zipf-skewed accounts")
	w9Accounts := flag.Uint64("w9-accounts", 0, "internal: accounts for -w9-child")
	flag.Parse()
	if *w9Child != "" {
		e := &env{base: *dir, accounts: *w9Accounts, quick: *quick}
		if err := keynoteChildMain(e, *w9Child, Mode(*w9Mode), *w9Zipf); err != nil {
			fmt.Fprintln(os.Stderr, "bench: W9 child:", err)
			os.Exit(1)
		}
		return
	}
	if *child != "" {
		if err := w8Child(*child, *childRows); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(*full, *quick, *only, *out, *pprofDir, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(full, quick bool, only, out, pprofDir, dir string) error {
	base, err := os.MkdirTemp(dir, "keel-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(base)
	if pprofDir != "" {
		if err := os.MkdirAll(pprofDir, 0o750); err != nil {
			return err
		}
	}
	e := &env{rep: &report{started: time.Now()}, base: base, pprofDir: pprofDir,
		durable:  budget{dur: 2 * time.Second, maxOps: 200_000, warmup: 200 * time.Millisecond},
		fast:     budget{dur: 1500 * time.Millisecond, maxOps: 3_000_000, warmup: 200 * time.Millisecond},
		accounts: 100_000, items: 100_000, loadRows: 1_000_000, quick: quick}
	if full {
		e.durable = budget{dur: 5 * time.Second, maxOps: 2_000_000, warmup: 500 * time.Millisecond}
		e.fast = budget{dur: 4 * time.Second, maxOps: 20_000_000, warmup: 500 * time.Millisecond}
		e.items, e.loadRows = 1_000_000, 3_000_000
	}
	if quick {
		e.durable = budget{dur: 300 * time.Millisecond, maxOps: 2_000, warmup: 50 * time.Millisecond}
		e.fast = budget{dur: 200 * time.Millisecond, maxOps: 200_000, warmup: 50 * time.Millisecond}
		e.items, e.loadRows = 10_000, 50_000
	}
	var flags []string
	if full {
		flags = append(flags, "-full")
	}
	if quick {
		flags = append(flags, "-quick")
	}
	if only != "" {
		flags = append(flags, "-only "+only)
	}
	if len(flags) > 0 {
		cmdFlags = " " + strings.Join(flags, " ")
	}
	want := func(w string) bool {
		if only == "" {
			return true
		}
		for _, x := range strings.Split(only, ",") {
			if strings.EqualFold(strings.TrimSpace(x), w) {
				return true
			}
		}
		return false
	}
	e.rep.env = machine(base)
	for _, sys := range systems {
		for _, m := range sys.modes {
			e.rep.configs = append(e.rep.configs, fmt.Sprintf("%s, %s: %s", sys.name, m, sys.config(m)))
		}
	}
	e.rep.configs = append(e.rep.configs, "badger (W6 only): DefaultOptions with SyncWrites: true, GetSequence bandwidth 1024",
		"keel (W9 only): a module of its own whose account table has a hash primary key (table.Index.Hash); the same Open options as above per mode")
	e.rep.sizes = []string{
		fmt.Sprintf("durable measurements: %s after a %s warm-up, at most %d transactions", e.durable.dur, e.durable.warmup, e.durable.maxOps),
		fmt.Sprintf("no-fsync and in-memory measurements: %s after a %s warm-up, at most %d operations", e.fast.dur, e.fast.warmup, e.fast.maxOps),
		fmt.Sprintf("each measurement of W1 – W5 and W9 is cut into %d slices that take turns round-robin across the systems of its mode (W6 measures Keel, then badger)", rounds),
		fmt.Sprintf("W3: %d accounts; W4, W5: %d items (unique email, indexed timestamp); W7, W8: %d event rows loaded %d per transaction",
			e.accounts, e.items, e.loadRows, loadBatch),
		e.keynoteSizes(),
		"latencies are per call, measured in the caller, over every call of the measurement (a pipelined submitter's from the call's submission to its result); throughput is calls completed over the measurement's wall time",
	}
	steps := []struct {
		w  string
		fn func()
	}{
		{"W1", func() { e.runInserts("W1", titleW1, 1) }},
		{"W2", func() { e.runInserts("W2", titleW2, 64) }},
		{"W3", func() {
			e.runTransfers("W3", titleW3u, false)
			e.runTransfers("W3", titleW3z, true)
		}},
		{"W4", e.runReads},
		{"W6", e.runSequence},
		{"W7", e.runOpen},
		{"W8", e.runMemory},
		{"W9", e.runKeynote},
	}
	for _, s := range steps {
		if want(s.w) || (s.w == "W4" && want("W5")) {
			e.current = s.w
			s.fn()
		}
	}
	md := e.rep.markdown(e.rep.targets(), analysis)
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		return err
	}
	logf("wrote %s", out)
	return nil
}
