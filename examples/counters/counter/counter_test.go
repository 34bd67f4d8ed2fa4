package counter

import (
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keeldb/keel/internal/keeltest"
)

func open(t *testing.T) Client {
	t.Helper()
	return NewClient(keeltest.Memory(t, Module), "test")
}

func TestDemo(t *testing.T) {
	r, err := Demo(t.Context(), open(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		Updated: []int64{3, 4},
		Items: []Item{
			{1, "Item 1", "First item description"},
			{2, "Item 2", "Second item description"},
			{5, "Item 5", "After the failure"},
		},
		Counter: 5,
	}
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("demo (-want +got):\n%s", d)
	}
}

func TestAtomicIncrement(t *testing.T) {
	c := open(t)
	if v, err := c.Increment(t.Context(), Global, 10); err != nil || v != 10 {
		t.Fatalf("Increment = %d, %v; want 10", v, err)
	}
	it, err := c.AddItem(t.Context(), "a", "")
	if err != nil || it.ID != 11 {
		t.Fatalf("AddItem = %+v, %v; want id 11", it, err)
	}
	if _, err := c.AddItem(t.Context(), "", ""); !errors.Is(err, ErrNoName) {
		t.Fatalf("AddItem without a name = %v", err)
	}
	if v, err := c.Increment(t.Context(), Global, 0); err != nil || v != 11 {
		t.Fatalf("counter after a failed AddItem = %d, %v; want 11", v, err)
	}
	if _, err := c.Increment(t.Context(), "nope", 1); err == nil {
		t.Fatal("Increment of a missing counter succeeded")
	}
}
