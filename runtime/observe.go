package runtime

import (
	"sync"

	"github.com/keeldb/keel/table"
)

// Observer sees every commit that changes rows twice: on the executor
// right after it committed, where it may read the database exactly as
// that commit left it, and once the commit is durable, with what it
// computed the first time. A commit listener (OnCommit) runs when the
// commit is durable, and the executor may have run later transactions
// by then, so a listener cannot see the state right after its commit;
// an Observer can. The network server computes subscription updates
// this way: a join's update needs the state after its commit.
type Observer struct {
	// Committed runs on the executor goroutine (or the caller running a
	// call inline) right after a commit, before the next transaction
	// begins. view returns a read-only view of the database as the
	// commit left it, the same one however often it is called; it may be
	// kept and read from any goroutine. Not calling it costs nothing;
	// calling it costs O(tables), and then the next writes copy each
	// B-tree node they change once (copy-on-write), so call it only
	// when the state is needed. What Committed returns goes to Durable.
	// The Commit is valid only during the call. Committed must be quick:
	// the executor waits for it.
	Committed func(c *table.Commit, view func() *table.View) any
	// Durable runs once the commit is durable, in commit order, as the
	// commit listeners do (before the calls the commit covers return),
	// with what Committed returned. It runs for exactly the commits that
	// Committed saw and that became durable: a commit taken back after a
	// log failure never reaches it. The Commit is valid only during the
	// call; Durable must not block nor call into the runtime.
	Durable func(c *table.Commit, v any)
}

// observer is a registered Observer with the values of the commits it
// saw that are not yet durable, oldest first.
type observer struct {
	o       Observer
	mu      sync.Mutex
	pending []observed
}

type observed struct {
	tx uint64
	v  any
}

// Observe registers o for every later commit that changes rows. A panic
// in either function is logged and ignored, as a listener's.
func (rt *Runtime) Observe(o Observer) {
	ob := &observer{o: o}
	rt.OnCommit(ob.durable)
	rt.exec.Lock()
	defer rt.exec.Unlock()
	var os []*observer
	if p := rt.observers.Load(); p != nil {
		os = append(os, *p...)
	}
	os = append(os, ob)
	rt.observers.Store(&os)
}

// observe shows a commit that changes rows to the observers; it is
// called with exec held, right after the commit.
func (rt *Runtime) observe(c *table.Commit) {
	p := rt.observers.Load()
	if p == nil {
		return
	}
	var v *table.View
	view := func() *table.View {
		if v == nil {
			v, _ = tx.View(rt.db)
		}
		return v
	}
	for _, ob := range *p {
		func() {
			defer func() {
				if x := recover(); x != nil {
					rt.logger.Error("keel: commit observer panicked", "tx", c.TxID, "panic", x)
				}
			}()
			val := ob.o.Committed(c, view)
			ob.mu.Lock()
			ob.pending = append(ob.pending, observed{c.TxID, val})
			ob.mu.Unlock()
		}()
	}
}

// durable is the observer's commit listener.
func (ob *observer) durable(c *table.Commit) {
	ob.mu.Lock()
	i := 0
	for i < len(ob.pending) && ob.pending[i].tx < c.TxID {
		i++ // commits taken back: never durable
	}
	if i == len(ob.pending) || ob.pending[i].tx != c.TxID {
		ob.pending = ob.pending[i:]
		ob.mu.Unlock()
		return // committed before the observer was registered
	}
	v := ob.pending[i].v
	ob.pending[i] = observed{}
	ob.pending = ob.pending[i+1:]
	if len(ob.pending) == 0 {
		ob.pending = nil
	}
	ob.mu.Unlock()
	ob.o.Durable(c, v)
}
