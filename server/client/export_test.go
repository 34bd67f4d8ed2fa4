package client

import "time"

// SetBeforeWrite makes c's writer run f before it writes each batch of
// queued messages, after it took them from the queue.
func SetBeforeWrite(c *Conn, f func()) {
	c.mu.Lock()
	c.beforeWrite = f
	c.mu.Unlock()
}

// Queued returns how many messages wait in c's queue.
func Queued(c *Conn) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.out)
}

// Connected reports whether c has a connection.
func Connected(c *Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws != nil
}

// SetAfterResubscribe makes c run f each time it has subscribed its
// query sets again after a reconnection.
func SetAfterResubscribe(c *Conn, f func()) {
	c.mu.Lock()
	c.afterResubscribe = f
	c.mu.Unlock()
}

// SetAfterAdd makes c's Subscribe run f once it has added its query set,
// before it sends the set's Subscribe.
func SetAfterAdd(c *Conn, f func()) {
	c.mu.Lock()
	c.afterAdd = f
	c.mu.Unlock()
}

// Backoffs returns the first n waits between dials with limit as
// Options.MaxBackoff.
func Backoffs(limit time.Duration, n int) []time.Duration {
	var out []time.Duration
	var w time.Duration
	for range n {
		w = backoff(w, limit)
		out = append(out, w)
	}
	return out
}

// QueuedBytes returns the bytes c's callbacks hold now and the most they
// held at once.
func QueuedBytes(c *Conn) (now, peak int64) {
	c.ev.mu.Lock()
	defer c.ev.mu.Unlock()
	return c.ev.bytes, c.ev.peak
}

// SetAfterDrain makes c's reader run f when, having ended a connection
// whose callbacks are behind, it has waited for them and is about to dial
// again.
func SetAfterDrain(c *Conn, f func()) {
	c.mu.Lock()
	c.afterDrain = f
	c.mu.Unlock()
}

// QueuedEvents returns how many events wait for c's event goroutine.
func QueuedEvents(c *Conn) int {
	c.ev.mu.Lock()
	defer c.ev.mu.Unlock()
	return len(c.ev.q)
}

// SetMaxQueueBytes sets c's bound on the bytes its callbacks hold.
func SetMaxQueueBytes(c *Conn, n int64) {
	c.ev.mu.Lock()
	c.ev.max = n
	c.ev.mu.Unlock()
}

// Stopped returns a channel closed once c's reader returned: c dials no
// more.
func Stopped(c *Conn) <-chan struct{} { return c.stopped }
