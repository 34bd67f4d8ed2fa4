package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

const titleW8 = "W8: resident bytes per row after loading"

// memSystems are measured in memory: all their rows live in the process.
var memSystems = []string{"keel", "buntdb", "go-memdb", "sqlite"}

// rssReport is what a W8 child prints.
type rssReport struct {
	Before, After int64 // resident bytes
	HeapBefore    uint64
	HeapAfter     uint64
}

// runMemory is W8: each system loads e.loadRows events in memory in a
// child process of its own, which reports its resident set before and
// after, so that memory outside the Go heap (SQLite's) counts too.
func (e *env) runMemory() {
	title := fmt.Sprintf("%s %d rows (32-byte payload, 8-byte id)", titleW8, e.loadRows)
	logf("%s", title)
	for _, name := range memSystems {
		res := func() *result {
			cmd := exec.Command(os.Args[0], "-w8-child", name, "-w8-rows", strconv.FormatUint(e.loadRows, 10))
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				return &result{err: fmt.Errorf("child: %w: %s", err, strings.TrimSpace(errb.String()))}
			}
			var r rssReport
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				return &result{err: fmt.Errorf("child output %q: %w", out.String(), err)}
			}
			per := float64(r.After-r.Before) / float64(e.loadRows)
			return &result{unit: bytesPerRow, value: per,
				note: fmt.Sprintf("RSS %.0f MB -> %.0f MB; Go heap %.0f MB -> %.0f MB", mb(r.Before), mb(r.After), mb(int64(r.HeapBefore)), mb(int64(r.HeapAfter)))}
		}()
		res.workload, res.title, res.mode, res.system = "W8", title, Memory.String(), name
		e.rep.add(res)
	}
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// w8Child loads rows into system name in memory and prints an rssReport.
func w8Child(name string, rows uint64) error {
	sys := systemNamed(name)
	if sys == nil {
		return fmt.Errorf("unknown system %q", name)
	}
	s, err := sys.open("", Memory)
	if err != nil {
		return err
	}
	var r rssReport
	if r.Before, r.HeapBefore, err = settledRSS(); err != nil {
		return err
	}
	if err := s.LoadEvents(rows); err != nil {
		return err
	}
	if r.After, r.HeapAfter, err = settledRSS(); err != nil {
		return err
	}
	if n, err := s.Count(); err != nil || uint64(n) != rows {
		return fmt.Errorf("loaded %d rows (%v), want %d", n, err, rows)
	}
	runtime.KeepAlive(s)
	return json.NewEncoder(os.Stdout).Encode(r)
}

// settledRSS collects garbage, returns freed memory to the OS and reads
// the resident set size and the live heap.
func settledRSS() (int64, uint64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("statm: %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize()), ms.HeapAlloc, err
}
