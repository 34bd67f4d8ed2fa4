package wal

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
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
	// loses the transactions acknowledged after the start of the last
	// fsync that completed: about one interval's worth plus the time an
	// fsync takes, and more on a busy machine, where the fsync can start
	// late. What it loses is a suffix of the commit order.
	SyncInterval
	// SyncNever acknowledges a transaction once it is written to the OS
	// and calls fsync only when a segment fills, a snapshot is taken, the
	// log is closed, and for the zeros it preallocates in the tail
	// segment (once per chunk, see doc.go). A crash of the process loses
	// no acknowledged transaction; a crash of the OS or a power loss
	// loses whatever the OS had not yet written back (on Linux usually up
	// to 30 seconds, without bound in theory), a suffix of the commit
	// order.
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

// PreallocError is the failure of the commit log's preallocator, which
// writes and fsyncs zeros into the tail segment ahead of the entries, in
// the background: the group after it fails with it (wrapped in
// ErrFailed), and so does every later call, as after a failed write or
// fsync of a group. Err is the write's or the fsync's error; entries
// acknowledged before are durable.
type PreallocError struct {
	Path string // the tail segment
	Err  error
}

func (e *PreallocError) Error() string {
	return fmt.Sprintf("keel: wal: the preallocator, in the background: %v", e.Err)
}

func (e *PreallocError) Unwrap() error { return e.Err }

// commitLog is the runtime's commit log: Append encodes and queues, called
// by the runtime's executor; Wait blocks until the entry is as durable as
// the policy promises. A waiting caller whose entry is not yet written,
// when no flush runs, becomes the leader and writes (and fsyncs) every
// queued entry itself; callers arriving while a flush runs wait, and one
// of them leads the next flush, which takes all of them at once
// (leader/follower group commit). When nobody waits, Kick wakes the
// flusher goroutine, which waits (and so leads) on the runtime's behalf.
// After each flush its leader reports the durable entries to the
// runtime (release); the flusher leaves that to the releaser goroutine,
// so that it can lead the next flush meanwhile. The log writes its
// segment files itself, in tidwall/wal's format (writeGroup): Append
// frames each entry into the pending buffer, and a group is one write of
// that buffer, with no copy of the segment kept in memory (tidwall/wal's
// WriteBatch appended every group to a copy of the tail segment, regrown
// up to the segment size: 5 – 6% of the CPU of the keynote workload).
type commitLog struct {
	fp       Fingerprint // of the schema, in every record
	dir      string      // the log directory, fsynced when a segment is created
	policy   SyncPolicy
	segSize  int
	segBytes int // bytes of entries in the tail segment, where the next goes; the leader's
	perm     os.FileMode

	// The tail segment is preallocated: the leader fills the file with
	// zeros ahead of the entries' writes, in chunks, and fsyncs each
	// chunk once. A write that lands in the zeros leaves the file's size
	// alone, so its fsync has only data to flush, not the size change
	// of an append (measured on ext4: an fsync after such a write took
	// 0.6x the time of one after an append). The zeros are trimmed off
	// before the next segment starts and at close; after a
	// crash, Open drops them as a zero-filled tail.
	tailPath string   // the leader's, as the fields below
	tail     *os.File // the tail segment, written by writeGroup, preallocated and trimmed
	// zeroTail is a second descriptor of the tail segment, for the zeros
	// (the preallocator's and extend's writes, write-backs and fsyncs).
	// Linux reports a failed write-back of a file's pages once to each
	// open file, to the first fsync or waiting sync_file_range on it: on
	// one descriptor, the zeros' calls, which run beside a group's fsync,
	// could take the error of the group's own pages, and the group's fsync
	// then succeed. With its own descriptor each side sees the error.
	zeroTail *os.File
	tailSize int64 // its size, zeros included; under pmu
	chunk    int64 // bytes preallocated at a time

	// The preallocator goroutine (of the commit log, and of a RaftLog's
	// pre) writes the next chunk of zeros while
	// the flushes go on: the leader kicks it once fewer than half a chunk
	// of zeros is left after its group, and waits for it only when a
	// group would run past the zeros it is writing (or before a new
	// segment, whose zeros are cut off first). Entries land below
	// tailSize and the preallocator writes from tailSize up, so the two
	// never write the same bytes. pmu guards tailSize, tail, extending
	// and preErr once the log is open.
	pmu       sync.Mutex
	pdone     *sync.Cond // broadcast when an extension ends
	extending bool       // the preallocator is writing zeros past tailSize
	preTo     int64      // ... up to here
	preErr    error      // its failure, the next group's
	preKick   chan struct{}
	preRuns   atomic.Uint64 // extensions the preallocator made
	// The preallocator's I/O, which tests replace to make it fail alone:
	// writing a piece of zeros, writing it back, and fsyncing them. nil
	// is the file's own WriteAt, writeBack, and syncFile.
	preWrite     func(f *os.File, b []byte, off int64) (int, error)
	preWriteBack func(f *os.File, off, n int64) error
	preSync      func(f *os.File) error

	mu sync.Mutex
	// flushing is set while a leader gathers, writes or fsyncs. cur is
	// closed when that flush is done; it covers the entries up to curLast
	// (everything appended, while the leader still gathers). next is
	// closed when the flush after it is done: callers of later entries
	// wait on it, and a token on lead, offered when a flush ends, elects
	// one of them to run that flush. cur and next are made when a caller
	// first waits on them.
	flushing    bool
	cur, next   chan struct{}
	curLast     uint64
	waiting     int           // callers waiting on next
	lead        chan struct{} // buffered 1: the next leader's token
	gathering   bool          // the leader waits in gather
	gathered    *sync.Cond    // wakes the leader in gather
	released    int           // entries the last fsync released
	arrived     int           // entries appended since
	gatherUntil time.Time     // see gather
	timer       *time.Timer   // wakes gather
	buf         []byte
	pending     []byte // the pending entries, framed as in a segment file
	sizes       []int  // data sizes of the pending entries
	spare       []byte
	spareSizes  []int
	appended    uint64        // index of the last appended entry
	written     atomic.Uint64 // ... written to the OS; changed under mu
	synced      atomic.Uint64 // ... fsynced; changed under mu
	want        uint64        // fsync at least this far, whatever the policy
	err         error         // sticky: the first write or fsync error
	closing     bool
	done        chan struct{} // closed once close is done

	syncs     atomic.Uint64
	syncNs    atomic.Int64 // time spent in fsync
	maxSyncNs atomic.Int64
	entries   atomic.Uint64
	bytes     atomic.Uint64 // appended record bytes
	groups    atomic.Uint64 // writes
	maxGroup  atomic.Uint64

	// release reports durable entries to the runtime; it is called
	// without mu. relThrough and relErr are what the flusher left for the
	// releaser goroutine to report (under mu), relKick wakes it.
	release    func(through uint64, err error)
	kick       chan struct{} // wakes the flusher
	relThrough uint64
	relErr     error
	relKick    chan struct{}
	relDone    chan struct{} // closed when the releaser has stopped

	notify func(entries, bytes uint64) // after each append, from the executor
	// The I/O, which tests replace to inject failures: syncing the tail
	// segment after a group (and before a new one starts), writing a
	// group's entries into a segment file, syncing a file (the
	// preallocated zeros) and a directory (a new segment).
	sync      func() error
	writeAt   func(f *os.File, b []byte, off int64) (int, error)
	syncFile  func(f *os.File) error
	syncDirFn func(dir string) error
}

func newCommitLog(dir, tailPath string, last uint64, tail int, fp Fingerprint, o *Options) (*commitLog, error) {
	l := &commitLog{fp: fp, dir: dir, policy: o.Sync, segSize: o.SegmentSize, segBytes: tail, perm: segmentPerm,
		appended: last, want: last, curLast: last, lead: make(chan struct{}, 1), done: make(chan struct{}),
		kick: make(chan struct{}, 1), relKick: make(chan struct{}, 1), relDone: make(chan struct{}), release: func(uint64, error) {}}
	l.writeAt = (*os.File).WriteAt
	l.syncFile = (*os.File).Sync
	l.syncDirFn = syncDir
	l.chunk = min(maxChunk, (int64(o.SegmentSize)+4095)&^4095)
	if err := l.openTail(tailPath); err != nil {
		return nil, err
	}
	l.written.Store(last)
	l.synced.Store(last)
	l.sync = func() error { return l.tail.Sync() }
	l.gathered = sync.NewCond(&l.mu)
	l.pdone, l.preKick = sync.NewCond(&l.pmu), make(chan struct{}, 1)
	if o.Sync == SyncInterval {
		go l.ticker(o.SyncInterval)
	}
	go l.flusher()
	go l.preallocator()
	go l.releaser()
	return l, nil
}

// Kick wakes the flusher: it makes every appended entry durable and
// reports to the runtime, also when nothing new was appended.
func (l *commitLog) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// flusher makes appended entries durable when nobody waits for them,
// leading flushes as a waiting caller would.
func (l *commitLog) flusher() {
	for {
		select {
		case <-l.done:
			return
		case <-l.kick:
		}
		// Lead flushes back to back while entries keep coming, leaving
		// their release to the releaser goroutine.
		var err error
		for {
			l.mu.Lock()
			last := l.appended
			err = l.err
			if err != nil || l.closing || l.reached(last, l.policy == SyncAlways) {
				l.mu.Unlock()
				break
			}
			if err = l.awaitAs(last, l.policy == SyncAlways, true); err != nil {
				break
			}
		}
		// Report even when nothing was new: the runtime may have calls
		// that wait for entries already durable.
		l.mu.Lock()
		l.report(l.durable(), err, true)
		l.mu.Unlock()
	}
}

// durable is the last entry as durable as the policy promises.
func (l *commitLog) durable() uint64 {
	if l.policy == SyncAlways {
		return l.synced.Load()
	}
	return l.written.Load()
}

// maxChunk is the most the log preallocates at a time.
const maxChunk = 1 << 20

// openTail opens the tail segment file at path to preallocate it.
func (l *commitLog) openTail(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open the tail segment: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open the tail segment: %w", err)
	}
	z, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		f.Close()
		return fmt.Errorf("open the tail segment for its zeros: %w", err)
	}
	l.closeFiles()
	l.tail, l.zeroTail, l.tailPath, l.tailSize = f, z, path, fi.Size()
	return nil
}

// closeFiles closes the tail segment's descriptors, returning the first
// error of the entries' one (the zeros' were fsynced or failed the log).
func (l *commitLog) closeFiles() error {
	var err error
	if l.tail != nil {
		err = l.tail.Close()
	}
	if l.zeroTail != nil {
		l.zeroTail.Close()
	}
	l.tail, l.zeroTail = nil, nil
	return err
}

// prepareAhead readies the tail segment for the entries of sizes: it
// trims the preallocated zeros off when writeGroup will start a new
// segment during the write (a segment that is not the last ends at its
// last entry); otherwise it waits for the preallocator only when the entries of sizes would run into the
// zeros it is writing, or when the tail is to be trimmed; it preallocates
// itself only when no zeros are coming; and it kicks the preallocator
// when the entries leave less than half a chunk of zeros. It is called
// by the leader, which writes the entries once it returns.
func (l *commitLog) prepareAhead(sizes []int) error {
	end := l.segBytes
	trim := end > l.segSize
	for _, n := range sizes {
		if trim {
			break
		}
		end += codec.UvarintLen(uint64(n)) + n
		trim = end >= l.segSize
	}
	l.pmu.Lock()
	defer l.pmu.Unlock()
	for l.extending && (trim || int64(end) > l.tailSize) {
		l.pdone.Wait()
	}
	if err := l.preErr; err != nil {
		return err
	}
	if trim {
		return l.trim() // writeGroup starts a new segment in this write
	}
	if int64(end) > l.tailSize {
		if err := l.extend(int64(end)); err != nil {
			return err
		}
	}
	if left := l.tailSize - int64(end); !l.extending && left < l.chunk/2 && l.tailSize < int64(l.segSize) {
		l.extending, l.preTo = true, (l.tailSize+l.chunk+4095)&^4095
		select {
		case l.preKick <- struct{}{}:
		default:
		}
	}
	return nil
}

// preallocator writes the zeros prepareAhead asks for, from tailSize to
// preTo, off the flush path.
func (l *commitLog) preallocator() {
	for {
		select {
		case <-l.done:
			return
		case <-l.preKick:
		}
		l.pmu.Lock()
		f, path, from, to := l.zeroTail, l.tailPath, l.tailSize, l.preTo
		write, wb, sync := l.preWrite, l.preWriteBack, l.preSync
		l.pmu.Unlock()
		if write == nil {
			write = (*os.File).WriteAt
		}
		if wb == nil {
			wb = writeBack
		}
		if sync == nil {
			sync = l.syncFile
		}
		err := l.zeroWith(f, path, from, to, write, wb, sync)
		l.pmu.Lock()
		if err != nil {
			// Every later group fails with it: the zeros past the
			// entries are not known to be there, nor what the failed
			// write or fsync did to the file.
			l.preErr = &PreallocError{Path: path, Err: err}
		} else {
			l.tailSize = to
			l.preRuns.Add(1)
		}
		l.extending = false
		l.pdone.Broadcast()
		l.pmu.Unlock()
	}
}

// awaitPrealloc waits for the preallocator to be done with the tail. It
// is called with pmu held.
func (l *commitLog) awaitPrealloc() {
	for l.extending {
		l.pdone.Wait()
	}
}

var zeros [64 << 10]byte

// extend writes zeros from the end of the tail segment to a chunk past
// need and fsyncs them.
func (l *commitLog) extend(need int64) error {
	size := (need + l.chunk + 4095) &^ 4095
	if err := l.zero(l.zeroTail, l.tailPath, l.tailSize, size); err != nil {
		return err
	}
	l.tailSize = size
	return nil
}

// zero writes zeros into f (the segment at path) from offset from to to
// and fsyncs them. Each piece is written back as it is written
// (writeBack), so that an fsync of the segment's entries meanwhile finds
// few of the zeros still to write.
func (l *commitLog) zero(f *os.File, path string, from, to int64) error {
	return l.zeroWith(f, path, from, to, (*os.File).WriteAt, writeBack, l.syncFile)
}

// zeroWith is zero with the write, write-back and fsync given.
func (l *commitLog) zeroWith(f *os.File, path string, from, to int64,
	write func(*os.File, []byte, int64) (int, error), writeBack func(*os.File, int64, int64) error,
	syncFile func(*os.File) error) error {
	for off := from; off < to; {
		n, err := write(f, zeros[:min(int64(len(zeros)), to-off)], off)
		if err != nil {
			return fmt.Errorf("preallocate %s: %w", path, err)
		}
		if err := writeBack(f, off, int64(n)); err != nil {
			return fmt.Errorf("preallocate %s: write back: %w", path, err)
		}
		off += int64(n)
	}
	t0 := time.Now()
	err := syncFile(f)
	l.timeSync(time.Since(t0))
	if err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return nil
}

// trim cuts the tail segment back to its entries, after checking that
// only zeros follow them: the log's idea of where its entries end must
// never cost an entry.
func (l *commitLog) trim() error {
	end := int64(l.segBytes)
	if l.tailSize <= end {
		return nil
	}
	f, err := os.Open(l.tailPath)
	if err != nil {
		return fmt.Errorf("trim %s: %w", l.tailPath, err)
	}
	defer f.Close()
	buf := make([]byte, min(int64(len(zeros)), l.tailSize-end))
	for off := end; off < l.tailSize; {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), l.tailSize-off)], off)
		if n == 0 && err != nil {
			return fmt.Errorf("trim %s: %w", l.tailPath, err)
		}
		for i, b := range buf[:n] {
			if b != 0 {
				return fmt.Errorf("trim %s: byte %d after the last entry (offset %d) is not preallocated zero: %w",
					l.tailPath, off+int64(i), end, ErrCorrupt)
			}
		}
		off += int64(n)
	}
	if err := l.tail.Truncate(end); err != nil {
		return fmt.Errorf("trim %s: %w", l.tailPath, err)
	}
	l.tailSize = end
	return nil
}

// Append encodes c as the next entry; see internal/host.CommitLog.
func (l *commitLog) Append(c *table.Commit) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	if l.closing {
		return 0, ErrClosed
	}
	l.buf = appendRecord(l.buf[:0], l.fp, c)
	l.appended++
	l.pending = binary.AppendUvarint(l.pending, uint64(len(l.buf)))
	l.pending = append(l.pending, l.buf...)
	l.sizes = append(l.sizes, len(l.buf))
	l.arrived++
	if l.policy == SyncAlways {
		l.want = l.appended
	}
	if l.gathering && l.arrived >= l.released {
		l.gathered.Signal()
	}
	n := l.entries.Add(1)
	b := l.bytes.Add(uint64(len(l.buf)))
	if l.notify != nil {
		l.notify(n, b)
	}
	return l.appended, nil
}

// Wait returns once entry ticket is durable; see internal/host.CommitLog.
func (l *commitLog) Wait(ticket uint64) error {
	l.mu.Lock()
	return l.await(ticket, l.policy == SyncAlways)
}

// syncTo fsyncs the log through index, whatever the policy.
func (l *commitLog) syncTo(index uint64) error {
	l.mu.Lock()
	l.want = max(l.want, index)
	return l.await(index, true)
}

// lastIndex is the index of the last appended entry.
func (l *commitLog) lastIndex() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appended
}

// failed returns the log's sticky error, or the preallocator's failure
// when no group has met it yet: a snapshot after it is refused as one
// after a failed group is.
func (l *commitLog) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	l.pmu.Lock() // mu before pmu: nothing takes mu while holding pmu
	perr := l.preErr
	l.pmu.Unlock()
	if perr != nil {
		return kerr.Errorf("%w: %w", ErrFailed, perr)
	}
	return nil
}

// reached reports whether entry index is written, or fsynced when
// durable is set. It needs no lock.
func (l *commitLog) reached(index uint64, durable bool) bool {
	return l.synced.Load() >= index || (!durable && l.written.Load() >= index)
}

// await returns once entry index is written, or fsynced when durable is
// set, leading flushes while none runs; whoever waits for an fsync raised
// want to index first. It is called with mu held and returns with mu
// released.
func (l *commitLog) await(index uint64, durable bool) error { return l.awaitAs(index, durable, false) }

// awaitAs is await for a leader that hands its reports to the releaser
// goroutine (async) instead of making them itself: the flusher, so that
// it can lead the next flush while the runtime releases the last one.
func (l *commitLog) awaitAs(index uint64, durable, async bool) error {
	token := false
	for {
		if !l.flushing && l.err == nil && !l.reached(index, durable) {
			token = false // a token held is used up by leading
			l.flush(async)
			continue
		}
		if token {
			// This caller was elected but does not lead: the callers
			// of the next flush still need a leader.
			l.passLead()
			token = false
		}
		if l.reached(index, durable) {
			l.mu.Unlock()
			return nil
		}
		if err := l.err; err != nil {
			l.mu.Unlock()
			return err
		}
		if index <= l.curLast {
			// The flush running covers the entry.
			if l.cur == nil {
				l.cur = make(chan struct{})
			}
			ch := l.cur
			l.mu.Unlock()
			<-ch
			if l.reached(index, durable) {
				return nil
			}
			l.mu.Lock()
			continue
		}
		// The next flush covers it: wait for it, or for the token that
		// makes this caller its leader.
		if l.next == nil {
			l.next = make(chan struct{})
		}
		ch := l.next
		l.waiting++
		l.mu.Unlock()
		select {
		case <-ch:
		case <-l.lead:
			token = true
		}
		l.mu.Lock()
		if ch == l.next {
			l.waiting-- // not yet moved to a flush started since
		}
	}
}

// passLead hands the token to one of the callers waiting for the next
// flush when no flush runs; a running flush hands it on when done. It is
// called with mu held.
func (l *commitLog) passLead() {
	if l.flushing || l.waiting == 0 {
		return
	}
	select {
	case l.lead <- struct{}{}:
	default: // a token is there already: one of them takes it
	}
}

// flush is the leader's work: it gathers, takes every queued entry,
// writes them with one write and fsyncs them when the policy, want or a
// new segment asks for it, with mu released during the I/O, then releases
// the callers it covered and hands the lead to a caller of a later entry.
// It is called with mu held and flushing unset, and returns with mu held.
func (l *commitLog) flush(async bool) {
	l.flushing = true
	l.cur, l.next, l.waiting = l.next, nil, 0 // the next flush is this one
	l.curLast = ^uint64(0)                    // while gathering, the flush takes whatever comes
	l.gather()
	batch, sizes, last, want, sync := l.pending, l.sizes, l.appended, l.want, l.sync
	l.pending, l.spare = l.spare[:0], nil
	l.sizes, l.spareSizes = l.spareSizes[:0], nil
	l.curLast = last
	synced := l.synced.Load()
	l.mu.Unlock()

	var err error
	rotated := false
	if len(sizes) > 0 {
		if err = l.prepareAhead(sizes); err == nil {
			rotated, err = l.writeGroup(batch, sizes, last+1-uint64(len(sizes)))
		}
		l.groups.Add(1)
		if n := uint64(len(sizes)); n > l.maxGroup.Load() {
			l.maxGroup.Store(n)
		}
	}
	didSync := false
	var took time.Duration
	if err == nil && (want > synced || rotated) {
		t0 := time.Now()
		err = sync()
		took = time.Since(t0)
		l.timeSync(took)
		if err != nil {
			err = fmt.Errorf("fsync: %w", err)
		}
		if err == nil && rotated {
			if err = l.syncDirFn(l.dir); err != nil {
				err = fmt.Errorf("fsync %s: %w", l.dir, err)
			}
		}
		didSync = true
	}

	l.mu.Lock()
	l.spare, l.spareSizes = batch[:0], sizes[:0]
	l.flushing = false
	if err != nil {
		l.err = kerr.Errorf("%w: %w", ErrFailed, err)
		// Every waiting caller, of this flush's entries and of later
		// ones, sees the error.
		closeChan(&l.cur)
		closeChan(&l.next)
		l.waiting = 0
		l.report(l.durable(), l.err, async)
		return
	}
	l.written.Store(last)
	if didSync {
		l.synced.Store(last)
	}
	closeChan(&l.cur)
	l.released, l.arrived = len(sizes), 0
	l.gatherUntil = time.Now().Add(min(took, maxGather))
	l.passLead()
	l.report(l.durable(), nil, async)
}

// report tells the runtime what is durable, with mu released meanwhile so
// that the next flush can start; with async it leaves that to the
// releaser goroutine, so that the leader can go on with the next flush at
// once. It is called with mu held and returns with mu held.
func (l *commitLog) report(through uint64, err error, async bool) {
	if async {
		l.relThrough = max(l.relThrough, through)
		if err != nil && l.relErr == nil {
			l.relErr = err
		}
		select {
		case l.relKick <- struct{}{}:
		default:
		}
		return
	}
	l.mu.Unlock()
	l.release(through, err)
	l.mu.Lock()
}

// releaser reports what the flusher made durable to the runtime.
func (l *commitLog) releaser() {
	defer close(l.relDone)
	for {
		select {
		case <-l.done:
			// Both may be ready at close: the last flush's report is
			// delivered before the releaser stops.
			select {
			case <-l.relKick:
			default:
				return
			}
		case <-l.relKick:
		}
		l.mu.Lock()
		through, err := l.relThrough, l.relErr
		l.mu.Unlock()
		l.release(through, err)
	}
}

// timeSync counts one fsync that took d.
func (l *commitLog) timeSync(d time.Duration) {
	l.syncs.Add(1)
	l.syncNs.Add(int64(d))
	if int64(d) > l.maxSyncNs.Load() {
		l.maxSyncNs.Store(int64(d))
	}
}

// LastIndex is the index of the last appended entry.
func (l *commitLog) LastIndex() uint64 { return l.lastIndex() }

// closeChan closes *ch, when it was made, and clears it.
func closeChan(ch *chan struct{}) {
	if *ch != nil {
		close(*ch)
		*ch = nil
	}
}

// maxGather bounds how long the leader waits for released callers.
const maxGather = time.Millisecond

// gather holds the next fsync back, under SyncAlways, until the callers
// released by the last one have queued their next transactions (counted
// as entries appended since), for at most the last fsync's duration and
// never more than maxGather: 64 synchronous callers, whose next calls
// pass the executor, need about as long as an fsync to come back.
// Callers that call in a loop then share one fsync instead of splitting
// into two groups that alternate; a caller that does not come back costs
// the others at most that delay. A single caller in a loop has queued its
// next entry before it leads, so it never waits here. It is called by the
// leader with mu held.
func (l *commitLog) gather() {
	if l.policy != SyncAlways {
		return
	}
	for !l.closing && l.arrived < l.released && len(l.sizes) > 0 {
		d := time.Until(l.gatherUntil)
		if d <= 0 {
			return
		}
		if l.timer == nil {
			l.timer = time.AfterFunc(d, func() {
				l.mu.Lock()
				l.gathered.Signal()
				l.mu.Unlock()
			})
		} else {
			l.timer.Reset(d)
		}
		l.gathering = true
		l.gathered.Wait()
		l.gathering = false
	}
}

// segmentPerm is the mode of a new segment file, tidwall/wal's default.
const segmentPerm = 0o640

// writeGroup writes a group's framed entries b, whose data sizes are
// sizes and the first of which is entry first, at the end of the tail
// segment, and starts new segment files where tidwall/wal would (its
// rule, which rotations follows too): before the write when the tail
// has passed the segment size, and after each entry that brings it to
// the segment size or past. A finished segment is fsynced and closed
// first, as tidwall/wal does; the new one's directory entry is the
// caller's to fsync (rotated). The files are tidwall/wal's format, which
// it reads: each entry its data size as a uvarint, then the data. It is
// called by the leader, after prepare.
func (l *commitLog) writeGroup(b []byte, sizes []int, first uint64) (rotated bool, err error) {
	if l.segBytes > l.segSize {
		if err := l.cycle(first); err != nil {
			return rotated, err
		}
		rotated = true
	}
	mark, pos, off := 0, int64(l.segBytes), 0
	for i, n := range sizes {
		frame := codec.UvarintLen(uint64(n)) + n
		off += frame
		l.segBytes += frame
		if l.segBytes < l.segSize {
			continue
		}
		if err := l.writeTail(b[mark:off], pos); err != nil {
			return rotated, err
		}
		if err := l.cycle(first + uint64(i) + 1); err != nil {
			return rotated, err
		}
		rotated, mark, pos = true, off, 0
	}
	if off > mark {
		return rotated, l.writeTail(b[mark:off], pos)
	}
	return rotated, nil
}

// writeTail writes b at offset pos of the tail segment. Written past
// the zeros (into a segment just started, or one prepare trimmed), the
// file's size is the end of its entries.
func (l *commitLog) writeTail(b []byte, pos int64) error {
	for len(b) > 0 {
		n, err := l.writeAt(l.tail, b, pos)
		if n > 0 {
			pos += int64(n)
			l.pmu.Lock()
			l.tailSize = max(l.tailSize, pos)
			l.pmu.Unlock()
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", l.tailPath, err)
		}
		b = b[n:]
	}
	return nil
}

// cycle finishes the tail segment (fsynced and closed) and starts the
// next one, whose first entry is first, as tidwall/wal's cycle does.
// prepare trimmed the finished segment and kicked no preallocation, so
// nothing writes zeros into either file meanwhile.
func (l *commitLog) cycle(first uint64) error {
	if err := l.sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", l.tailPath, err)
	}
	path := filepath.Join(l.dir, segmentName(first))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, l.perm)
	if err != nil {
		return fmt.Errorf("start segment: %w", err)
	}
	z, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		f.Close()
		return fmt.Errorf("start segment: open it for its zeros: %w", err)
	}
	l.pmu.Lock()
	oldTail, oldZero, oldPath := l.tail, l.zeroTail, l.tailPath
	l.tail, l.zeroTail, l.tailPath, l.tailSize, l.segBytes = f, z, path, 0, 0
	l.pmu.Unlock()
	oldZero.Close()
	if err := oldTail.Close(); err != nil {
		return fmt.Errorf("close %s: %w", oldPath, err)
	}
	return nil
}

// ticker fsyncs the log every period under SyncInterval, leading the
// flush itself when none runs.
func (l *commitLog) ticker(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
			l.mu.Lock()
			if l.closing || l.err != nil || l.appended <= l.synced.Load() {
				l.mu.Unlock()
				continue
			}
			l.want = max(l.want, l.appended)
			l.awaitAs(l.appended, true, true) // an error is sticky: callers get it
		}
	}
}

// close writes and fsyncs every appended entry and closes the segment
// file; the log takes no more entries. Calls waiting on entries get their
// result.
func (l *commitLog) close() error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		<-l.done
		return ErrClosed
	}
	l.closing = true
	l.want = l.appended
	l.gathered.Signal() // a leader in gather goes now
	l.await(l.appended, true)
	l.mu.Lock()
	// Nothing is left to lead once everything is fsynced or the log
	// failed; wait all the same for a flush still running, so that the
	// segment file is closed under no writer.
	for l.flushing {
		if l.cur == nil {
			l.cur = make(chan struct{})
		}
		ch := l.cur
		l.mu.Unlock()
		<-ch
		l.mu.Lock()
	}
	err := l.err
	if err == nil {
		l.err = ErrClosed
	}
	closeChan(&l.cur)
	closeChan(&l.next)
	l.waiting = 0
	if l.timer != nil {
		l.timer.Stop()
	}
	l.mu.Unlock()
	// No flush runs now, so no preallocation starts; wait for one that
	// runs.
	l.pmu.Lock()
	l.awaitPrealloc()
	perr := l.preErr
	l.pmu.Unlock()
	if err == nil && perr != nil {
		// The preallocator failed after the last group: Close reports it
		// as the group after it would have.
		err = kerr.Errorf("%w: %w", ErrFailed, perr)
	}
	// The segment ends at its last entry again; a failed log keeps its
	// zeros for Open to drop.
	if err == nil {
		if terr := l.trim(); terr != nil {
			err = kerr.Errorf("keel: close: %w", terr)
		} else if serr := l.syncFile(l.tail); serr != nil {
			err = kerr.Errorf("keel: close: fsync %s: %w", l.tailPath, serr)
		}
	}
	if cerr := l.closeFiles(); err == nil && cerr != nil {
		err = kerr.Errorf("keel: wal: close: %w", cerr)
	}
	close(l.done)
	<-l.relDone // no report comes after close returns
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
