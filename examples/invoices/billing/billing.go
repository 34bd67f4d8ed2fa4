// Package billing numbers invoices without gaps: the number comes from a
// counter row updated in the same transaction as the invoice, so an
// invoice that fails rolls its number back with it. (A sequence would
// leave a gap: values handed out are never given back.)
package billing

import (
	"errors"
	"fmt"
)

//go:generate go tool keelgen

// Counter is a named counter; the invoice counter holds the last invoice
// number handed out.
//
//keel:table
type Counter struct {
	Name  string `db:"pk"`
	Value uint64
}

// Invoice is numbered 1, 2, 3... with no gaps.
//
//keel:table
type Invoice struct {
	Number   uint64 `db:"pk"`
	Customer string `db:"index"`
	Cents    int64
}

// ErrAmount is returned for an invoice whose amount is not positive.
var ErrAmount = errors.New("billing: the amount must be positive")

// CreateInvoice takes the next number from the invoice counter and stores
// the invoice under it. Checks that fail after the counter moved roll the
// counter back with the rest of the transaction.
//
//keel:reducer
func CreateInvoice(ctx *Ctx, customer string, cents int64) (Invoice, error) {
	c, ok := ctx.DB.Counter().Find("invoice")
	if !ok {
		c = Counter{Name: "invoice"}
	}
	c.Value++
	if _, _, err := ctx.DB.Counter().Upsert(c); err != nil {
		return Invoice{}, err
	}
	if cents <= 0 {
		return Invoice{}, fmt.Errorf("invoice %d for %s: %d cents: %w", c.Value, customer, cents, ErrAmount)
	}
	return ctx.DB.Invoice().Insert(Invoice{Number: c.Value, Customer: customer, Cents: cents})
}
