package runtime

import (
	"testing"
	"time"
)

// TestBlockedCountsSubmissions: two submissions wait for room in a full
// queue; one place frees, one of them takes it and the other waits on.
// Blocked counts the two submissions, not how often they waited.
func TestBlockedCountsSubmissions(t *testing.T) {
	var q queue
	q.init(1, 1<<20, false)
	q.mu.Lock()
	if err := q.admit(&Call{}); err != nil { // the call in flight that fills the queue
		t.Fatal(err)
	}
	q.mu.Unlock()
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- q.submit(&Call{}) }()
	}
	// waitFor polls the queue under its lock until cond holds.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for i := 0; ; i++ {
			q.mu.Lock()
			ok := cond()
			q.mu.Unlock()
			if ok {
				return
			}
			if i > 10000 {
				t.Fatalf("the queue never got to %s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("two waiting submissions", func() bool { return q.blocked == 2 && q.space != nil })
	q.free(1, 0)
	// One took the place; the other waits on a new signal of room.
	waitFor("one queued and one waiting again", func() bool { return q.queued == 1 && q.space != nil })
	q.mu.Lock()
	blocked := q.blocked
	q.mu.Unlock()
	if blocked != 2 {
		t.Errorf("Blocked is %d after two submissions waited", blocked)
	}
	q.free(1, 0)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
