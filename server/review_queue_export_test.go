package server

// OutboxOf reports the outbound queue of srv's one connection: the bytes
// it counts toward Options.MaxQueueBytes, whether messages wait for the
// writer to take them, and whether it overflowed. ok is false unless srv
// has exactly one connection.
func OutboxOf(srv *Server) (bytes int, waiting, overflow, ok bool) {
	srv.mu.Lock()
	var c *conn
	n := 0
	for k := range srv.conns {
		c, n = k, n+1
	}
	srv.mu.Unlock()
	if n != 1 {
		return 0, false, false, false
	}
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	return c.out.bytes, c.out.q != nil, c.out.overflow, true
}
