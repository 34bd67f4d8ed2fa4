package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// unit says what a figure measures and which way is better.
type unit int

const (
	perSecond   unit = iota // operations per second: higher is better
	seconds                 // a duration: lower is better
	bytesPerRow             // resident bytes per row: lower is better
)

// result is one system's figure for one workload in one mode.
type result struct {
	workload string // "W1"
	title    string // what the workload is, with its variant
	mode     string
	system   string
	unit     unit
	value    float64
	st       *stats // latencies, where callers wait
	note     string
	err      error // the system could not run the workload: why
}

// report gathers the results of one run in order.
type report struct {
	env     []string // "key: value" lines about the machine and versions
	configs []string // how each system was configured
	sizes   []string
	results []*result
	started time.Time
	w7title string
}

func (r *report) add(res *result) {
	r.results = append(r.results, res)
	if res.err != nil {
		logf("  %-28.28s %-10s %-14s FAILED: %v", res.title, res.mode, res.system, res.err)
		return
	}
	logf("  %-28.28s %-10s %-14s %s", res.title, res.mode, res.system, res.figure())
}

func (res *result) figure() string {
	switch res.unit {
	case seconds:
		return fmt.Sprintf("%.2f s", res.value)
	case bytesPerRow:
		return fmt.Sprintf("%.0f B/row", res.value)
	}
	s := fmt.Sprintf("%s/s", human(res.value))
	if res.st != nil {
		s += fmt.Sprintf(" (p50 %s, p99 %s, %d ops in %.1f s)", dur(res.st.p50), dur(res.st.p99), res.st.ops, res.st.elapsed.Seconds())
	}
	return s
}

// ratio is Keel's figure against other's, as "how many times better":
// above 1 Keel is faster (or smaller).
func ratio(keel, other *result) float64 {
	if keel == nil || other == nil || keel.err != nil || other.err != nil || keel.value == 0 || other.value == 0 {
		return math.NaN()
	}
	if keel.unit == perSecond {
		return keel.value / other.value
	}
	return other.value / keel.value
}

func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.2fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d >= time.Microsecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	}
	return fmt.Sprintf("%d ns", d.Nanoseconds())
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	if x >= 10 {
		return fmt.Sprintf("%.0fx", x)
	}
	return fmt.Sprintf("%.2fx", x)
}

// find returns the result of system in mode for the workload title.
func (r *report) find(title, mode, system string) *result {
	for _, res := range r.results {
		if res.title == title && res.mode == mode && res.system == system {
			return res
		}
	}
	return nil
}

// keelIn returns Keel's result for title in mode (the system name may
// carry a variant, as "keel (log only)").
func (r *report) keelIn(title, mode string) *result {
	for _, res := range r.results {
		if res.title == title && res.mode == mode && strings.HasPrefix(res.system, "keel") {
			return res
		}
	}
	return nil
}

// best returns the best peer result (not Keel, not a raw baseline) for
// title in mode.
func (r *report) best(title, mode string) *result {
	var b *result
	for _, res := range r.results {
		if res.title != title || res.mode != mode || res.err != nil || strings.HasPrefix(res.system, "keel") || strings.HasPrefix(res.system, "raw") {
			continue
		}
		if b == nil || (res.unit == perSecond && res.value > b.value) || (res.unit != perSecond && res.value < b.value) {
			b = res
		}
	}
	return b
}

// markdown renders the report.
func (r *report) markdown(targets []target, analysis string) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# Keel against embedded Go databases\n\n")
	w("Every figure below comes from one run of `go run .%s` in `bench/`, started %s and finished %s (%s).\n",
		cmdFlags, r.started.UTC().Format("2006-01-02 15:04 MST"), time.Now().UTC().Format("15:04 MST"), time.Since(r.started).Round(time.Second))
	w("Ratios are Keel's figure against the other system's in the same mode, as \"times better\": above 1x Keel is faster (or smaller).\n")
	w("CPU is the cores the whole process kept busy during a measurement, on average (%d.00 would be every core of this machine).\n", runtime.NumCPU())
	w("How each workload and system is implemented: [README.md](README.md).\n\n")
	w("## Machine and versions\n\n")
	for _, l := range r.env {
		w("- %s\n", l)
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		w("- Load average at the end: %s\n", strings.Join(strings.Fields(string(b))[:3], " "))
	}
	w("\n## Configuration\n\n")
	for _, l := range r.configs {
		w("- %s\n", l)
	}
	w("\n## Sizes\n\n")
	for _, l := range r.sizes {
		w("- %s\n", l)
	}
	if len(targets) > 0 {
		w("\n## Targets\n\n| target | measured | met |\n| --- | --- | --- |\n")
		for _, t := range targets {
			met := "yes"
			switch {
			case t.info:
				met = "not judged in-run"
			case !t.met:
				met = "**no**"
			}
			w("| %s | %s | %s |\n", t.name, t.measured, met)
		}
	}
	w("\n## Results\n")
	var titles []string
	for _, res := range r.results {
		if !slices.Contains(titles, res.title) {
			titles = append(titles, res.title)
		}
	}
	for _, title := range titles {
		w("\n### %s\n\n", title)
		w("| mode | system | figure | p50 | p99 | CPU | Keel's ratio to it |\n| --- | --- | --- | --- | --- | --- | --- |\n")
		for _, res := range r.results {
			if res.title != title {
				continue
			}
			keel := r.keelIn(title, res.mode)
			fig, p50, p99, cpu, rt := "", "", "", "", ""
			if res.err != nil {
				fig = "not run: " + res.err.Error()
			} else {
				switch res.unit {
				case perSecond:
					fig = human(res.value) + " ops/s"
				case seconds:
					fig = fmt.Sprintf("%.2f s", res.value)
				case bytesPerRow:
					fig = fmt.Sprintf("%.0f bytes/row", res.value)
				}
				if res.st != nil {
					p50, p99 = dur(res.st.p50), dur(res.st.p99)
					cpu = fmt.Sprintf("%.2f", res.st.cpu)
				}
				if keel != nil && !strings.HasPrefix(res.system, "keel") {
					var parts []string
					for _, k := range r.results {
						if k.title == title && k.mode == res.mode && strings.HasPrefix(k.system, "keel") {
							if k.system == "keel" {
								parts = append(parts, fmtRatio(ratio(k, res)))
							} else {
								parts = append(parts, k.system[5:]+" "+fmtRatio(ratio(k, res)))
							}
						}
					}
					rt = strings.Join(parts, ", ")
				}
			}
			if res.note != "" {
				fig += " (" + res.note + ")"
			}
			w("| %s | %s | %s | %s | %s | %s | %s |\n", res.mode, res.system, fig, p50, p99, cpu, rt)
		}
	}
	if analysis != "" {
		w("\n%s", analysis)
	}
	return b.String()
}
