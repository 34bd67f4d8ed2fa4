package seqs

import (
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/table"
)

func TestDemo(t *testing.T) {
	r, err := Demo(t.Context(), t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]Spin{{1, 3, 254}, {2, 2, 255}, {3, 1, 1}}, r.Before); d != "" {
		t.Errorf("spins before the reopen (-want +got):\n%s", d)
	}
	// Each sequence resumes at its persisted boundary: ID skips 4 (batch
	// 1..4), Dial skips 5 (batch 1, 5), Lap skips 2 (batch 1, 2).
	if d := cmp.Diff([]Spin{{5, 4, 3}, {6, 3, 4}}, r.After); d != "" {
		t.Errorf("spins after the reopen (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Floor{{-1, "lobby"}, {-101, "garage"}, {-201, "vault"}}, r.Floors); d != "" {
		t.Errorf("floors (-want +got):\n%s", d)
	}
	for _, err := range []error{r.Exhausted, r.ExhaustedReopen} {
		var ee *table.ExhaustedError
		if !errors.As(err, &ee) || ee.Sequence != "floor_level_seq" {
			t.Errorf("floor after the last level: %v; want floor_level_seq exhausted", err)
		}
	}
}

// TestWrapInMemory follows the u8 sequences through two full turns.
func TestWrapInMemory(t *testing.T) {
	c := NewClient(keeltest.Memory(t, Module), "test")
	var dials, laps []uint8
	for i := 0; i < 10; i++ {
		s, err := c.AddSpin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		dials, laps = append(dials, s.Dial), append(laps, s.Lap)
	}
	if d := cmp.Diff([]uint8{3, 2, 1, 5, 4, 3, 2, 1, 5, 4}, dials); d != "" {
		t.Errorf("dial (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]uint8{254, 255, 1, 2, 3, 4, 5, 6, 7, 8}, laps); d != "" {
		t.Errorf("lap (-want +got):\n%s", d)
	}
}
