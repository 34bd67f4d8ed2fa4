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
	return runFor(callers, b.dur, b.maxOps, op, true)
}

func runFor(callers int, dur time.Duration, maxOps int64, op opFunc, record bool) (stats, error) {
	var (
		count    atomic.Int64
		stop     atomic.Bool
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	lats := make([][]time.Duration, callers)
	per := int(maxOps/int64(callers)) + 1
	cpu0 := cpuTime()
	start := time.Now()
	deadline := start.Add(dur)
	for w := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w)+1, 0x6b65656c))
			var lat []time.Duration
			if record {
				lat = make([]time.Duration, 0, min(per, 1<<22))
			}
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
	elapsed := time.Since(start)
	if firstErr != nil {
		return stats{}, firstErr
	}
	cpu := cpuTime() - cpu0
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	s := stats{ops: int64(len(all)), elapsed: elapsed, cpu: cpu.Seconds() / elapsed.Seconds()}
	if len(all) > 0 {
		slices.Sort(all)
		s.p50 = all[len(all)/2]
		s.p99 = all[min(len(all)-1, len(all)*99/100)]
	}
	return s, nil
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
