package billing

import (
	"errors"
	"io"
	"testing"

	"github.com/keeldb/keel/internal/keeltest"
)

func open(t *testing.T) Client {
	t.Helper()
	return NewClient(keeltest.Memory(t, Module), "test")
}

func TestDemo(t *testing.T) {
	invoices, counter, err := Demo(t.Context(), open(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if counter != 3 {
		t.Errorf("counter = %d, want 3", counter)
	}
	want := []Invoice{{1, "acme", 12_000}, {2, "globex", 4_550}, {3, "acme", 990}}
	if len(invoices) != len(want) {
		t.Fatalf("invoices = %+v, want %+v", invoices, want)
	}
	for i := range want {
		if invoices[i] != want[i] {
			t.Errorf("invoice %d = %+v, want %+v", i, invoices[i], want[i])
		}
	}
}

func TestFailureRollsCounterBack(t *testing.T) {
	c := open(t)
	for i := 0; i < 3; i++ {
		if _, err := c.CreateInvoice(t.Context(), "x", 0); !errors.Is(err, ErrAmount) {
			t.Fatalf("CreateInvoice(0) = %v, want ErrAmount", err)
		}
	}
	inv, err := c.CreateInvoice(t.Context(), "x", 1)
	if err != nil || inv.Number != 1 {
		t.Fatalf("first good invoice = %+v, %v; want number 1 after three failures", inv, err)
	}
	v, _ := c.View(t.Context())
	if ctr, _ := v.Counter().Find("invoice"); ctr.Value != 1 {
		t.Fatalf("counter = %d, want 1", ctr.Value)
	}
	n := 0
	for range v.Invoice().ByCustomer().Filter("x") {
		n++
	}
	if n != 1 {
		t.Fatalf("invoices of x = %d, want 1", n)
	}
}
