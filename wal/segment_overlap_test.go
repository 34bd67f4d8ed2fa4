package wal_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/wal"
)

// TestOverlappingSegmentsRefused: a segment whose name says it starts at
// or before the last entry of the segment before it (a file renamed or
// copied by hand) would replay that entry twice and number every later
// entry one short. Open, with Repair or not, and Check refuse it, naming
// the segment, and the refused open changes nothing.
func TestOverlappingSegmentsRefused(t *testing.T) {
	o := keel.Options{SegmentSize: 300, SnapshotEvery: -1, SnapshotBytes: -1}
	for _, back := range []uint64{1, 2} {
		t.Run(fmt.Sprint("back ", back), func(t *testing.T) {
			dir, _ := buildLog(t, 30, o)
			segs := segmentFiles(t, dir)
			if len(segs) < 4 {
				t.Fatalf("segments %v", segs)
			}
			var first uint64
			fmt.Sscanf(filepath.Base(segs[2]), "%d", &first)
			moved := filepath.Join(filepath.Dir(segs[2]), fmt.Sprintf("%020d", first-back))
			if err := os.Rename(segs[2], moved); err != nil {
				t.Fatal(err)
			}
			before := dirSum(t, dir)
			for _, repair := range []bool{false, true} {
				o := o
				o.Repair = repair
				err := openErr(dir, newMod(), o)
				var ce *wal.CorruptError
				if !errors.As(err, &ce) || ce.File != moved || !strings.Contains(err.Error(), "the segment before it holds entries up to") {
					t.Fatalf("open (repair %v) with %s renamed to start at %d: %v, want it refused", repair, segs[2], first-back, err)
				}
			}
			if dirSum(t, dir) != before {
				t.Fatal("the refused open changed the data directory")
			}
			var ce *wal.CorruptError
			if _, err := wal.Check(dir); !errors.As(err, &ce) || ce.File != moved {
				t.Fatalf("Check: %v, want the renamed segment refused", err)
			}
		})
	}
}
