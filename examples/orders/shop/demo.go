package shop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/keeldb/keel/table"
)

// Outcome is one conditional write and how it ended.
type Outcome struct {
	Call      string // PutRow or DeleteRow
	Cond      Condition
	Shop      string
	ID        int64
	Existed   bool  // whether the row existed before the call
	OK        bool  // whether the call succeeded
	Err       error // why it failed
	StoredQty int64 // the quantity stored by a PutRow that succeeded
}

// Result is what Demo did.
type Result struct {
	Placed   []Order // the orders PlaceOrder returned, full keys included
	Outcomes []Outcome
	Deleted  []bool  // what each DeleteRow reported
	Orders   []Order // the table at the end, in key order
}

// Demo places five orders in two shops (ids 1..5, increasing within each
// shop) and then runs every row-existence condition against a row that
// exists and one that does not.
func Demo(ctx context.Context, c Client, w io.Writer) (Result, error) {
	var r Result
	for _, o := range []struct {
		shop, item string
		qty        int64
	}{{"s1", "tea", 2}, {"s2", "cups", 6}, {"s1", "milk", 1}, {"s2", "tray", 1}, {"s1", "sugar", 3}} {
		placed, err := c.PlaceOrder(ctx, o.shop, o.item, o.qty)
		if err != nil {
			return r, err
		}
		fmt.Fprintf(w, "PlaceOrder(%s, %s) -> RT_PK (shop=%s, id=%d)\n", o.shop, o.item, placed.Shop, placed.ID)
		r.Placed = append(r.Placed, placed)
	}
	v, err := c.View(ctx)
	if err != nil {
		return r, err
	}
	fmt.Fprint(w, "shop s1, by the partition key:")
	for o := range v.Order().ByPK().FilterShop("s1") {
		fmt.Fprintf(w, " %d", o.ID)
	}
	fmt.Fprintln(w)

	record := func(call string, cond Condition, existed bool, o Order, err error) {
		out := Outcome{Call: call, Cond: cond, Existed: existed, OK: err == nil, Err: err, Shop: o.Shop, ID: o.ID, StoredQty: o.Qty}
		r.Outcomes = append(r.Outcomes, out)
		state := "absent "
		if existed {
			state = "present"
		}
		res := fmt.Sprintf("ok, stored (shop=%s, id=%d, qty=%d)", o.Shop, o.ID, o.Qty)
		if call == "DeleteRow" {
			res = fmt.Sprintf("ok, deleted (shop=%s, id=%d)", o.Shop, o.ID)
			if !existed {
				res = "ok, nothing to delete"
			}
		}
		switch {
		case errors.Is(err, table.ErrUniqueViolation):
			res = "fails: the row exists"
		case errors.Is(err, table.ErrNotFound):
			res = "fails: no such row"
		case err != nil:
			res = "fails: " + err.Error()
		}
		fmt.Fprintf(w, "%-9s %-16s row %s -> %s\n", call, cond, state, res)
	}
	exists := func(shop string, id int64) (bool, error) {
		v, err := c.View(ctx)
		if err != nil {
			return false, err
		}
		_, ok := v.Order().Find(shop, id)
		return ok, nil
	}
	// (s1, 1) exists; (s1, 100), (s1, 101) and (s1, 102) do not, until
	// a call stores them.
	for i, cond := range []Condition{Ignore, ExpectExist, ExpectNotExist} {
		for _, row := range []Order{{Shop: "s1", ID: 1, Item: "tea", Qty: 10 + int64(i)}, {Shop: "s1", ID: 100 + int64(i), Item: "honey", Qty: 1}} {
			existed, err := exists(row.Shop, row.ID)
			if err != nil {
				return r, err
			}
			o, err := c.PutRow(ctx, row, cond)
			record("PutRow", cond, existed, o, err)
		}
	}
	for _, d := range []struct {
		cond Condition
		shop string
		id   int64
	}{
		{Ignore, "s2", 2}, {Ignore, "s2", 42},
		{ExpectExist, "s2", 4}, {ExpectExist, "s2", 42},
		{ExpectNotExist, "s1", 3}, {ExpectNotExist, "s2", 42},
	} {
		existed, err := exists(d.shop, d.id)
		if err != nil {
			return r, err
		}
		deleted, err := c.DeleteRow(ctx, d.shop, d.id, d.cond)
		r.Deleted = append(r.Deleted, deleted)
		record("DeleteRow", d.cond, existed, Order{Shop: d.shop, ID: d.id}, err)
	}
	v, err = c.View(ctx)
	if err != nil {
		return r, err
	}
	r.Orders = slices.Collect(v.Order().All())
	return r, nil
}
