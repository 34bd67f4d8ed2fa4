package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
)

// machine describes the host for RESULTS.md.
func machine(base string) []string {
	var lines []string
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	lines = append(lines, fmt.Sprintf("CPU: %s, %d logical cores (GOMAXPROCS %d)", cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0)))
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		l, _, _ := strings.Cut(string(b), "\n")
		lines = append(lines, "Memory: "+strings.Join(strings.Fields(l)[1:], " "))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		lines = append(lines, fmt.Sprintf("OS: %s/%s, Linux %s", runtime.GOOS, runtime.GOARCH, strings.TrimSpace(string(b))))
	}
	lines = append(lines, "Data directories under "+base+" ("+fsOf(base)+")")
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		lines = append(lines, "Load average at start: "+strings.Join(strings.Fields(string(b))[:3], " "))
	}
	lines = append(lines, "Go: "+runtime.Version())
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/tidwall/buntdb", "github.com/hashicorp/go-memdb", "go.etcd.io/bbolt",
				"github.com/mattn/go-sqlite3", "github.com/dgraph-io/badger/v4", "github.com/tidwall/btree", "github.com/tidwall/wal":
				lines = append(lines, fmt.Sprintf("%s %s", d.Path, d.Version))
			}
		}
	}
	lines = append(lines, "Keel: "+keelRevision())
	lines = append(lines, "SQLite library: "+sqliteVersion())
	return lines
}

// fsOf names the file system holding dir, from /proc/mounts.
func fsOf(dir string) string {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "file system unknown"
	}
	best, fs := "", "unknown"
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		if strings.HasPrefix(dir, f[1]) && len(f[1]) > len(best) {
			best, fs = f[1], f[2]+" on "+f[0]
		}
	}
	return fs
}

func (e *env) tempDir(name string) (string, error) {
	return os.MkdirTemp(e.base, name+"-")
}

// profile starts a CPU profile of a Keel measurement (of every Keel
// variant) when -pprof is set and returns the function that stops it.
func (e *env) profile(system, label string) func() {
	path := e.profilePath(system, label)
	if path == "" {
		return func() {}
	}
	return startProfile(path)
}

// profilePath names the next profile file of a Keel measurement, or is
// empty when -pprof is not set or system is not Keel.
func (e *env) profilePath(system, label string) string {
	if e.pprofDir == "" || !strings.HasPrefix(system, "keel") {
		return ""
	}
	e.profiles++
	if system != "keel" {
		label += " " + system // a variant: "keel (pipelined, 64 x 40)"
	}
	name := fmt.Sprintf("%02d-%s-%s.pprof", e.profiles, e.current, strings.NewReplacer(" ", "-", "(", "", ")", "", ",", "").Replace(label))
	return filepath.Join(e.pprofDir, name)
}

// startProfile starts a CPU profile into path and returns the function
// that stops it.
func startProfile(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		logf("pprof: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		logf("pprof: %v", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// keelRevision names the commit of the Keel source the run was built from
// and says whether files outside bench/ differed from it.
func keelRevision() string {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "commit unknown (not a git checkout)"
	}
	rev := "commit " + strings.TrimSpace(string(out))
	st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", "..", ":!.").Output()
	if err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += ", with uncommitted changes in " + strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(st)), "\n", " ")), " ")
	}
	return rev
}
