package keel_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// TestSnapshotReadOnly: a snapshot writes to the data directory, so on a
// database opened read-only it fails with ErrReadOnly, as every other
// write does, with the prefix once.
func TestSnapshotReadOnly(t *testing.T) {
	dir := t.TempDir()
	db, m := open(t, dir, keel.Options{})
	add(t, db, m, "a")
	keeltest.Close(t, db)
	ro := keeltest.Open(t, dir, keeltest.Module(m), keel.Options{ReadOnly: true})
	err := ro.Snapshot()
	if !errors.Is(err, keel.ErrReadOnly) || !errors.Is(err, wal.ErrReadOnly) {
		t.Fatalf("snapshot of a read-only database: %v, want ErrReadOnly", err)
	}
	onePrefix(t, "snapshot of a read-only database", err)
}

// TestWriteSchemaRefusesNoModule: WriteSchema refuses a nil module and
// one without a name as Open does (table.ErrSchema), instead of
// panicking or describing a module no Open would take.
func TestWriteSchemaRefusesNoModule(t *testing.T) {
	for what, m := range map[string]*keel.Module{"nil": nil, "nameless": {Tables: keeltest.Module(testmod.New(table.SeqParams[uint64]{})).Tables}} {
		var buf bytes.Buffer
		var err error
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Errorf("WriteSchema of a %s module panicked: %v", what, v)
				}
			}()
			err = keel.WriteSchema(&buf, m, keel.Options{})
		}()
		if !errors.Is(err, table.ErrSchema) {
			t.Errorf("WriteSchema of a %s module: %v, want table.ErrSchema", what, err)
			continue
		}
		onePrefix(t, "WriteSchema of a "+what+" module", err)
		if buf.Len() != 0 {
			t.Errorf("WriteSchema of a %s module wrote %q", what, buf.String())
		}
	}
	// A real module's schema is still written.
	var buf bytes.Buffer
	if err := keel.WriteSchema(&buf, keeltest.Module(testmod.New(table.SeqParams[uint64]{})), keel.Options{}); err != nil || !strings.Contains(buf.String(), "testmod") {
		t.Fatalf("WriteSchema of the test module: %v, %q", err, buf.String())
	}
}
