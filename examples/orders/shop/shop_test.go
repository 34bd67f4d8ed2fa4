package shop

import (
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/table"
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
	// RT_PK: every placed order comes back with its full key; ids are
	// unique and increasing within each shop.
	var keys [][2]any
	for _, o := range r.Placed {
		keys = append(keys, [2]any{o.Shop, o.ID})
	}
	wantKeys := [][2]any{{"s1", int64(1)}, {"s2", int64(2)}, {"s1", int64(3)}, {"s2", int64(4)}, {"s1", int64(5)}}
	if d := cmp.Diff(wantKeys, keys); d != "" {
		t.Errorf("placed keys (-want +got):\n%s", d)
	}

	type outcome struct {
		Call    string
		Cond    Condition
		Existed bool
		OK      bool
	}
	var got []outcome
	for _, o := range r.Outcomes {
		got = append(got, outcome{o.Call, o.Cond, o.Existed, o.OK})
	}
	want := []outcome{
		{"PutRow", Ignore, true, true},
		{"PutRow", Ignore, false, true},
		{"PutRow", ExpectExist, true, true},
		{"PutRow", ExpectExist, false, false},
		{"PutRow", ExpectNotExist, true, false},
		{"PutRow", ExpectNotExist, false, true},
		{"DeleteRow", Ignore, true, true},
		{"DeleteRow", Ignore, false, true},
		{"DeleteRow", ExpectExist, true, true},
		{"DeleteRow", ExpectExist, false, false},
		{"DeleteRow", ExpectNotExist, true, false},
		{"DeleteRow", ExpectNotExist, false, false},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("outcomes (-want +got):\n%s", d)
	}
	if !errors.Is(r.Outcomes[3].Err, table.ErrNotFound) || !errors.Is(r.Outcomes[4].Err, table.ErrUniqueViolation) {
		t.Errorf("errors: %v, %v; want not found, unique violation", r.Outcomes[3].Err, r.Outcomes[4].Err)
	}
	if d := cmp.Diff([]bool{true, false, true, false, false, false}, r.Deleted); d != "" {
		t.Errorf("deleted (-want +got):\n%s", d)
	}
	wantRows := []Order{
		{"s1", 1, "tea", 11}, {"s1", 3, "milk", 1}, {"s1", 5, "sugar", 3},
		{"s1", 100, "honey", 1}, {"s1", 102, "honey", 1},
	}
	if d := cmp.Diff(wantRows, r.Orders); d != "" {
		t.Errorf("orders (-want +got):\n%s", d)
	}
}

func TestIncreasingWithinPartition(t *testing.T) {
	c := open(t)
	last := map[string]int64{}
	for i := 0; i < 50; i++ {
		s := []string{"a", "b", "c"}[i*7%3]
		o, err := c.PlaceOrder(t.Context(), s, "x", 1)
		if err != nil {
			t.Fatal(err)
		}
		if o.Shop != s || o.ID <= last[s] {
			t.Fatalf("order %d in %s has key (%s, %d) after %d", i, s, o.Shop, o.ID, last[s])
		}
		last[s] = o.ID
	}
	v, err := c.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	prev, n := int64(0), 0
	for o := range v.Order().ByPK().FilterShop("b") {
		if o.ID <= prev {
			t.Fatalf("shop b: id %d after %d", o.ID, prev)
		}
		prev = o.ID
		n++
	}
	// Shop b took the orders with i*7%3 == 1: 17 of the 50.
	if n != 17 {
		t.Fatalf("shop b has %d orders, want 17", n)
	}
}
