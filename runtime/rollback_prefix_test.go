package runtime_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// TestRollbackPanicPrefix: a reducer fails with a Keel error and its
// rollback then panics; the call's error holds both, with one "keel:"
// prefix, and still wraps the reducer's error.
func TestRollbackPanicPrefix(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{})
	var explode bool
	cmp := m.Post.Indexes[0].Compare
	m.Post.Indexes[0].Compare = func(a, b *testmod.Post, n int) int {
		if explode {
			panic("index invariant lost")
		}
		return cmp(a, b, n)
	}
	boom := reducer.New("Boom", func(c *reducer.Ctx, _ struct{}) (struct{}, error) {
		posts := table.Use(c.Tx, m.Post)
		if _, err := posts.Insert(testmod.Post{Slug: "x"}); err != nil {
			return struct{}{}, err
		}
		_, err := posts.Insert(testmod.Post{Slug: "x"}) // a *table.UniqueError
		explode = true
		return struct{}{}, err
	}, reducer.Codec[struct{}]{}, reducer.Codec[struct{}]{})
	m.Reducers = append(m.Reducers, &boom.Def)
	rt, err := runtime.New(config(t, m, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	_, err = call(t.Context(), rt, boom, struct{}{})
	explode = false
	if !errors.Is(err, table.ErrUniqueViolation) {
		t.Fatalf("call = %v; want the reducer's unique violation", err)
	}
	s := err.Error()
	if !strings.Contains(s, "(and then: rolling back Boom panicked") || !strings.Contains(s, "index invariant lost") {
		t.Fatalf("error does not tell of the rollback's panic: %s", s)
	}
	if n := strings.Count(s, "keel:"); n != 1 || !strings.HasPrefix(s, "keel: ") {
		t.Fatalf("error has %d keel: prefixes, want one at the front: %s", n, s)
	}
}
