package keel_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/examples/posts/blog"
)

// lockedBuffer is a bytes.Buffer that the executor and the test may use
// at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestReducerLogCarriesFields checks that a reducer's line reaches
// Options.Logger as slog would write it: its own fields, the reducer's
// name and transaction id, and the reducer's source position.
func TestReducerLogCarriesFields(t *testing.T) {
	var out lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{AddSource: true}))
	db, err := keel.OpenMemory(blog.Module, keel.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := blog.NewClient(db, "t").AddPost(t.Context(), "hello", "ann", "Hello"); err != nil {
		t.Fatal(err)
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	var line struct {
		Level, Msg, Reducer, Slug string
		Tx, ID                    uint64
		Source                    struct{ File, Function string }
	}
	for _, l := range bytes.Split(out.b.Bytes(), []byte("\n")) {
		if bytes.Contains(l, []byte(`"msg":"created"`)) {
			if err := json.Unmarshal(l, &line); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
		}
	}
	if line.Msg != "created" || line.Level != "INFO" || line.Reducer != "AddPost" || line.Tx == 0 ||
		line.ID != 1 || line.Slug != "hello" {
		t.Errorf("the reducer's line is %+v; all lines:\n%s", line, out.b.Bytes())
	}
	if filepath.Base(line.Source.File) != "blog.go" || line.Source.Function != "github.com/keeldb/keel/examples/posts/blog.AddPost" {
		t.Errorf("the reducer's line comes from %+v, not from blog.AddPost", line.Source)
	}
}
