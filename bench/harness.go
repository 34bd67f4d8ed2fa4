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

// measure runs op from callers goroutines until the budget is spent and
// returns the throughput over the whole run and the latency percentiles
// of every operation. The first error stops the run and is returned.
func measure(callers int, b budget, op opFunc) (stats, error) {
	if b.warmup > 0 {
		if _, err := runFor(callers, b.warmup, b.maxOps/10+1, op, false); err != nil {
			return stats{}, err
		}
	}
	smp, err := runFor(callers, b.dur, b.maxOps, op, true)
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

// runFor runs op from callers goroutines for dur or maxOps operations,
// whichever comes first.
func runFor(callers int, dur time.Duration, maxOps int64, op opFunc, record bool) (sample, error) {
	var (
		count    atomic.Int64
		stop     atomic.Bool
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	lats := make([][]time.Duration, callers)
	if record {
		per := int(maxOps/int64(callers)) + 1
		for w := range lats {
			lats[w] = make([]time.Duration, 0, min(per, 1<<22))
		}
	}
	cpu0 := cpuTime()
	start := time.Now()
	deadline := start.Add(dur)
	for w := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w)+1, 0x6b65656c))
			lat := lats[w]
			for !stop.Load() {
				if count.Add(1) > maxOps {
					stop.Store(true)
					break
				}
				t0 := time.Now()
				err := op(w, r)
				t1 := time.Now()
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					stop.Store(true)
					break
				}
				if record {
					lat = append(lat, t1.Sub(t0))
				}
				if t1.After(deadline) {
					stop.Store(true)
				}
			}
			lats[w] = lat
		}()
	}
	wg.Wait()
	smp := sample{elapsed: time.Since(start), cpu: cpuTime() - cpu0}
	if firstErr != nil {
		return sample{}, firstErr
	}
	for _, l := range lats {
		smp.lats = append(smp.lats, l...)
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
