// Package shop is Table Store's auto-increment primary-key column as a
// Keel module: a composite primary key of a partition key (the shop) and
// an autoinc key column (the order id) whose values are unique and
// strictly increasing within each partition; writes pass 0 as the
// placeholder and get the full key back (RT_PK); and the row-existence
// conditions IGNORE, EXPECT_EXIST and EXPECT_NOT_EXIST map to Keel's
// conditional writes.
package shop

import (
	"errors"
	"fmt"
)

//go:generate go tool keelgen

// Order is keyed by (shop, id). ID is a 64-bit signed autoinc column, as
// in Table Store; the partition key, first, is never autoinc.
//
//keel:table name=order
type Order struct {
	Shop string `db:"pk"`
	ID   int64  `db:"pk,autoinc"`
	Item string
	Qty  int64
}

// Condition is a Table Store row-existence condition.
type Condition string

// The row-existence conditions.
const (
	Ignore         Condition = "IGNORE"
	ExpectExist    Condition = "EXPECT_EXIST"
	ExpectNotExist Condition = "EXPECT_NOT_EXIST"
)

// ErrCondition is returned for a condition a call does not take.
var ErrCondition = errors.New("shop: invalid row-existence condition")

// PlaceOrder inserts an order with the placeholder id 0 and returns the
// stored row: its full primary key (Table Store's RT_PK) included.
//
//keel:reducer
func PlaceOrder(ctx *Ctx, shop, item string, qty int64) (Order, error) {
	return ctx.DB.Order().Insert(Order{Shop: shop, Item: item, Qty: qty})
}

// PutRow writes row under a row-existence condition and returns the row as
// stored, with its full key:
//
//	IGNORE            write either way (Upsert; id 0 inserts a new row)
//	EXPECT_NOT_EXIST  insert only if absent (Insert: a *table.UniqueError otherwise)
//	EXPECT_EXIST      replace only if present (Update: a *table.NotFoundError otherwise)
//
//keel:reducer
func PutRow(ctx *Ctx, row Order, cond Condition) (Order, error) {
	t := ctx.DB.Order()
	switch cond {
	case Ignore:
		stored, _, err := t.Upsert(row)
		return stored, err
	case ExpectNotExist:
		return t.Insert(row)
	case ExpectExist:
		return t.Update(row)
	}
	return Order{}, fmt.Errorf("%w: %q", ErrCondition, cond)
}

// DeleteRow deletes the order (shop, id) under a row-existence condition
// and reports whether a row was deleted:
//
//	IGNORE            delete if present
//	EXPECT_EXIST      delete, or a *table.NotFoundError
//	EXPECT_NOT_EXIST  always fails: deleting a row that must not exist means nothing
//
//keel:reducer
func DeleteRow(ctx *Ctx, shop string, id int64, cond Condition) (bool, error) {
	t := ctx.DB.Order()
	switch cond {
	case Ignore:
		if _, ok := t.Find(shop, id); !ok {
			return false, nil
		}
		fallthrough
	case ExpectExist:
		if _, err := t.Delete(shop, id); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, fmt.Errorf("%w: DeleteRow takes IGNORE or EXPECT_EXIST, not %q", ErrCondition, cond)
}
