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
