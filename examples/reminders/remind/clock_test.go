package remind

import (
	"sync"
	"time"
)

// testClock is a clock that moves only when Sleep sets it, for Demo and
// keel.Options. Its After ignores d and waits a millisecond of real
// time: the scheduler reads Now again when a wait ends and waits again
// for what is left, so it looks at the clock every millisecond. An After
// that counted d on the clock (keeltest.Clock's) would leave the
// scheduler waiting past its time when Sleep moves the clock between the
// scheduler's Now and its After, since this clock never moves on its own.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

// newTestClock returns a clock at 2026-12-01 10:00 UTC.
func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) After(time.Duration) <-chan time.Time { return time.After(time.Millisecond) }

// Sleep sets the clock to t.
func (c *testClock) Sleep(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
