package main

import (
	"fmt"
	"math"
	"time"
)

// target is one of the goals Keel is measured against, judged from the
// run's own figures.
type target struct {
	name     string
	measured string
	met      bool
	info     bool // reported, not judged in-run
}

func (r *report) targets() []target {
	var ts []target
	// vsBest: Keel against the best peer of the same workload and mode.
	vsBest := func(name, title, mode string, want float64) {
		k, b := r.keelIn(title, mode), r.best(title, mode)
		if k == nil || b == nil {
			return
		}
		x := ratio(k, b)
		m := fmt.Sprintf("keel %s vs %s %s: %s", k.short(), b.system, b.short(), fmtRatio(x))
		if g := r.find(title, mode, rawGroup); g != nil && g.err == nil {
			m += fmt.Sprintf("; the disk's bound with 64 transactions per fsync (%s) is %s %s", rawGroup, g.short(), fmtRatio(ratio(g, b)))
		}
		ts = append(ts, target{name: name, met: x >= want, measured: m})
	}
	vsSystem := func(name, title, mode, system string, want float64) {
		k, p := r.keelIn(title, mode), r.find(title, mode, system)
		if k == nil || p == nil {
			return
		}
		x := ratio(k, p)
		ts = append(ts, target{name: name, met: x >= want,
			measured: fmt.Sprintf("keel %s vs %s %s: %s", k.short(), system, p.short(), fmtRatio(x))})
	}
	if k, raw := r.keelIn(titleW1, "durable"), r.find(titleW1, "durable", rawName); k != nil && raw != nil {
		x := ratio(k, raw)
		m := fmt.Sprintf("keel %s vs raw %s: %.0f%%", k.short(), raw.short(), 100*x)
		pre := rawLabel(1, true)
		if p := r.find(titleW1, "durable", pre); p != nil && p.err == nil {
			m += fmt.Sprintf(" (vs the %s, %s: %.0f%%)", pre, p.short(), 100*ratio(k, p))
		}
		ts = append(ts, target{name: "W1 durable: >= 90% of a raw write+fsync loop", met: x >= 0.9, measured: m})
	}
	if k, p := r.keelIn(titleW1, "durable"), r.find(titleW1, "durable", rawLabel(1, true)); k != nil && p != nil {
		ts = append(ts, target{name: "W1 durable, 1 caller: no slower than before (issue 12)", info: true,
			measured: fmt.Sprintf("to compare with the previous RESULTS.md by hand (the disk drifts between runs); in this run keel %s vs the %s %s: %s", k.short(), p.system, p.short(), fmtRatio(ratio(k, p)))})
	}
	vsBest("W1 durable: >= 1.2x the best peer", titleW1, "durable", 1.2)
	vsBest("W2 durable, 64 callers: >= 20x the best peer", titleW2, "durable", 20)
	vsSystem("W2 durable, 64 callers: >= 0.8x the disk's bound for 64 writes per fsync (preallocated)", titleW2, "durable", rawLabel(64, true), 0.8)
	vsBest("W3 uniform durable, 64 callers: >= 20x the best peer", titleW3u, "durable", 20)
	vsBest("W3 Zipf durable, 64 callers: >= 20x the best peer", titleW3z, "durable", 20)
	vsSystem("W1 in memory: >= 2x buntdb", titleW1, "in memory", "buntdb", 2)
	vsSystem("W4 by primary key, in memory: >= 2x buntdb", titleW4pk, "in memory", "buntdb", 2)
	vsSystem("W4 by unique column, in memory: >= 2x buntdb", titleW4u, "in memory", "buntdb", 2)
	ts = append(ts, r.keynoteTargets()...)
	for _, v := range []string{"keel (log only)", "keel (snapshot)"} {
		k, b := r.find(r.w7title, "durable", v), r.find(r.w7title, "durable", "buntdb")
		if k == nil || b == nil || k.err != nil || b.err != nil {
			continue
		}
		x := ratio(k, b)
		ts = append(ts, target{name: "W7 " + v[5:] + ": faster than buntdb", met: x > 1 && !math.IsNaN(x),
			measured: fmt.Sprintf("%s %.2f s vs buntdb %.2f s: %s", v, k.value, b.value, fmtRatio(x))})
	}
	return ts
}

func (res *result) short() string {
	switch res.unit {
	case seconds:
		return fmt.Sprintf("%.2f s", res.value)
	case bytesPerRow:
		return fmt.Sprintf("%.0f B/row", res.value)
	}
	return human(res.value) + "/s"
}

// keynoteTargets are W9's: Keel pipelined durable at both skews, and in
// memory under Zipf, each beside the run's other W9 figures.
func (r *report) keynoteTargets() []target {
	var ts []target
	check := func(name, title, mode string, tps float64, p99 time.Duration) {
		k := r.find(title, mode, keelPipelined)
		if k == nil {
			return
		}
		if k.err != nil {
			ts = append(ts, target{name: name, measured: "keel pipelined failed: " + k.err.Error()})
			return
		}
		met := k.value >= tps && (p99 == 0 || k.st.p99 <= p99)
		m := fmt.Sprintf("keel pipelined %s, p99 %s", k.short(), dur(k.st.p99))
		if s := r.find(title, mode, keelSync); s != nil && s.err == nil {
			m += fmt.Sprintf("; keel 64 sync callers %s", s.short())
		}
		if g := r.find(title, mode, rawLabel(keynotePeers, true)); g != nil && g.err == nil {
			m += fmt.Sprintf("; the disk's bound (%s) %s", g.system, g.short())
		}
		if b := r.best(title, mode); b != nil {
			m += fmt.Sprintf("; best peer %s %s", b.system, b.short())
		}
		ts = append(ts, target{name: name, met: met, measured: m})
	}
	check("W9 uniform durable: >= 300k TPS, p99 <= 12 ms (Keel pipelined)", titleW9u, "durable", 300_000, 12*time.Millisecond)
	check("W9 Zipf durable: >= 300k TPS, p99 <= 12 ms (Keel pipelined)", titleW9z, "durable", 300_000, 12*time.Millisecond)
	check("W9 Zipf in memory: >= 1M TPS (Keel pipelined)", titleW9z, "in memory", 1_000_000, 0)
	return ts
}
