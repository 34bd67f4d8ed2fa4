package counter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Result is what Demo did.
type Result struct {
	Updated []int64 // the UPDATED_NEW values of the explicit increments
	Items   []Item  // every item, in id order
	Counter int64   // the global counter's final value
}

// Demo runs the example against a new database: two items get ids 1 and
// 2; two explicit increments return 3 and 4 (UPDATED_NEW); an item with
// no name fails and rolls its increment back; the next item gets id 5.
func Demo(ctx context.Context, c Client, w io.Writer) (Result, error) {
	var r Result
	add := func(name, desc string) error {
		it, err := c.AddItem(ctx, name, desc)
		if errors.Is(err, ErrNoName) {
			fmt.Fprintf(w, "add item %q failed, the increment rolled back: %v\n", name, err)
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "item %d: %s (%s)\n", it.ID, it.Name, it.Description)
		return nil
	}
	if err := add("Item 1", "First item description"); err != nil {
		return r, err
	}
	if err := add("Item 2", "Second item description"); err != nil {
		return r, err
	}
	for i := 0; i < 2; i++ {
		v, err := c.Increment(ctx, Global, 1)
		if err != nil {
			return r, err
		}
		fmt.Fprintf(w, "increment %s by 1: UPDATED_NEW counter_value = %d\n", Global, v)
		r.Updated = append(r.Updated, v)
	}
	if err := add("", "no name"); err != nil {
		return r, err
	}
	if err := add("Item 5", "After the failure"); err != nil {
		return r, err
	}
	if _, err := c.Increment(ctx, "missing", 1); err != nil {
		fmt.Fprintf(w, "increment of a missing counter fails: %v\n", err)
	}
	v, err := c.View(ctx)
	if err != nil {
		return r, err
	}
	r.Items = slices.Collect(v.Item().All())
	ctr, _ := v.Counter().Find(Global)
	r.Counter = ctr.CounterValue
	fmt.Fprintf(w, "%d items, %s = %d\n", len(r.Items), Global, r.Counter)
	return r, nil
}
