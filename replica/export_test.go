package replica

import (
	"context"
	"log/slog"
	"sync"

	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// SetSnapshotWriter replaces what writes the node's snapshots for the
// test's life; restore puts the log's own back.
func SetSnapshotWriter(fn func(l *wal.RaftLog, v *table.View, seqs []table.SeqMove, index, term uint64, meta []byte, retain uint64) error) (restore func()) {
	old := writeSnapshot
	writeSnapshot = fn
	return func() { writeSnapshot = old }
}

// Stopping returns a channel closed once Close was called.
func Stopping(n *Node) <-chan struct{} { return n.stopc }

// ReadsAsked returns how many ReadIndex requests the node handed raft.
func ReadsAsked(n *Node) uint64 { return n.readSeq.Load() }

// ReadKey returns the request context of the node's ReadIndex request
// seq (counted from 1 since it opened).
func ReadKey(n *Node, seq uint64) []byte { return []byte(n.readKey(seq)) }

// RecordLog is a slog.Handler for the tests of both packages: it records
// the messages logged at Info and above, with their attributes.
type RecordLog struct {
	mu   sync.Mutex
	msgs []logged
}

type logged struct {
	level slog.Level
	msg   string
}

func (h *RecordLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *RecordLog) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + a.String()
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, logged{r.Level, msg})
	return nil
}

func (h *RecordLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *RecordLog) WithGroup(string) slog.Handler      { return h }

// Logged returns the messages logged at level and above.
func (h *RecordLog) Logged(level slog.Level) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.msgs {
		if m.level >= level {
			out = append(out, m.msg)
		}
	}
	return out
}

// Infos returns the messages logged at Info and above from the n-th on.
func (h *RecordLog) Infos(n int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.msgs[min(n, len(h.msgs)):] {
		out = append(out, m.msg)
	}
	return out
}
