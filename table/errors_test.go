package table

import (
	"errors"
	"strings"
	"testing"
)

// TestOnePrefix: an error that wraps one of the package's sentinels says
// "keel: " once, at the front, and still matches the sentinel.
func TestOnePrefix(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	tx, err := f.db.begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.rollback()
	_, errBegin := f.db.begin()
	_, errView := f.db.view()
	for name, err := range map[string]error{"begin": errBegin, "view": errView} {
		if !errors.Is(err, ErrTxOpen) {
			t.Errorf("%s: %v does not match ErrTxOpen", name, err)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "keel: ") || strings.Count(msg, "keel:") != 1 {
			t.Errorf("%s: %q: want one keel: prefix, at the front", name, msg)
		}
	}
}
