package runtime_test

import (
	"errors"
	"testing"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

func TestSmoke(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{Batch: 4})
	rt, err := runtime.Open(m.Module, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	p, err := runtime.Call[testmod.AddPostArgs, testmod.Post](rt, "alice", "AddPost", testmod.AddPostArgs{Slug: "a", Author: "alice"})
	if err != nil || p.ID != 2 {
		t.Fatalf("AddPost: %+v %v", p, err)
	}
	_, err = runtime.Call[testmod.AddPostArgs, testmod.Post](rt, "alice", "AddPost", testmod.AddPostArgs{Slug: "a"})
	var ue *table.UniqueError
	if !errors.As(err, &ue) || ue.Index != "post_slug" {
		t.Fatalf("dup: %v", err)
	}
	_, err = runtime.Call[string, struct{}](rt, "x", "Panic", "zz")
	if !errors.Is(err, reducer.ErrPanic) {
		t.Fatalf("panic: %v", err)
	}
	v, err := rt.View()
	if err != nil {
		t.Fatal(err)
	}
	r := table.Read(v, m.Post)
	if r.Count() != 2 {
		t.Fatalf("count %d", r.Count())
	}
	for p := range r.All() {
		t.Logf("%+v", p)
	}
	o, err := runtime.Call[testmod.Order, testmod.Order](rt, "x", "AddOrder", testmod.Order{Shop: "s1"})
	t.Logf("%+v %v", o, err)
}
