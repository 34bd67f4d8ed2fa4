package remind

import (
	"time"

	"github.com/keeldb/keel/internal/keeltest"
)

// testClock is keeltest's hand-set clock, for Demo and keel.Options:
// Sleep sets it to t, which fires the scheduler's waits that t reaches.
type testClock struct{ *keeltest.Clock }

func newTestClock() testClock { return testClock{keeltest.NewClock()} }

// Sleep sets the clock to t.
func (c testClock) Sleep(t time.Time) { c.Set(t) }
