package replica

import (
	"maps"
	"time"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// maybeSnapshot takes a snapshot once SnapshotEvery commits were applied
// since the last: the state is captured between two transactions, at the
// entry last applied, and written by a goroutine of its own while the
// node goes on. On a leader the state captured holds the commits that
// ran, applied or not: then the snapshot waits until they are, and is
// dropped if the node stops leading first (follow). A leader whose calls
// never stop has commits in flight at every apply, so it keeps what it
// captured rather than capture again.
func (n *Node) maybeSnapshot() {
	if c := n.captured; c != nil {
		if n.done.Load() < c.index || n.snapping.Load() {
			return
		}
		n.captured = nil
		n.snapshotOf(c)
		return
	}
	every := n.cfg.SnapshotEvery
	due := n.wantSnap && n.applied > n.lastSnap || every >= 0 && n.commits-n.snapCommits >= uint64(every)
	if !due || n.snapping.Load() {
		return
	}
	c := &capturedState{}
	err := n.rt.Capture(func(db *table.DB, last uint64) error {
		var err error
		c.view, err = tx.View(db)
		c.seqs, c.index = tx.Sequences(db), last
		return err
	})
	if err != nil {
		return
	}
	if c.index != n.done.Load() {
		if n.leading {
			n.captured = c // written once its commits are applied
		}
		return
	}
	n.snapshotOf(c)
}

// capturedState is a state captured for a snapshot: the view, the
// sequences' boundaries and the raft entry the state is after.
type capturedState struct {
	view  *table.View
	seqs  []table.SeqMove
	index uint64
}

// snapshotOf writes a snapshot of c, whose entry is applied, in the
// background.
func (n *Node) snapshotOf(c *capturedState) {
	term, err := n.log.Term(c.index)
	if err != nil {
		return
	}
	if n.confIndex > c.index {
		return
	}
	cs := proto.Clone(n.confState).(*pb.ConfState)
	n.mu.Lock()
	addrs := maps.Clone(n.addrs)
	n.mu.Unlock()
	n.lastSnap = c.index
	n.snapped(c.index)
	n.wantSnap = false
	n.snapping.Store(true)
	n.snapWG.Go(func() {
		defer n.snapping.Store(false)
		if err := writeSnapshot(n.log, c.view, c.seqs, c.index, term, encodeMeta(cs, addrs), n.cfg.SnapshotRetain); err != nil {
			n.logger.Error("keel: replica: snapshot", "index", c.index, "err", err)
		}
	})
}

// writeSnapshot writes a snapshot into the node's log (a variable, so
// that a test can hold it).
var writeSnapshot = (*wal.RaftLog).WriteSnapshot

// commitMark is how many commits the entries through an index held,
// counted since the node opened.
type commitMark struct{ through, commits uint64 }

// counted records that the entries through index through, handed to be
// applied, bring the commits counted to n.commits.
func (n *Node) counted(through uint64) {
	if n.cfg.SnapshotEvery < 0 {
		return
	}
	if k := len(n.commitMarks); k > 0 && n.commitMarks[k-1].through >= through {
		n.commitMarks[k-1].commits = n.commits
		return
	}
	n.commitMarks = append(n.commitMarks, commitMark{through, n.commits})
}

// snapped records that the snapshot taken holds the state through entry
// index: the commits it holds are those counted through index, which
// may be fewer than n.commits while a follower's applier is behind.
func (n *Node) snapped(index uint64) {
	i := 0
	for ; i < len(n.commitMarks) && n.commitMarks[i].through <= index; i++ {
		n.snapCommits = n.commitMarks[i].commits
	}
	n.commitMarks = append(n.commitMarks[:0], n.commitMarks[i:]...)
}

// installSnapshot makes a snapshot the leader sent the node's state: the
// node fell behind the leader's log.
func (n *Node) installSnapshot(s *pb.Snapshot) error {
	md := s.GetMetadata()
	index := md.GetIndex()
	if index <= n.applied {
		return nil
	}
	if n.leading {
		n.follow()
	}
	if !n.drain() {
		if err := n.Failure(); err != nil {
			return err
		}
		return ErrClosed
	}
	for n.snapping.Load() {
		// A snapshot of our own is being written: let it finish.
		time.Sleep(time.Millisecond)
	}
	sent, data, err := unwrapSnap(s.GetData())
	if err != nil {
		return kerr.Errorf("keel: replica: install snapshot %d: %w", index, err)
	}
	// The leader's addresses of the members at the snapshot's entry:
	// those added in the log it replaced are known only from them.
	members := map[uint64]bool{}
	for _, ids := range [][]uint64{md.GetConfState().GetVoters(), md.GetConfState().GetLearners(), md.GetConfState().GetVotersOutgoing(), md.GetConfState().GetLearnersNext()} {
		for _, id := range ids {
			members[id] = true
		}
	}
	var learned []uint64
	n.mu.Lock()
	for id, a := range sent {
		if id != n.id && a != "" && members[id] && n.addrs[id] != a {
			n.addrs[id] = a
			learned = append(learned, id)
		}
	}
	addrs := maps.Clone(n.addrs)
	n.mu.Unlock()
	for _, id := range learned {
		n.tr.AddPeer(id, addrs[id])
	}
	db, err := n.log.InstallSnapshot(n.cfg.Module.Tables, data, index, md.GetTerm(), encodeMeta(md.GetConfState(), addrs))
	if err != nil {
		return kerr.Errorf("keel: replica: install snapshot %d: %w", index, err)
	}
	n.store.reset()
	if err := n.rt.Replace(db, index); err != nil {
		return err
	}
	n.applied = index
	n.done.Store(index)
	n.lastSnap = index
	n.snapCommits, n.commitMarks = n.commits, n.commitMarks[:0]
	n.confState = md.GetConfState()
	n.clog.reset(index)
	n.appliedMoved()
	n.logger.Info("keel: replica: installed a snapshot from the leader", "index", index, "term", md.GetTerm())
	return nil
}
