package replica

import (
	"sync"
	"time"

	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// commitLog is the runtime's commit log on a replica (internal/host's
// CommitLog). Its indexes are raft's: while the node leads, Append gives
// each commit the raft index its entry will get, since every entry the
// leader appends goes through here in order (configuration changes
// too), and the raft loop proposes them in that order. The loop releases
// an index once raft committed it, or takes the commits back (Follow)
// when the node stops leading.
type commitLog struct {
	n  *Node
	mu sync.Mutex
	// last is the last index given out (while leading) or the last
	// applied (while following): the runtime's LastIndex.
	last uint64
	// group is the commits appended since the last entry was closed:
	// they share the next entry, index last, until the raft loop takes
	// them to propose or the group reaches maxGroup bytes.
	group   *wal.Group
	pending []*pb.Entry // appended, not yet proposed
	// spare holds the data buffers of proposed entries, which raft
	// copied (see raftConfig): the next groups' entries are written into
	// them.
	spare [][]byte
	// marks are the first index of each group taken to propose and when
	// it was appended, oldest first, until the group is released (the
	// node's Stats).
	marks   []mark
	firstAt time.Time // when pending's first entry was appended
	// resolved is the last index released or taken back: Wait returns
	// once it reaches the index waited for.
	resolved uint64
	epoch    uint64 // counts resets
	cond     *sync.Cond
	release  func(through uint64, err error)
	err      error // the node stopped
}

func newCommitLog(n *Node, last uint64) *commitLog {
	l := &commitLog{n: n, last: last, resolved: last, group: n.log.NewGroup()}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// maxGroup is the size past which a group of commits is closed and the
// next commit starts an entry of its own: a quarter of raft's largest
// message (Config.MaxSizePerMsg), so that a message carries several.
const maxGroup = 256 << 10

// Append encodes c into the open group of commits and returns the index
// of the group's entry; see internal/host.CommitLog. The commits of one
// group share the index: they are proposed, committed and released
// together. It is called by the executor, which the raft loop pauses
// (runtime.Follow, runtime.Lead) whenever it changes what the indexes
// mean.
func (l *commitLog) Append(c *table.Commit) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	if l.group.Len() == 0 {
		l.last++
		if len(l.pending) == 0 {
			l.firstAt = time.Now()
		}
	}
	l.group.Add(c)
	index := l.last
	if l.group.Size() >= maxGroup {
		l.closeGroup()
	}
	return index, nil
}

// closeGroup makes the open group of commits an entry to propose.
func (l *commitLog) closeGroup() {
	if l.group.Len() > 0 {
		var buf []byte
		if k := len(l.spare); k > 0 {
			buf, l.spare = l.spare[k-1][:0], l.spare[:k-1]
		}
		l.pending = append(l.pending, &pb.Entry{Type: pb.EntryNormal.Enum(), Data: l.group.TakeAppend(buf)})
	}
}

// maxSpare bounds the buffers commitLog keeps for the next groups.
const maxSpare = 16

// reuse keeps the data buffers of ents, entries raft took copies of,
// for the next groups.
func (l *commitLog) reuse(ents []*pb.Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range ents {
		if len(l.spare) == maxSpare {
			break
		}
		if e.GetType() == pb.EntryNormal && cap(e.Data) > 0 {
			l.spare = append(l.spare, e.Data)
		}
		e.Data = nil
	}
}

// appendConf queues a configuration change among the commits, in an
// entry of its own, and returns its index.
func (l *commitLog) appendConf(cc *pb.ConfChangeV2) (uint64, error) {
	data, err := proto.Marshal(cc)
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	l.closeGroup()
	l.last++
	if len(l.pending) == 0 {
		l.firstAt = time.Now()
	}
	l.pending = append(l.pending, &pb.Entry{Type: pb.EntryConfChangeV2.Enum(), Data: data})
	l.n.kick()
	return l.last, nil
}

// take returns the entries to propose.
func (l *commitLog) take() []*pb.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closeGroup()
	p := l.pending
	l.pending = nil
	if len(p) > 0 {
		l.marks = append(l.marks, mark{index: l.last + 1 - uint64(len(p)), at: l.firstAt})
	}
	return p
}

// mark is when the first entry of a group proposed was appended.
type mark struct {
	index uint64
	at    time.Time
}

// released counts, in the node's Stats, the groups released through
// index.
func (l *commitLog) released(through uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := 0
	for ; i < len(l.marks) && l.marks[i].index <= through; i++ {
		l.n.stats.released(time.Since(l.marks[i].at))
	}
	l.marks = append(l.marks[:0], l.marks[i:]...)
}

// reset forgets what was appended and not proposed: the runtime took it
// back. last becomes the last entry applied. It is called with the
// executor paused.
func (l *commitLog) reset(last uint64) {
	l.mu.Lock()
	l.group.Reset()
	l.pending = nil
	l.marks = l.marks[:0]
	l.epoch++ // what Wait waits for was taken back: it returns
	l.last = last
	l.resolved = last
	l.cond.Broadcast()
	l.mu.Unlock()
}

// resolve records that everything through index is released or taken
// back.
func (l *commitLog) resolve(through uint64) {
	l.mu.Lock()
	if through > l.resolved {
		l.resolved = through
		l.cond.Broadcast()
	}
	l.mu.Unlock()
}

// fail stops the log: appends and waits fail with err.
func (l *commitLog) fail(err error) {
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	l.cond.Broadcast()
	l.mu.Unlock()
}

// Wait returns once index is released or taken back.
func (l *commitLog) Wait(index uint64) error {
	l.n.kick()
	l.mu.Lock()
	defer l.mu.Unlock()
	epoch := l.epoch
	for l.resolved < index && l.err == nil && l.epoch == epoch {
		l.cond.Wait()
	}
	if l.err != nil && l.resolved < index {
		return l.err
	}
	return nil
}

// Kick wakes the raft loop to propose what was appended.
func (l *commitLog) Kick() { l.n.kick() }

// LastIndex is the index of the last entry appended (or applied).
func (l *commitLog) LastIndex() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// SetRelease registers the runtime's release.
func (l *commitLog) SetRelease(fn func(through uint64, err error)) { l.release = fn }
