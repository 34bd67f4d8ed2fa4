package logs

import (
	"bytes"
	"log/slog"
	"testing"
)

// TestAdaptWritesSlogLines checks that a line logged through Adapt is the
// line slog itself writes for the same call: level, message, fields,
// With's fields and the caller's source position.
func TestAdaptWritesSlogLines(t *testing.T) {
	opts := &slog.HandlerOptions{AddSource: true, Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			if a.Key == slog.SourceKey {
				s := a.Value.Any().(*slog.Source)
				s.Line = 0 // the two calls below are on different lines
			}
			return a
		}}
	var want, got bytes.Buffer
	sl := slog.New(slog.NewTextHandler(&want, opts)).With("reducer", "add", "tx", 7)
	al := Adapt(slog.New(slog.NewTextHandler(&got, opts))).With("reducer", "add", "tx", 7)
	for _, f := range []struct {
		s func(string, ...any)
		a func(string, ...any)
	}{{sl.Debug, al.Debug}, {sl.Info, al.Info}, {sl.Warn, al.Warn}, {sl.Error, al.Error}} {
		f.s("created", "id", 1, slog.String("slug", "hello"))
		f.a("created", "id", 1, slog.String("slug", "hello"))
	}
	if got.String() != want.String() {
		t.Errorf("through Adapt:\n%s\nslog:\n%s", got.String(), want.String())
	}
	if !bytes.Contains(got.Bytes(), []byte("logs_test.go")) {
		t.Errorf("the source is not the caller's:\n%s", got.String())
	}
}

// TestAdaptDiscard checks that a logger that writes nothing adapts to nil,
// so that the runtime does not build a logger per call.
func TestAdaptDiscard(t *testing.T) {
	if Adapt(nil) != nil || Adapt(slog.New(slog.DiscardHandler)) != nil {
		t.Error("a discarding logger adapts to a logger")
	}
}
