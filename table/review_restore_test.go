package table

import (
	"errors"
	"strings"
	"testing"
)

// TestReviewRestoreErrorValue checks that a persisted boundary outside an
// unsigned sequence's range is named by its value as the column's type
// reads it, not as a negative number.
func TestReviewRestoreErrorValue(t *testing.T) {
	s, err := NewSequence("t", "s", SeqParams[uint32]{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Restore(1<<63+5, false)
	if !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), "boundary 9223372036854775813 ") {
		t.Fatalf("restore of 2^63+5: %v", err)
	}
	si, err := NewSequence("t", "s", SeqParams[int8]{Max: -1, HasMax: true})
	if err != nil {
		t.Fatal(err)
	}
	err = si.Restore(^uint64(199), false) // -200 as int64 bits: below -128
	if !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), "boundary -200 ") {
		t.Fatalf("restore of -200: %v", err)
	}
}
