package runtime_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/runtime"
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
