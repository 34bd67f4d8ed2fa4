package runtime_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keeldb/keel/internal/host"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// TestTakenBackCountsAsRollback: commits the log did not keep, taken back
// after it failed or when the runtime stops leading, count as rollbacks,
// not as commits, as a commit that did not encode does.
func TestTakenBackCountsAsRollback(t *testing.T) {
	for _, how := range []string{"fail", "follow"} {
		t.Run(how, func(t *testing.T) {
			m, rt, log := startManual(t)
			before := rt.Stats()
			var calls []*runtime.Call
			for i := range 3 {
				c, _ := submit(t.Context(), rt, m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("lost", i)})
				calls = append(calls, c)
			}
			waitExecutorIdle(t, rt)
			if log.LastIndex() != 4 {
				t.Fatalf("%d entries appended, want 4", log.LastIndex())
			}
			if how == "fail" {
				log.fail(errors.New("disk full"))
			} else {
				rt.Follow(errors.New("keel: not the leader"), errors.New("keel: lost"), nil)
			}
			for i, c := range calls {
				if err := c.Wait(t.Context()); err == nil {
					t.Fatalf("call %d, taken back, did not fail", i)
				}
			}
			s := rt.Stats()
			if got := s.Commits - before.Commits; got != 0 {
				t.Errorf("Commits went up by %d, want 0: every commit was taken back", got)
			}
			if got := s.Rollbacks - before.Rollbacks; got != 3 {
				t.Errorf("Rollbacks went up by %d, want 3 (the commits taken back)", got)
			}
		})
	}
}

// blockBody is a call that runs until release is closed.
type blockBody struct{ started, release chan struct{} }

func (b blockBody) Run(*reducer.Ctx) error {
	close(b.started)
	<-b.release
	return nil
}

// TestStatsSequencesWhileRunning: a first Stats taken while a
// transaction runs still lists every sequence, with the values at New,
// and only a database with a log reports a persisted boundary.
func TestStatsSequencesWhileRunning(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(fmt.Sprintf("durable=%v", durable), func(t *testing.T) {
			m := testmod.New(table.SeqParams[uint64]{Batch: 8})
			var log host.CommitLog
			if durable {
				log = newMemLog(false)
			}
			rt := start(t, config(t, m, log))
			b := blockBody{started: make(chan struct{}), release: make(chan struct{})}
			c := &runtime.Call{Reducer: &m.AddPost.Def, Caller: "t", Body: b}
			if err := rt.Submit(c); err != nil {
				t.Fatal(err)
			}
			<-b.started
			s := rt.Stats()
			close(b.release)
			if err := c.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			if free := rt.Stats(); len(s.Sequences) == 0 || len(s.Sequences) != len(free.Sequences) {
				t.Fatalf("Stats while a call runs lists sequences %+v", s.Sequences)
			}
			for _, q := range s.Sequences {
				if q.Next == "" {
					t.Errorf("sequence %s.%s: no next value", q.Table, q.Sequence)
				}
				if (q.Persisted != "") != durable {
					t.Errorf("sequence %s.%s (durable %v): persisted %q", q.Table, q.Sequence, durable, q.Persisted)
				}
			}
		})
	}
}
