package codec

import (
	"fmt"
	"testing"
)

// TestPrintReader: printing a Reader (a log line, a test failure) reads
// nothing from it. Its string reader is Text, not String, so fmt does not
// call it.
func TestPrintReader(t *testing.T) {
	r := NewReader(AppendString(AppendString(nil, "first"), "second"))
	if _, ok := any(r).(fmt.Stringer); ok {
		t.Fatal("*Reader is a fmt.Stringer: printing it would read from it")
	}
	_ = fmt.Sprint(r)
	_ = fmt.Sprintf("%v %+v", r, r)
	if a, b := r.Text(), r.Text(); a != "first" || b != "second" || r.Err() != nil {
		t.Fatalf("after printing the reader: %q, %q, %v", a, b, r.Err())
	}
}
