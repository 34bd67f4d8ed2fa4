package billing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Demo creates four invoices against a new database, the third of which
// fails, and returns the stored invoices and the counter's final value:
// numbers 1, 2, 3 with no gap, and a counter of 3.
func Demo(ctx context.Context, c Client, w io.Writer) ([]Invoice, uint64, error) {
	for _, in := range []struct {
		customer string
		cents    int64
	}{{"acme", 12_000}, {"globex", 4_550}, {"initech", -100}, {"acme", 990}} {
		inv, err := c.CreateInvoice(ctx, in.customer, in.cents)
		switch {
		case errors.Is(err, ErrAmount):
			fmt.Fprintf(w, "invoice for %-8s failed and rolled back: %v\n", in.customer, err)
		case err != nil:
			return nil, 0, err
		default:
			fmt.Fprintf(w, "invoice %d  %-8s %8.2f\n", inv.Number, inv.Customer, float64(inv.Cents)/100)
		}
	}
	v, err := c.View(ctx)
	if err != nil {
		return nil, 0, err
	}
	ctr, _ := v.Counter().Find("invoice")
	invoices := slices.Collect(v.Invoice().All())
	fmt.Fprintf(w, "%d invoices, counter at %d: no gaps\n", len(invoices), ctr.Value)
	return invoices, ctr.Value, nil
}
