package codegen

import (
	"bytes"
	"errors"
	"testing"
)

// TestRenderFormatError checks that output that does not format comes back
// raw, for inspection, with ErrFormat.
func TestRenderFormatError(t *testing.T) {
	m := &module{Pkg: "bad package"}
	out, err := render(m, fixedImports, "x/keel_gen.go")
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("render = %v; want ErrFormat", err)
	}
	if out == nil || !bytes.HasPrefix(out.Src, []byte(Header+"\n")) || !bytes.Contains(out.Src, []byte("package bad package")) {
		t.Fatalf("raw output missing or not raw: %+v", out)
	}
	if out.Path != "x/keel_gen.go" {
		t.Fatalf("path %s", out.Path)
	}
}
