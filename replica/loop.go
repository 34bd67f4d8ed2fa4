package replica

import (
	"errors"
	"slices"
	"time"

	"github.com/keeldb/keel/internal/engine"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// tx is package table's transaction lifecycle.
var tx = engine.Table[engine.TableOps[table.DB, table.Tx, table.Commit, table.View, table.Schema, table.SeqMove]]()

type tableDB = table.DB

func txCheck(d *table.DB) error { return tx.Check(d) }

// run is the raft loop: the one goroutine that drives the raft node. It
// sends the messages raft makes, hands the entries to write to the log
// writer (writer) and the committed entries of a follower to the
// applier, and steps the answers they send back (raft's asynchronous
// storage writes): it never waits for an fsync, so that while one group
// of entries is being written the next is proposed and sent.
func (n *Node) run() {
	defer close(n.donec)
	defer func() {
		close(n.applyc)
		close(n.appendc)
	}()
	ticker := time.NewTicker(n.cfg.Tick)
	defer ticker.Stop()
	for {
		select {
		case <-n.stopc:
			n.failReads(ErrClosed)
			return
		case <-ticker.C:
			n.rn.Tick()
			n.dropReads()
			// A snapshot that was due while commits were in flight (or
			// the applier behind) is taken once they are done.
			n.maybeSnapshot()
		case m := <-n.recvc:
			n.step(m)
			for more := true; more; {
				select {
				case m := <-n.recvc:
					n.step(m)
				default:
					more = false
				}
			}
		case <-n.kickc:
			n.kicked = true
		case <-n.localc:
		case r := <-n.reportc:
			if r.snap {
				st := raft.SnapshotFinish
				if !r.ok {
					st = raft.SnapshotFailure
				}
				n.rn.ReportSnapshot(r.to, st)
			} else {
				n.rn.ReportUnreachable(r.to)
			}
		case r := <-n.readc:
			n.askRead(r)
		}
		if err := n.Failure(); err != nil {
			// The applier or the writer failed: the node takes no more
			// writes.
			n.stop(err)
			n.failReads(err)
			<-n.stopc
			return
		}
		n.stepLocal()
		n.propose()
		for n.rn.HasReady() {
			err := n.handle(n.rn.Ready())
			if errors.Is(err, ErrClosed) {
				// Close was called while the loop waited for the applier
				// or the writer.
				n.failReads(ErrClosed)
				return
			}
			if err != nil {
				n.stop(err)
			}
			if err := n.Failure(); err != nil {
				n.failReads(err)
				<-n.stopc
				return
			}
			n.stepLocal()
			n.propose()
		}
		n.maybeLead()
		n.publish()
	}
}

// local queues the answers of the writer and the applier (messages to
// this node) for the raft loop to step, in the order they came: it never
// blocks them, whatever the loop is waiting for.
func (n *Node) local(ms []*pb.Message) {
	if len(ms) == 0 {
		return
	}
	n.localMu.Lock()
	n.localq = append(n.localq, ms...)
	n.localMu.Unlock()
	select {
	case n.localc <- struct{}{}:
	default:
	}
}

// stepLocal steps what the writer and the applier answered.
func (n *Node) stepLocal() {
	n.localMu.Lock()
	ms := n.localq
	n.localq = nil
	n.localMu.Unlock()
	for _, m := range ms {
		if err := n.rn.Step(m); err != nil {
			n.logger.Debug("keel: replica: step", "type", m.GetType(), "err", err)
		}
	}
}

// deliver sends a storage message's answers, once what it asked for is
// done: to this node through the loop, to others through the transport.
func (n *Node) deliver(resps []*pb.Message) {
	var mine, others []*pb.Message
	for _, r := range resps {
		if r.GetTo() == n.id {
			mine = append(mine, r)
		} else {
			others = append(others, r)
		}
	}
	n.tr.Send(others)
	n.local(mine)
}

func (n *Node) step(m *pb.Message) {
	if lead := n.rn.BasicStatus().Lead; lead != 0 && m.GetFrom() == lead {
		n.heard.Store(time.Now().UnixNano())
	}
	if err := n.rn.Step(m); err != nil && !errors.Is(err, raft.ErrStepPeerNotFound) {
		n.logger.Debug("keel: replica: step", "type", m.GetType(), "from", m.GetFrom(), "err", err)
	}
}

// propose hands raft what the leader's runtime appended, as one
// proposal.
func (n *Node) propose() {
	ents := n.clog.take()
	kicked := n.kicked
	n.kicked = false
	if len(ents) == 0 {
		if kicked && n.leading {
			// Report even when nothing was new, as the local log does: a
			// call of the batch that kicked the loop that committed
			// nothing (it read, or rolled back) waits for the last entry
			// given out, which may be released already.
			n.clog.release(n.applied, nil)
		}
		return
	}
	if !n.leading {
		return // taken back already
	}
	m := &pb.Message{Type: pb.MsgProp.Enum(), From: new(n.id), Entries: ents}
	if err := n.rn.Step(m); err != nil {
		// Not the leader any more (or removed): the entries' indexes
		// mean nothing now. (A follower's raft drops proposals rather
		// than forwarding them, see raftConfig.)
		n.logger.Info("keel: replica: proposal dropped, stepping down", "err", err)
		n.follow()
		return
	}
	// The leader's raft appended copies of the entries.
	n.clog.reuse(ents)
}

// handle processes one Ready: the messages to other nodes go out at
// once (raft holds back those that wait for this node's log writes: they
// are the answers of its storage messages); the log's writes go to the
// writer, committed entries are applied, and leadership changes
// followed.
func (n *Node) handle(rd raft.Ready) error {
	var others []*pb.Message
	var storage []*pb.Message
	for _, m := range rd.Messages {
		switch m.GetTo() {
		case raft.LocalAppendThread, raft.LocalApplyThread:
			storage = append(storage, m)
		default:
			others = append(others, m)
		}
	}
	n.tr.Send(others)
	for _, m := range storage {
		var err error
		if m.GetTo() == raft.LocalAppendThread {
			err = n.storageAppend(m)
		} else {
			err = n.apply(m.GetEntries(), m.GetResponses())
		}
		if err != nil {
			return err
		}
	}
	if rd.SoftState != nil && rd.SoftState.RaftState != raft.StateLeader && n.leading {
		n.logger.Info("keel: replica: lost leadership", "state", rd.SoftState.RaftState, "lead", rd.SoftState.Lead)
		n.follow()
	}
	for _, rs := range rd.ReadStates {
		if r, ok := n.reads[string(rs.RequestCtx)]; ok {
			n.finishRead(r, rs.Index, nil)
		}
	}
	return nil
}

// appendTask is a MsgStorageAppend for the writer, or a barrier it
// closes once everything before it is written.
type appendTask struct {
	m       *pb.Message
	barrier chan struct{}
}

// storageAppend hands raft's MsgStorageAppend to the writer. One that
// carries a snapshot is done here, once the writer wrote everything
// before it: installing a snapshot replaces the node's state.
func (n *Node) storageAppend(m *pb.Message) error {
	if raft.IsEmptySnap(m.GetSnapshot()) {
		select {
		case n.appendc <- appendTask{m: m}:
			return nil
		case <-n.stopc:
			return ErrClosed
		}
	}
	b := make(chan struct{})
	select {
	case n.appendc <- appendTask{barrier: b}:
	case <-n.stopc:
		return ErrClosed
	}
	select {
	case <-b:
	case <-n.stopc:
		return ErrClosed
	}
	if err := n.Failure(); err != nil {
		return err
	}
	if err := n.installSnapshot(m.GetSnapshot()); err != nil {
		return err
	}
	if err := n.persist([]*pb.Message{m}); err != nil {
		return err
	}
	n.deliver(m.GetResponses())
	return nil
}

// writer writes what raft asks the log to hold, in order: the entries
// and hard states of every MsgStorageAppend queued while it wrote the
// last ones go out together, with one fsync, and then their answers (to
// this node, and the acknowledgements to the leader).
func (n *Node) writer() {
	defer close(n.writerDone)
	var batch []*pb.Message
	for t := range n.appendc {
		batch = batch[:0]
		var barrier chan struct{}
		for {
			if t.barrier != nil {
				barrier = t.barrier
				break
			}
			batch = append(batch, t.m)
			var ok bool
			select {
			case t, ok = <-n.appendc:
			default:
			}
			if !ok {
				break
			}
		}
		if len(batch) > 0 && n.Failure() == nil {
			t0 := time.Now()
			if err := n.persist(batch); err != nil {
				err = kerr.Errorf("keel: replica: log: %w", err)
				n.logger.Error("keel: replica: stopped", "err", err)
				n.fatal.CompareAndSwap(nil, &err)
				n.clog.fail(err)
				n.appliedMoved()
				n.kick()
			} else {
				entries := 0
				for _, m := range batch {
					entries += len(m.GetEntries())
				}
				n.stats.wrote(entries, time.Since(t0))
				for _, m := range batch {
					n.deliver(m.GetResponses())
				}
			}
		}
		if barrier != nil {
			close(barrier)
		}
	}
}

// persist writes the entries and hard states of ms, in order, and makes
// them durable: a new term or vote is fsynced before it counts, the
// entries with one fsync at the end, and a commit index (which need not
// be durable) is written after the entries it covers.
func (n *Node) persist(ms []*pb.Message) error {
	cur := n.log.HardState()
	var commit *wal.HardState
	wrote := false
	for _, m := range ms {
		if m.Term != nil { // the message carries a hard state
			hs := wal.HardState{Term: m.GetTerm(), Vote: m.GetVote(), Commit: m.GetCommit()}
			if hs.Term != cur.Term || hs.Vote != cur.Vote {
				if wrote {
					// The entries before it first: its commit index
					// may cover them.
					if err := n.log.Sync(); err != nil {
						return err
					}
					wrote = false
				}
				// The commit index may cover this message's entries,
				// not written yet: the term and vote go out now with
				// the commit index the log already covers, the new one
				// once the entries are durable.
				durable := hs
				durable.Commit = cur.Commit
				if commit != nil {
					durable.Commit = commit.Commit
				}
				if err := n.log.SetHardState(durable, true); err != nil {
					return err
				}
				cur, commit = durable, nil
				if hs != cur {
					commit = &hs
				}
			} else if hs != cur {
				commit = &hs
			}
		}
		if len(m.GetEntries()) > 0 {
			ents := make([]wal.RaftEntry, len(m.GetEntries()))
			for i, e := range m.GetEntries() {
				ents[i] = fromEntry(e)
			}
			if err := n.log.Append(ents, false); err != nil {
				return err
			}
			n.store.appended(m.GetEntries())
			wrote = true
		}
	}
	if wrote {
		if err := n.log.Sync(); err != nil {
			return err
		}
	}
	if commit != nil {
		return n.log.SetHardState(*commit, false)
	}
	return nil
}

// apply applies committed entries: while leading they are the node's own
// commits, already in its state, and are released; otherwise the records
// go to the applier, which replays them into the state while the loop
// goes on. Configuration changes go to raft here.
//
// resps are raft's answers to deliver once the entries are applied.
func (n *Node) apply(ents []*pb.Entry, resps []*pb.Message) error {
	if len(ents) == 0 {
		n.deliver(resps)
		return nil
	}
	var records []wal.RaftEntry
	last := n.applied
	for _, e := range ents {
		idx := e.GetIndex()
		if idx <= n.applied {
			continue
		}
		last = idx
		switch e.GetType() {
		case pb.EntryConfChange, pb.EntryConfChangeV2:
			n.applyConf(e)
		default:
			n.commits += uint64(wal.Commits(e.GetData()))
			if !n.leading && len(e.GetData()) > 0 {
				records = append(records, fromEntry(e))
			}
		}
	}
	n.counted(last)
	if n.leading {
		n.applied = last
		n.clog.release(last, nil)
		n.clog.resolve(last)
		n.clog.released(last)
		n.done.Store(last)
		n.appliedMoved()
		n.deliver(resps)
	} else {
		// applied moves once the task is handed over: drain waits for
		// done to reach it.
		select {
		case n.applyc <- applyTask{records: records, through: last, resps: resps}:
			n.applied = last
		case <-n.stopc:
			return ErrClosed
		}
	}
	n.maybeSnapshot()
	return nil
}

// applyTask is committed entries for the applier.
type applyTask struct {
	records []wal.RaftEntry
	through uint64
	resps   []*pb.Message // raft's answers, once applied
}

// applier replays the records the raft loop hands it, in order, into the
// following runtime's state.
func (n *Node) applier() {
	defer close(n.appliedDone)
	for t := range n.applyc {
		if n.Failure() != nil {
			continue
		}
		err := n.rt.Apply(t.through, func(db *table.DB) (uint64, error) {
			txid, err := n.log.Apply(db, t.records)
			if err == nil {
				n.clog.reset(t.through) // under the executor's lock: Capture sees both or neither
			}
			return txid, err
		})
		if err != nil {
			err = kerr.Errorf("keel: replica: apply: %w", err)
			n.logger.Error("keel: replica: stopped", "err", err)
			n.fatal.CompareAndSwap(nil, &err)
			n.clog.fail(err)
			n.appliedMoved() // wakes drain, which sees the failure
			n.kick()
			continue
		}
		n.done.Store(t.through)
		n.appliedMoved()
		n.deliver(t.resps) // wakes the loop, which may be waiting for the applier to lead
	}
}

// drained reports whether the applier applied everything handed to it.
func (n *Node) drained() bool { return n.done.Load() == n.applied }

// drain waits for the applier to apply everything handed to it. It
// reports false when it gave up: the applier failed or the node is
// closing.
func (n *Node) drain() bool {
	for {
		n.mu.Lock()
		ch := n.appliedCh // closed by the applier once done moves, or it failed
		n.mu.Unlock()
		if n.drained() {
			return true
		}
		if n.Failure() != nil {
			return false
		}
		select {
		case <-ch:
		case <-n.stopc:
			return false
		}
	}
}

// applyConf applies a committed configuration change.
func (n *Node) applyConf(e *pb.Entry) {
	var cc pb.ConfChangeI
	if e.GetType() == pb.EntryConfChange {
		var c pb.ConfChange
		if err := proto.Unmarshal(e.GetData(), &c); err != nil {
			n.logger.Error("keel: replica: bad configuration change", "index", e.GetIndex(), "err", err)
			return
		}
		cc = &c
	} else {
		var c pb.ConfChangeV2
		if err := proto.Unmarshal(e.GetData(), &c); err != nil {
			n.logger.Error("keel: replica: bad configuration change", "index", e.GetIndex(), "err", err)
			return
		}
		cc = &c
	}
	n.confState = n.rn.ApplyConfChange(cc)
	n.confIndex = e.GetIndex()
	// A node added needs a snapshot whose configuration holds it, once
	// the log before it was compacted: take one soon.
	n.wantSnap = true
	for _, ch := range cc.AsV2().GetChanges() {
		id := ch.GetNodeId()
		switch ch.GetType() {
		case pb.ConfChangeAddNode, pb.ConfChangeAddLearnerNode:
			if ctx := cc.AsV2().GetContext(); len(ctx) > 0 && id != n.id {
				n.mu.Lock()
				n.addrs[id] = string(ctx)
				n.mu.Unlock()
				n.tr.AddPeer(id, string(ctx))
			}
		case pb.ConfChangeRemoveNode:
			if id == n.id {
				n.removed.Store(true)
				n.logger.Info("keel: replica: removed from the cluster")
			} else {
				n.tr.RemovePeer(id)
			}
		}
	}
	n.mu.Lock()
	n.status.Members = append(n.status.Members[:0], n.confState.GetVoters()...)
	n.mu.Unlock()
}

// follow stops the runtime taking writes: the commits not released are
// taken back, and their calls fail with ErrOutcomeUnknown.
func (n *Node) follow() {
	n.leading = false
	n.captured = nil // it holds commits that may never be applied
	n.ready.Store(false)
	n.rt.Follow(n.notLeader(), ErrOutcomeUnknown, func() { n.clog.reset(n.done.Load()) })
}

// maybeLead opens the runtime to writes once the node leads and has
// applied its whole log: the entries of earlier terms are committed
// (raft commits them with the new leader's first entry) and in the state,
// so that the calls it runs next see all of them.
func (n *Node) maybeLead() {
	if n.leading {
		return
	}
	st := n.rn.BasicStatus()
	if st.RaftState != raft.StateLeader || n.applied < n.log.LastIndex() || !n.drained() {
		return
	}
	if t, err := n.log.Term(n.applied); err != nil || t != st.GetTerm() {
		return
	}
	if _, ok := n.confState2().voter(n.id); !ok {
		return
	}
	fresh := false
	n.rt.Lead(func(db *table.DB) {
		n.clog.reset(n.applied)
		if v, err := tx.View(db); err == nil && v.TxID == 0 {
			fresh = true
		}
	})
	n.leading = true
	n.logger.Info("keel: replica: leading", "term", st.GetTerm(), "applied", n.applied)
	var init *reducer.Def
	for _, d := range n.cfg.Module.Reducers {
		if d.IsInit() {
			init = d
		}
	}
	if !fresh || init == nil {
		n.ready.Store(true)
		return
	}
	// A new cluster: its first leader runs the init reducer before any
	// call (a later leader finds its commit applied).
	c := &runtime.Call{Reducer: init, Body: initBody{init}, Notify: func(c *runtime.Call) {
		if c.Err() == nil {
			n.ready.Store(true)
		} else {
			n.logger.Warn("keel: replica: init reducer", "err", c.Err())
		}
	}}
	if err := n.rt.Submit(c); err != nil {
		n.logger.Warn("keel: replica: init reducer", "err", err)
	}
}

type initBody struct{ d *reducer.Def }

func (b initBody) Run(c *reducer.Ctx) error {
	_, err := b.d.CallEncoded(c, nil)
	return err
}

type confView struct{ cs *pb.ConfState }

func (n *Node) confState2() confView { return confView{n.confState} }

func (c confView) voter(id uint64) (int, bool) {
	if c.cs == nil {
		return 0, false
	}
	i := slices.Index(c.cs.GetVoters(), id)
	return i, i >= 0
}

// stop records a fatal error: the node takes no more writes.
func (n *Node) stop(err error) {
	n.logger.Error("keel: replica: stopped", "err", err)
	n.drain()
	n.fatal.CompareAndSwap(nil, &err)
	n.leading = false
	n.ready.Store(false)
	n.rt.Follow(err, ErrOutcomeUnknown, func() { n.clog.reset(n.done.Load()) })
	n.clog.fail(err)
}

// publish updates the status other goroutines read.
func (n *Node) publish() {
	st := n.rn.BasicStatus()
	n.mu.Lock()
	defer n.mu.Unlock()
	s := &n.status
	s.ID, s.Term, s.Leader, s.Commit, s.Applied = n.id, st.GetTerm(), st.Lead, st.GetCommit(), n.done.Load()
	s.Role = roleName(st.RaftState)
	s.Addr = n.addrs[n.id]
	s.FirstIndex, s.LastIndex = n.log.FirstIndex(), n.log.LastIndex()
	s.Snapshot = n.log.Snapshot().Index
	if n.confState != nil {
		s.Members = append(s.Members[:0], n.confState.GetVoters()...)
	}
}

func roleName(s raft.StateType) string {
	switch s {
	case raft.StateLeader:
		return "leader"
	case raft.StateCandidate:
		return "candidate"
	case raft.StatePreCandidate:
		return "pre-candidate"
	}
	return "follower"
}

// appliedMoved wakes those waiting for the applied index to move.
func (n *Node) appliedMoved() {
	n.mu.Lock()
	n.status.Applied = n.done.Load()
	close(n.appliedCh)
	n.appliedCh = make(chan struct{})
	n.mu.Unlock()
}
