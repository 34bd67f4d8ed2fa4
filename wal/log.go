package wal

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keeldb/keel/table"
	tw "github.com/tidwall/wal"
)

// SyncPolicy says when the log calls fsync, and so what a crash can lose.
type SyncPolicy int

const (
	// SyncAlways (the default) acknowledges a transaction only once it is
	// fsynced. Transactions that commit while an fsync runs share the next
	// one (group commit). A crash of the process, the OS or the machine
	// loses no acknowledged transaction.
	SyncAlways SyncPolicy = iota
	// SyncInterval acknowledges a transaction once it is written to the
	// OS, and fsyncs every Options.SyncInterval. A crash of the process
	// loses no acknowledged transaction; a crash of the OS or a power loss
	// loses the transactions acknowledged since the last fsync, at most
	// about one interval's worth.
	SyncInterval
	// SyncNever acknowledges a transaction once it is written to the OS
	// and leaves fsync to the OS, except when a segment fills, a snapshot
	// is taken and the log is closed. A crash of the process loses no
	// acknowledged transaction; a crash of the OS or a power loss loses
	// whatever the OS had not yet written back (on Linux usually up to
	// 30 seconds, without bound in theory).
	SyncNever
)

func (p SyncPolicy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncInterval:
		return "interval"
	case SyncNever:
		return "never"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// commitLog is the runtime's CommitLog: Append encodes and queues under
// the runtime's writer lock; one flusher goroutine writes queued entries
// and fsyncs them in groups; Wait blocks until the flusher has gone past
// the ticket.
type commitLog struct {
	w        *tw.Log
	dir      string // the log directory, fsynced when a segment is created
	policy   SyncPolicy
	segSize  int
	segBytes int // bytes in tidwall/wal's tail segment, to see it rotate

	mu       sync.Mutex
	work     *sync.Cond // the flusher waits for entries or a sync request
	progress *sync.Cond // syncTo waits for synced to move
	// Wait callers block on a channel: inflight closes when the batch the
	// flusher is writing (entries up to inflightLast) is done; queued
	// becomes the next batch's inflight when the flusher takes it.
	inflight, queued chan struct{}
	inflightLast     uint64
	inflightOpen     bool
	released         int         // entries the last fsync released
	arrived          int         // entries appended since
	gatherUntil      time.Time   // see gather
	timer            *time.Timer // wakes gather
	buf              []byte
	pending          tw.Batch
	sizes            []int // data sizes of the pending entries
	spare            tw.Batch
	appended         uint64 // index of the last appended entry
	written          uint64 // ... written to the OS
	synced           uint64 // ... fsynced
	want             uint64 // fsync at least this far, whatever the policy
	err              error  // sticky: the first write or fsync error
	closing          bool
	done             chan struct{}

	syncs   atomic.Uint64
	syncNs  atomic.Int64 // time spent in fsync
	entries atomic.Uint64
	bytes   atomic.Uint64 // appended record bytes

	notify func(entries, bytes uint64) // after each append, under the runtime's lock
	sync   func() error                // fsyncs the tail segment; tests replace it
}

func newCommitLog(w *tw.Log, dir string, last uint64, tail int, o *Options) *commitLog {
	l := &commitLog{w: w, dir: dir, policy: o.Sync, segSize: o.SegmentSize, segBytes: tail,
		appended: last, written: last, synced: last, want: last, done: make(chan struct{})}
	l.sync = w.Sync
	l.work = sync.NewCond(&l.mu)
	l.progress = sync.NewCond(&l.mu)
	l.inflight, l.queued = make(chan struct{}), make(chan struct{})
	close(l.inflight)
	l.inflightLast = last
	go l.flusher()
	if o.Sync == SyncInterval {
		go l.ticker(o.SyncInterval)
	}
	return l
}

// Append implements runtime.CommitLog.
func (l *commitLog) Append(c *table.Commit) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	if l.closing {
		return 0, ErrClosed
	}
	l.buf = appendRecord(l.buf[:0], c)
	l.appended++
	l.pending.Write(l.appended, l.buf)
	l.sizes = append(l.sizes, len(l.buf))
	l.arrived++
	if l.policy == SyncAlways {
		l.want = l.appended
	}
	l.work.Signal()
	n := l.entries.Add(1)
	b := l.bytes.Add(uint64(len(l.buf)))
	if l.notify != nil {
		l.notify(n, b)
	}
	return l.appended, nil
}

// Wait implements runtime.CommitLog.
func (l *commitLog) Wait(ticket uint64) error {
	l.mu.Lock()
	for {
		done := l.written >= ticket
		if l.policy == SyncAlways {
			done = l.synced >= ticket
		}
		if done {
			l.mu.Unlock()
			return nil
		}
		if l.err != nil {
			err := l.err
			l.mu.Unlock()
			return err
		}
		ch := l.queued
		if ticket <= l.inflightLast {
			ch = l.inflight
		}
		l.mu.Unlock()
		<-ch
		l.mu.Lock()
	}
}

// syncTo fsyncs the log through index, whatever the policy.
func (l *commitLog) syncTo(index uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if index > l.want {
		l.want = index
		l.work.Signal()
	}
	for l.synced < index {
		if l.err != nil {
			return l.err
		}
		l.progress.Wait()
	}
	return nil
}

// lastIndex is the index of the last appended entry.
func (l *commitLog) lastIndex() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appended
}

func (l *commitLog) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *commitLog) flusher() {
	defer close(l.done)
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		for len(l.sizes) == 0 && l.want <= l.synced && !l.closing && l.err == nil {
			l.work.Wait()
		}
		l.gather()
		if l.err != nil || (l.closing && len(l.sizes) == 0 && l.want <= l.synced) {
			return
		}
		batch, sizes, last, want := l.pending, l.sizes, l.appended, l.want
		l.pending, l.spare = l.spare, tw.Batch{}
		l.sizes = nil
		l.inflight, l.queued = l.queued, make(chan struct{})
		l.inflightLast, l.inflightOpen = last, true
		l.mu.Unlock()

		var err error
		rotated := false
		if len(sizes) > 0 {
			if err = l.w.WriteBatch(&batch); err != nil {
				err = fmt.Errorf("write: %w", err)
			}
			rotated = l.rotations(sizes)
		}
		synced := false
		var took time.Duration
		if err == nil && (want > l.synced || rotated) {
			t0 := time.Now()
			err = l.sync()
			took = time.Since(t0)
			l.syncNs.Add(int64(took))
			if err != nil {
				err = fmt.Errorf("fsync: %w", err)
			}
			if err == nil && rotated {
				err = syncDir(l.dir)
			}
			l.syncs.Add(1)
			synced = true
		}

		l.mu.Lock()
		batch.Clear()
		l.spare = batch
		if err != nil {
			l.err = fmt.Errorf("%w: %w", ErrFailed, err)
			l.wake(0, 0)
			close(l.queued) // callers of later entries see the error too
			l.queued = make(chan struct{})
			return
		}
		l.written = last
		if synced {
			l.synced = last
		}
		l.wake(len(sizes), took)
	}
}

// wake releases the callers waiting for the batch just done and makes
// the queued batch's channel the next in flight. It is called with mu held.
func (l *commitLog) wake(n int, took time.Duration) {
	l.progress.Broadcast()
	close(l.inflight)
	l.inflightOpen = false
	l.released, l.arrived = n, 0
	l.gatherUntil = time.Now().Add(min(took/2, maxGather))
}

// maxGather bounds how long the flusher waits for released callers.
const maxGather = time.Millisecond

// gather holds the next fsync back, under SyncAlways, until the callers
// released by the last one have queued their next transactions (counted
// as entries appended since), for at most half the last fsync's duration.
// Callers that call in a loop then share one fsync instead of splitting
// into two groups that alternate; a caller that does not come back costs
// the others at most that delay. It is called with mu held.
func (l *commitLog) gather() {
	if l.policy != SyncAlways || l.closing {
		return
	}
	for l.err == nil && !l.closing && l.arrived < l.released && len(l.sizes) > 0 {
		d := time.Until(l.gatherUntil)
		if d <= 0 {
			return
		}
		if l.timer == nil {
			l.timer = time.AfterFunc(d, func() {
				l.mu.Lock()
				l.work.Signal()
				l.mu.Unlock()
			})
		} else {
			l.timer.Reset(d)
		}
		l.work.Wait()
	}
}

// rotations follows tidwall/wal's rule for starting a new segment file
// over the sizes just written and reports whether one was started.
func (l *commitLog) rotations(sizes []int) bool {
	rotated := false
	if l.segBytes > l.segSize {
		l.segBytes, rotated = 0, true
	}
	for _, n := range sizes {
		l.segBytes += uvarintLen(uint64(n)) + n
		if l.segBytes >= l.segSize {
			l.segBytes, rotated = 0, true
		}
	}
	return rotated
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}

func (l *commitLog) ticker(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
			l.mu.Lock()
			if l.appended > l.want {
				l.want = l.appended
				l.work.Signal()
			}
			l.mu.Unlock()
		}
	}
}

// close writes and fsyncs every appended entry, stops the flusher and
// closes the segment file. Calls waiting on entries get their result.
func (l *commitLog) close() error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		<-l.done
		return ErrClosed
	}
	l.closing = true
	l.want = l.appended
	l.work.Signal()
	l.mu.Unlock()
	<-l.done
	l.mu.Lock()
	err := l.err
	if err == nil {
		l.err = ErrClosed
	}
	l.progress.Broadcast()
	if l.inflightOpen {
		close(l.inflight)
		l.inflightOpen = false
	}
	close(l.queued)
	l.queued = make(chan struct{})
	l.mu.Unlock()
	if cerr := l.w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("keel: wal: close: %w", cerr)
	}
	return err
}

// syncDir fsyncs a directory, so that files created or renamed in it
// survive a crash.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
