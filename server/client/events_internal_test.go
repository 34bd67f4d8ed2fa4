package client

import "testing"

// TestEventBytesFreedBeforeRelease: a message's bytes stop counting
// toward the bound before the goroutine that waits for it is released,
// so that the next message it asks for is taken even when the two
// together would pass the bound. (Freed only when the event goroutine
// came round again, the next reply ended the connection with
// ErrQueueFull although nothing else was held.)
func TestEventBytesFreedBeforeRelease(t *testing.T) {
	var e events
	e.init(64)
	go e.loop()
	defer e.close()
	for i := range 1000 {
		done := make(chan bool)
		if err := e.add(event{run: func() {}, size: 40, done: done}); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		// Take the release without parking, so that this goroutine, not
		// the event goroutine, runs first once it is released.
		for ok := false; !ok; {
			select {
			case <-done:
				ok = true
			default:
			}
		}
		e.mu.Lock()
		held := e.bytes
		e.mu.Unlock()
		if held != 0 {
			t.Fatalf("message %d: %d bytes held once its waiter was released, want 0", i, held)
		}
	}
}
