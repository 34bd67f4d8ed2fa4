package runtime

// Begin readies c for a Conn that runs calls elsewhere, as a network
// client does: c counts as running from here on, so Wait returns its
// real outcome however long it takes, and Complete gives that outcome.
// Call Begin once before sending c; the runtime's own Submit and Do must
// not see c until Complete.
func (c *Call) Begin() {
	c.prepare()
	c.state.Store(stateRunning)
}

// Complete finishes a call begun with Begin with its outcome: Notify
// runs, then Wait returns err.
func (c *Call) Complete(err error) { c.finish(err) }
