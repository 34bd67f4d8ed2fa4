package keel_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

// TestMemoryReadOnlyRefused: ReadOnly promises that calls fail with
// ErrReadOnly; in memory there is no directory to read, and OpenMemory
// refuses the option, naming it, rather than take writes.
func TestMemoryReadOnlyRefused(t *testing.T) {
	m := keeltest.Module(testmod.New(table.SeqParams[uint64]{}))
	db, err := keel.OpenMemory(m, keel.Options{ReadOnly: true})
	if err == nil {
		db.Close()
	}
	if !errors.Is(err, keel.ErrOptions) || !strings.Contains(err.Error(), "Options.ReadOnly is true") {
		t.Fatalf("OpenMemory with ReadOnly: %v, want ErrOptions naming the option", err)
	}
}
