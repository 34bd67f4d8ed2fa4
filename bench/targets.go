package main

import (
	"fmt"
	"math"
)

// target is one of the goals Keel is measured against, judged from the
// run's own figures.
type target struct {
	name     string
	measured string
	met      bool
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
		pre := rawNames[rawKey{false, true}]
		if p := r.find(titleW1, "durable", pre); p != nil && p.err == nil {
			m += fmt.Sprintf(" (vs the %s, %s: %.0f%%)", pre, p.short(), 100*ratio(k, p))
		}
		ts = append(ts, target{name: "W1 durable: >= 90% of a raw write+fsync loop", met: x >= 0.9, measured: m})
	}
	vsBest("W1 durable: >= 1.2x the best peer", titleW1, "durable", 1.2)
	vsBest("W2 durable, 64 callers: >= 20x the best peer", titleW2, "durable", 20)
	vsBest("W3 uniform durable, 64 callers: >= 20x the best peer", titleW3u, "durable", 20)
	vsBest("W3 Zipf durable, 64 callers: >= 20x the best peer", titleW3z, "durable", 20)
	vsSystem("W1 in memory: >= 2x buntdb", titleW1, "in memory", "buntdb", 2)
	vsSystem("W4 by primary key, in memory: >= 2x buntdb", titleW4pk, "in memory", "buntdb", 2)
	vsSystem("W4 by unique column, in memory: >= 2x buntdb", titleW4u, "in memory", "buntdb", 2)
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
