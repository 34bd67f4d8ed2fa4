package runtime

// Closing reports whether Close has begun: its queue takes no more calls.
func Closing(rt *Runtime) bool {
	rt.q.mu.Lock()
	defer rt.q.mu.Unlock()
	return rt.q.closed
}
