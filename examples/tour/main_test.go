package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestTourTwice(t *testing.T) {
	dir := t.TempDir()
	first, err := tour(t.Context(), dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Last{Run: 1, Post: 100, Invoice: 3, Item: 5, Order: 5}
	want.Spin = first.Spin
	if first != want {
		t.Fatalf("first run = %+v, want %+v", first, want)
	}
	second, err := tour(t.Context(), dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Replayed from disk, the ids continue: the gapless invoice and item
	// numbers by one; the sequences at their persisted boundaries, past
	// every value of the first run's batches.
	if second.Run != 2 || second.Invoice != 4 || second.Item != 6 {
		t.Errorf("second run = %+v; want run 2, invoice 4, item 6", second)
	}
	if second.Post <= 5 || second.Post == 100 || second.Order <= first.Order {
		t.Errorf("second run = %+v; want a new post id above 5 and not 100, an order id above %d", second, first.Order)
	}
	if second.Spin.ID <= first.Spin.ID {
		t.Errorf("spin %+v after %+v", second.Spin, first.Spin)
	}
	third, err := tour(t.Context(), dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if third.Invoice != 5 || third.Item != 7 || third.Spin.ID <= second.Spin.ID || third.Post <= second.Post {
		t.Errorf("third run = %+v after %+v", third, second)
	}
}

// TestTourReplayLine checks that the second run's replay line counts row
// changes as such: invoices' three log entries each write the invoice and
// the counter row, six changes to four stored rows.
func TestTourReplayLine(t *testing.T) {
	dir := t.TempDir()
	if _, err := tour(t.Context(), dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if _, err := tour(t.Context(), dir, &out); err != nil {
		t.Fatal(err)
	}
	want := "== invoices (" + filepath.Join(dir, "invoices") + ")\nreplayed from disk: 3 log entries, 6 row changes\n3 invoices on disk"
	if !strings.Contains(out.String(), want) {
		t.Errorf("second run printed\n%s\nwant it to hold\n%s", out.String(), want)
	}
}
