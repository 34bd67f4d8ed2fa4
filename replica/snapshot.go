package replica

import (
	"maps"
	"time"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// maybeSnapshot takes a snapshot once SnapshotEvery entries were applied
// since the last: the state is captured between two transactions, at the
// entry last applied, and written by a goroutine of its own while the
// node goes on. On a leader the state captured holds the commits that
// ran, applied or not: then the snapshot waits until they are, and is
// dropped if the node stops leading first.
func (n *Node) maybeSnapshot() {
	every := n.cfg.SnapshotEvery
	due := n.wantSnap && n.applied > n.lastSnap || every >= 0 && n.applied-n.lastSnap >= uint64(every)
	if !due || n.snapping.Load() {
		return
	}
	var v *table.View
	var seqs []table.SeqMove
	var index uint64
	err := n.rt.Capture(func(db *table.DB, last uint64) error {
		var err error
		v, err = tx.View(db)
		seqs, index = tx.Sequences(db), last
		return err
	})
	if err != nil || index != n.done.Load() {
		// A leader with commits in flight: try again at a later apply.
		return
	}
	term, err := n.log.Term(index)
	if err != nil {
		return
	}
	if n.confIndex > index {
		return
	}
	cs := proto.Clone(n.confState).(*pb.ConfState)
	n.mu.Lock()
	addrs := maps.Clone(n.addrs)
	n.mu.Unlock()
	n.lastSnap = index
	n.wantSnap = false
	n.snapping.Store(true)
	go func() {
		defer n.snapping.Store(false)
		if err := n.log.WriteSnapshot(v, seqs, index, term, encodeMeta(cs, addrs), n.cfg.SnapshotRetain); err != nil {
			n.logger.Error("keel: replica: snapshot", "index", index, "err", err)
		}
	}()
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
	n.mu.Lock()
	addrs := maps.Clone(n.addrs)
	n.mu.Unlock()
	db, err := n.log.InstallSnapshot(n.cfg.Module.Tables, s.GetData(), index, md.GetTerm(), encodeMeta(md.GetConfState(), addrs))
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
	n.confState = md.GetConfState()
	n.clog.reset(index)
	n.appliedMoved()
	n.logger.Info("keel: replica: installed a snapshot from the leader", "index", index, "term", md.GetTerm())
	return nil
}
