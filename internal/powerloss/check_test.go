//go:build linux

package powerloss

import (
	"fmt"
	"slices"
	"time"
)

// figures is what the checks of one or more rounds found.
type figures struct {
	rounds    int
	calls     int // calls begun
	acked     int // acknowledged calls checked
	lost      int // acknowledged calls whose effect is gone
	lostRound int // rounds that lost any
	// windows are, for each round that lost any, the time from its first
	// lost acknowledgement to the kill; window is the longest.
	windows []time.Duration
	// window is the longest time from the first lost acknowledgement of a
	// round to the kill.
	window     time.Duration
	flyApplied int // calls in flight at the kill that survived
	flyLost    int // ... that did not
	ambiguous  int // keys whose calls were all or none applied, unknown which
	torn       int // cuts that tore a write
	repaired   int // reopens that cut a torn entry off the log
	readOnly   int // reopens read-only
	logFailed  int // rounds in which the child's log failed (a failed fsync)
	openFailed int // rounds in which the child's keel.Open failed (a failed fsync)
}

func (f *figures) add(g figures) {
	f.rounds += g.rounds
	f.calls += g.calls
	f.acked += g.acked
	f.lost += g.lost
	f.lostRound += g.lostRound
	f.window = max(f.window, g.window)
	f.windows = append(f.windows, g.windows...)
	f.flyApplied += g.flyApplied
	f.flyLost += g.flyLost
	f.ambiguous += g.ambiguous
	f.torn += g.torn
	f.repaired += g.repaired
	f.readOnly += g.readOnly
	f.logFailed += g.logFailed
	f.openFailed += g.openFailed
}

// check compares what a reopened database holds (got) with the ledger of
// the round and the model of the rounds before, and makes got the model.
// Under every policy: every row belongs to a call that began (or to the
// model), each key holds a state that a prefix of its calls gives, what
// survived is a prefix of the commit order, and no autoinc value that a
// surviving commit used was handed out twice. With always set (SyncAlways)
// no acknowledged call may be lost either. killNs is when the child was
// killed.
func (m *model) check(l *ledger, got map[string]keyState, always bool, killNs int64) (figures, error) {
	f := figures{rounds: 1, calls: len(l.ops), acked: l.ackedCalls()}
	if l.openFailed {
		f.openFailed = 1
	}
	for _, o := range l.ops {
		if o.failed {
			f.logFailed = 1
		}
	}
	byKey := l.byKey()
	for _, k := range sortedKeys(got) {
		if _, ok := byKey[k]; ok {
			continue
		}
		want, ok := m.keys[k]
		switch {
		case !ok && k == "hello" && len(m.keys) == 0:
			// The init reducer's post, in a new database.
		case !ok:
			return f, fmt.Errorf("%s holds %v, but no call on it began", k, got[k])
		case !want.matches(got[k]):
			return f, fmt.Errorf("%s holds %v, the last reopen found %v", k, got[k], want)
		}
		if err := m.used(k, got[k].pid, got[k].orders...); err != nil {
			return f, err
		}
	}
	for _, k := range sortedKeys(m.keys) {
		if _, ok := got[k]; !ok {
			if _, began := byKey[k]; !began {
				return f, fmt.Errorf("%s is gone (it held %v when the database was last reopened)", k, m.keys[k])
			}
		}
	}
	// Each key's calls applied up to some c: the candidates are the c
	// whose state is what the key holds. A key left empty by a delete has
	// two, none applied or all.
	type keyCalls struct {
		key   string
		ops   []*op
		cands []int
		acked int // its acknowledged calls: a prefix of ops
	}
	var keys []keyCalls
	for _, k := range sortedKeys(byKey) {
		ops := byKey[k]
		if _, ok := m.keys[k]; ok {
			return f, fmt.Errorf("the child reused key %s of an earlier round", k)
		}
		if ops[0].kind == "fail" {
			if g, ok := got[k]; ok {
				return f, fmt.Errorf("%s holds %v, but its only call, Fail, rolled back", k, g)
			}
			f.calls-- // not a call with an outcome to check
			continue
		}
		kc := keyCalls{key: k, ops: ops}
		for c, s := range chain(ops) {
			if s.matches(got[k]) {
				kc.cands = append(kc.cands, c)
			}
		}
		if len(kc.cands) == 0 {
			return f, fmt.Errorf("%s holds %v, which no prefix of its calls %v gives", k, got[k], ops)
		}
		for kc.acked < len(ops) && ops[kc.acked].acked > 0 {
			kc.acked++
		}
		if always {
			kc.cands = slices.DeleteFunc(kc.cands, func(c int) bool { return c < kc.acked })
			if len(kc.cands) == 0 {
				return f, fmt.Errorf("acknowledged call lost under SyncAlways: %s holds %v, but %s was acknowledged",
					k, got[k], ops[kc.acked-1])
			}
		}
		keys = append(keys, kc)
	}
	// What survived is a prefix of the commit order: a call that survived
	// began before every lost call was acknowledged. The keys with one
	// candidate bound the cut; the bounds then settle the others where
	// they can.
	var lastApplied, firstLost *op // the applied call begun last, the lost acknowledged call acknowledged first
	bound := func(ops []*op, c int) {
		for _, o := range ops[:c] {
			if lastApplied == nil || o.began > lastApplied.began {
				lastApplied = o
			}
		}
		for _, o := range ops[c:] {
			if o.acked > 0 && (firstLost == nil || o.acked < firstLost.acked) {
				firstLost = o
			}
		}
	}
	for _, kc := range keys {
		if len(kc.cands) == 1 {
			bound(kc.ops, kc.cands[0])
		}
	}
	if firstLost != nil && lastApplied != nil && lastApplied.began > firstLost.acked {
		return f, fmt.Errorf("not a prefix of the commit order: %s is lost, but %s, begun after it was acknowledged, survived",
			firstLost, lastApplied)
	}
	fits := func(ops []*op, c int) bool {
		for _, o := range ops[:c] {
			if firstLost != nil && o.began > firstLost.acked {
				return false
			}
		}
		for _, o := range ops[c:] {
			if o.acked > 0 && lastApplied != nil && o.acked < lastApplied.began {
				return false
			}
		}
		return true
	}
	for i, kc := range keys {
		if len(kc.cands) > 1 {
			keys[i].cands = slices.DeleteFunc(slices.Clone(kc.cands), func(c int) bool { return !fits(kc.ops, c) })
			if len(keys[i].cands) == 0 {
				return f, fmt.Errorf("not a prefix of the commit order: %s holds %v, which fits no cut of the others", kc.key, got[kc.key])
			}
		}
	}
	for _, kc := range keys {
		k, ops := kc.key, kc.ops
		c := kc.cands[len(kc.cands)-1] // all applied, if still unknown: the fewer losses
		if len(kc.cands) > 1 {
			f.ambiguous++
		} else {
			for _, o := range ops[:c] {
				if err := m.used(k, o.pid, o.oid); err != nil {
					return f, err
				}
			}
		}
		if err := m.used(k, got[k].pid, got[k].orders...); err != nil {
			return f, err
		}
		for _, o := range ops[c:] {
			if o.acked > 0 {
				f.lost++
			}
		}
		if kc.acked < len(ops) {
			if c == len(ops) {
				f.flyApplied++
			} else {
				f.flyLost++
			}
		}
	}
	if firstLost != nil {
		f.lostRound = 1
		f.window = time.Duration(killNs - firstLost.ackNs)
		f.windows = []time.Duration{f.window}
	}
	m.keys = got
	return f, nil
}
