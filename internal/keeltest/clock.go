package keeltest

import (
	"sync"
	"time"

	"github.com/keeldb/keel"
)

// Clock is a clock a test sets by hand, for Options.Clock and
// Options.After: the channels After returns fire once Set or Advance
// reaches their time, and never on their own. It is safe for concurrent
// use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a clock at 2026-12-01 10:00 UTC.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the clock's time once Set or
// Advance takes it to d past its time now or beyond. The channel has room
// for its one value, so a waiter that went away holds nothing up.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

// Set sets the clock to t, which may be before its time now, and fires
// the channels of After whose time t reaches.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(t)
}

// Advance moves the clock on by d, as Set does.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(c.now.Add(d))
}

func (c *Clock) set(t time.Time) {
	c.now = t
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			keep = append(keep, w)
		} else {
			w.ch <- c.now
		}
	}
	clear(c.waiters[len(keep):])
	c.waiters = keep
}

// Options returns options that run the database on the clock.
func (c *Clock) Options() keel.Options {
	return keel.Options{Clock: c.Now, After: c.After}
}
