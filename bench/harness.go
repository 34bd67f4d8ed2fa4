package main

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// budget bounds one timed measurement: it stops after maxOps operations
// or after dur, whichever comes first, following a warm-up.
type budget struct {
	dur    time.Duration
	maxOps int64
	warmup time.Duration
}

// stats are the figures of one timed measurement.
type stats struct {
	ops      int64
	elapsed  time.Duration
	p50, p99 time.Duration
	cpu      float64 // cores the process kept busy, on average
}

func (s stats) perSec() float64 { return float64(s.ops) / s.elapsed.Seconds() }

// opFunc is one operation of caller w, with the caller's own random source.
type opFunc func(w int, r *rand.Rand) error

// loopFunc is the whole share of caller w in a timed run, for callers that
// keep several calls in flight (a pipelined submitter): it makes calls
// while t.admit grants them, reports every finished call through t.done,
// and returns once every call it made has finished. Throughput counts the
// calls reported to t.done, not the iterations of the caller's loop.
type loopFunc func(w int, r *rand.Rand, t *turn) error

// loop runs op once per call, timing each: an opFunc as a loopFunc.
func (op opFunc) loop() loopFunc {
	return func(w int, r *rand.Rand, t *turn) error {
		for t.admit(1) == 1 {
			t0 := time.Now()
			if err := op(w, r); err != nil {
				return err
			}
			t.done(t0, time.Now())
		}
		return nil
	}
}

// measure runs op from callers goroutines until the budget is spent and
// returns the throughput over the whole run and the latency percentiles
// of every operation. The first error stops the run and is returned.
func measure(callers int, b budget, op opFunc) (stats, error) {
	if b.warmup > 0 {
		if _, err := runFor(callers, b.warmup, b.maxOps/10+1, op.loop(), false); err != nil {
			return stats{}, err
		}
	}
	smp, err := runFor(callers, b.dur, b.maxOps, op.loop(), true)
	return smp.stats(), err
}

// sample is what one or more timed runs of an operation recorded.
type sample struct {
	lats    []time.Duration
	elapsed time.Duration
	cpu     time.Duration
}

func (s *sample) add(o sample) {
	s.lats = append(s.lats, o.lats...)
	s.elapsed += o.elapsed
	s.cpu += o.cpu
}

func (s *sample) stats() stats {
	st := stats{ops: int64(len(s.lats)), elapsed: s.elapsed}
	if s.elapsed > 0 {
		st.cpu = s.cpu.Seconds() / s.elapsed.Seconds()
	}
	if len(s.lats) > 0 {
		slices.Sort(s.lats)
		st.p50 = s.lats[len(s.lats)/2]
		st.p99 = s.lats[min(len(s.lats)-1, len(s.lats)*99/100)]
	}
	return st
}

// run is the state that the callers of one timed run share.
type timedRun struct {
	count    atomic.Int64 // calls admitted
	stop     atomic.Bool
	maxOps   int64
	deadline time.Time
}

// turn is one caller's share of a timed run: it admits the caller's calls
// and records their latencies.
type turn struct {
	run    *timedRun
	record bool
	lat    []time.Duration
}

// admit grants up to n more calls and returns how many: 0 once the run is
// over (its time or its calls are spent, or a caller failed).
func (t *turn) admit(n int) int {
	r := t.run
	if n <= 0 || r.stop.Load() {
		return 0
	}
	after := r.count.Add(int64(n))
	if after <= r.maxOps {
		return n
	}
	r.stop.Store(true)
	return max(0, n-int(after-r.maxOps))
}

// end ends the run for every caller: admit grants no more calls.
func (t *turn) end() { t.run.stop.Store(true) }

// done records a finished call: submitted when it was handed to the
// system, finished when its outcome reached the caller. A call that
// finishes after the deadline ends the run.
func (t *turn) done(submitted, finished time.Time) {
	if t.record {
		t.lat = append(t.lat, finished.Sub(submitted))
	}
	if finished.After(t.run.deadline) {
		t.run.stop.Store(true)
	}
}

// runFor runs loop from callers goroutines for dur or maxOps calls,
// whichever comes first.
func runFor(callers int, dur time.Duration, maxOps int64, loop loopFunc, record bool) (sample, error) {
	var (
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	turns := make([]turn, callers)
	rn := &timedRun{maxOps: maxOps}
	// The latency buffers (up to 32 MiB a slice) are made before the
	// clock starts: their zeroing, and a collection it may start, are not
	// the system's time.
	for w := range turns {
		turns[w].run, turns[w].record = rn, record
		if record {
			turns[w].lat = make([]time.Duration, 0, min(maxOps/int64(callers)+1, 1<<22))
		}
	}
	cpu0 := cpuTime()
	start := time.Now()
	rn.deadline = start.Add(dur)
	for w := range callers {
		t := &turns[w]
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w)+1, 0x6b65656c))
			if err := loop(w, r, t); err != nil {
				errOnce.Do(func() { firstErr = err })
				rn.stop.Store(true)
			}
		}()
	}
	wg.Wait()
	smp := sample{elapsed: time.Since(start), cpu: cpuTime() - cpu0}
	if firstErr != nil {
		return sample{}, firstErr
	}
	for i := range turns {
		smp.lats = append(smp.lats, turns[i].lat...)
	}
	return smp, nil
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
