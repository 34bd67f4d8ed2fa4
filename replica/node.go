package replica

import (
	"cmp"
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/host"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/internal/logs"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/wal"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Peer is a member of the cluster: its raft id and the address its
// transport listens on.
type Peer struct {
	ID   uint64
	Addr string
}

// Config configures a node.
type Config struct {
	// ID is the node's raft id, never 0.
	ID uint64
	// Dir is the node's data directory (see wal.RaftLog).
	Dir    string
	Module *keel.Module
	// Peers are the cluster's first members, this node among them. A
	// node whose directory is new bootstraps the cluster with them; a
	// node that joins a running cluster (Join) or restarts ignores them
	// except for their addresses.
	Peers []Peer
	// Join starts a new node that a member added to the cluster
	// (Node.AddMember): it waits for the leader to send it the log or a
	// snapshot.
	Join bool
	// Transport carries raft's messages; the node registers itself with
	// it (Transport.Start).
	Transport Transport

	// Tick is raft's clock period; 0 means 100ms. ElectionTicks and
	// HeartbeatTicks are in ticks; 0 means 10 and 1: an election starts
	// after 1 to 2 s without a leader. ElectionTicks must be more than
	// HeartbeatTicks. Open refuses a negative number in any field of
	// Config (ErrConfig) but SnapshotEvery.
	Tick           time.Duration
	ElectionTicks  int
	HeartbeatTicks int
	// SnapshotEvery takes a snapshot after that many applied commits
	// since the last; 0 means 10,000, a negative value never.
	// SnapshotRetain is how many entries the log keeps behind a
	// snapshot, for followers a little behind; 0 means 5,000. An entry
	// holds one commit, or the group of commits that ran between two
	// proposals (up to 256 KiB of records): under load the entries
	// retained hold many more commits than SnapshotRetain. A node that
	// restarts keeps them too (with those its log's segment files still
	// hold before them), and serves from its log a follower whose last
	// entry is one of them.
	SnapshotEvery  int
	SnapshotRetain uint64
	// SegmentSize is the log's segment size; 0 is wal's default.
	SegmentSize int

	// Logger, Clock, After, QueueCalls, QueueBytes and FailFast are as
	// in keel.Options: Clock is every transaction's time and the
	// scheduler's (the module's schedule tables), After the scheduler's
	// wait; it runs on the leader only: see the package doc, "Scheduled
	// reducers".
	Logger     *slog.Logger
	Clock      func() time.Time
	After      func(d time.Duration) <-chan time.Time
	QueueCalls int
	QueueBytes int64
	FailFast   bool
}

// Node is one member of a replicated Keel database: the module's tables
// and executor (package runtime), a raft node (go.etcd.io/raft/v3) whose
// log is the node's Keel log (wal.RaftLog), and a transport. It is safe
// for concurrent use, and it is a keel.Conn and a keel.Viewer: generated
// clients call through it.
type Node struct {
	cfg    Config
	id     uint64
	logger *slog.Logger
	log    *wal.RaftLog
	store  *storage // raft's Storage over log, with its recent entries
	clog   *commitLog
	rt     *runtime.Runtime
	rn     *raft.RawNode
	tr     Transport

	kickc   chan struct{}
	kicked  bool // the raft loop took a kick it has not proposed for yet
	recvc   chan *pb.Message
	readc   chan *readReq
	reportc chan report
	stopc   chan struct{}
	donec   chan struct{}
	stopMu  sync.Mutex
	closed  bool
	shut    atomic.Bool   // Close began: check refuses calls with ErrClosed
	closedc chan struct{} // closed once Close has closed the log

	// The raft loop's own state.
	applied     uint64        // the last committed entry released or handed to the applier
	done        atomic.Uint64 // the last entry whose state the runtime holds
	applyc      chan applyTask
	appliedDone chan struct{} // closed when the applier ends
	appendc     chan appendTask
	writerDone  chan struct{} // closed when the writer ends
	localMu     sync.Mutex
	localq      []*pb.Message // answers of the writer and the applier, for the loop
	localc      chan struct{}
	leading     bool // the runtime takes writes
	confState   *pb.ConfState
	confIndex   uint64 // the last configuration change applied
	lastSnap    uint64
	wantSnap    bool // a snapshot is due whatever the count (a configuration change)
	// captured is a leader's state captured with commits in flight, which
	// it holds until they are applied (maybeSnapshot), or nil.
	captured *capturedState
	// commits counts the commits in the entries applied or handed to the
	// applier since the node opened, snapCommits those the last snapshot
	// holds, and commitMarks the counts at the entries handed over since
	// (SnapshotEvery counts commits, and entries hold groups of them).
	commits     uint64
	snapCommits uint64
	commitMarks []commitMark
	snapping    atomic.Bool
	snapWG      sync.WaitGroup // the snapshot being written, which Close waits for
	reads       map[string]*readReq
	readSeq     atomic.Uint64 // the ReadIndex requests handed to raft
	readNonce   uint64        // tells this life's requests from those before a restart

	// Published for other goroutines.
	mu        sync.Mutex
	status    Status
	addrs     map[uint64]string
	appliedCh chan struct{} // closed and replaced when applied moves
	ready     atomic.Bool   // leads, and the init reducer (if any) ran
	removed   atomic.Bool   // the node applied its own removal
	heard     atomic.Int64  // unix nanos of the last message from the leader
	fatal     atomic.Pointer[error]
	stats     pipeStats
}

// Status is what a node says about itself.
type Status struct {
	ID      uint64 `json:"id"`
	Role    string `json:"role"` // leader, follower, candidate, pre-candidate
	Term    uint64 `json:"term"`
	Leader  uint64 `json:"leader"`
	Commit  uint64 `json:"commit"`
	Applied uint64 `json:"applied"`
	Addr    string `json:"addr"`
	// Members are the voters of the configuration applied.
	Members []uint64 `json:"members"`
	// FirstIndex and LastIndex are the first and last entries of the
	// node's log; Snapshot the entry of its newest snapshot.
	FirstIndex uint64 `json:"first_index"`
	LastIndex  uint64 `json:"last_index"`
	Snapshot   uint64 `json:"snapshot"`
}

// check returns an error matching ErrConfig for a missing field, a
// negative one, or an election timeout no longer than the heartbeat.
func (cfg Config) check() error {
	switch {
	case cfg.ID == 0:
		return kerr.Errorf("keel: replica: Config.ID is 0; a raft id is never 0: %w", ErrConfig)
	case cfg.Module == nil:
		return kerr.Errorf("keel: replica: Config.Module is nil: %w", ErrConfig)
	case cfg.Transport == nil:
		return kerr.Errorf("keel: replica: Config.Transport is nil: %w", ErrConfig)
	case cfg.Tick < 0:
		return kerr.Errorf("keel: replica: Config.Tick is %v, negative; 0 means its default: %w", cfg.Tick, ErrConfig)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"ElectionTicks", int64(cfg.ElectionTicks)}, {"HeartbeatTicks", int64(cfg.HeartbeatTicks)}, {"SegmentSize", int64(cfg.SegmentSize)},
		{"QueueCalls", int64(cfg.QueueCalls)}, {"QueueBytes", cfg.QueueBytes}} {
		if f.v < 0 {
			return kerr.Errorf("keel: replica: Config.%s is %d, negative; 0 means its default: %w", f.name, f.v, ErrConfig)
		}
	}
	election, heartbeat := cmp.Or(cfg.ElectionTicks, 10), cmp.Or(cfg.HeartbeatTicks, 1)
	if election <= heartbeat {
		return kerr.Errorf("keel: replica: Config.ElectionTicks (%d) must be more than HeartbeatTicks (%d): %w", election, heartbeat, ErrConfig)
	}
	return nil
}

// Open opens (or creates) the node's data directory and starts the node.
func Open(cfg Config) (*Node, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	if cfg.ElectionTicks <= 0 {
		cfg.ElectionTicks = 10
	}
	if cfg.HeartbeatTicks <= 0 {
		cfg.HeartbeatTicks = 1
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = 10_000
	}
	if cfg.SnapshotRetain == 0 {
		cfg.SnapshotRetain = 5_000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	m := cfg.Module
	l, err := wal.OpenRaft(cfg.Dir, m.Name, m.Tables, wal.Options{Logger: cfg.Logger, SegmentSize: cfg.SegmentSize})
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, id: cfg.ID, logger: cfg.Logger.With("node", cfg.ID), log: l, tr: cfg.Transport,
		kickc: make(chan struct{}, 1), recvc: make(chan *pb.Message, 4096), readc: make(chan *readReq, 1024), reportc: make(chan report, 1024),
		stopc: make(chan struct{}), donec: make(chan struct{}), closedc: make(chan struct{}), applied: l.Applied(), reads: map[string]*readReq{},
		addrs: map[uint64]string{}, appliedCh: make(chan struct{}),
		applyc: make(chan applyTask, 256), appliedDone: make(chan struct{}),
		appendc: make(chan appendTask, 1024), writerDone: make(chan struct{}), localc: make(chan struct{}, 1)}
	n.done.Store(n.applied)
	n.readNonce = rand.Uint64()
	n.lastSnap = l.Snapshot().Index
	cs, addrs, err := decodeMeta(l.Snapshot().Meta)
	if err != nil {
		l.Close()
		return nil, kerr.Errorf("keel: replica: snapshot metadata: %w", err)
	}
	n.confState = cs
	// A configuration that has members but not this node is one the node
	// was removed from (a node that joins starts with none): it refuses
	// calls as it did once it applied its removal.
	if member := slices.Contains(cs.GetVoters(), n.id) || slices.Contains(cs.GetLearners(), n.id) ||
		slices.Contains(cs.GetVotersOutgoing(), n.id) || slices.Contains(cs.GetLearnersNext(), n.id); !member && len(cs.GetVoters()) > 0 {
		n.removed.Store(true)
	}
	for id, a := range addrs {
		n.addrs[id] = a
	}
	for _, p := range cfg.Peers {
		n.addrs[p.ID] = p.Addr
	}
	n.clog = newCommitLog(n, n.applied)
	n.store = &storage{l: l}
	// The runtime follows from the start (its scheduler too), until the
	// node leads (maybeLead).
	rt, err := runtime.NewFollowing(host.Config{Module: m.Name, Reducers: m.Reducers, Schedules: m.Schedules, DB: l.DB(), Existing: true,
		Log: n.clog, Logger: logs.Adapt(cfg.Logger), Clock: cfg.Clock, After: cfg.After, QueueCalls: cfg.QueueCalls, QueueBytes: cfg.QueueBytes,
		FailFast: cfg.FailFast}, n.notLeader())
	if err != nil {
		l.Close()
		return nil, err
	}
	n.rt = rt
	rn, err := raft.NewRawNode(raftConfig(cfg, n.store, n.applied, raftLogger{n.logger}))
	if err != nil {
		rt.Close()
		l.Close()
		return nil, kerr.Errorf("keel: replica: %w", err)
	}
	n.rn = rn
	hs := l.HardState()
	if l.LastIndex() == 0 && hs.Term == 0 && !cfg.Join {
		peers := make([]raft.Peer, len(cfg.Peers))
		for i, p := range cfg.Peers {
			peers[i] = raft.Peer{ID: p.ID, Context: []byte(p.Addr)}
		}
		if len(peers) == 0 {
			peers = []raft.Peer{{ID: cfg.ID}}
		}
		if err := rn.Bootstrap(peers); err != nil {
			rt.Close()
			l.Close()
			return nil, kerr.Errorf("keel: replica: bootstrap: %w", err)
		}
	}
	n.publish()
	n.tr.Start(n)
	for id, a := range n.addrs {
		if id != n.id {
			n.tr.AddPeer(id, a)
		}
	}
	go n.applier()
	go n.writer()
	go n.run()
	return n, nil
}

// ID returns the node's raft id.
func (n *Node) ID() uint64 { return n.id }

// Module returns the module the node runs.
func (n *Node) Module() *keel.Module { return n.cfg.Module }

// Status returns what the node says about itself.
func (n *Node) Status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.status
	s.Members = append([]uint64(nil), s.Members...)
	return s
}

// Addr returns the address of member id, or "".
func (n *Node) Addr(id uint64) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addrs[id]
}

// Step hands the node a message from another node (the transport's
// receiving side).
func (n *Node) Step(ctx context.Context, m *pb.Message) error {
	select {
	case n.recvc <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopc:
		return ErrClosed
	}
}

func (n *Node) kick() {
	select {
	case n.kickc <- struct{}{}:
	default:
	}
}

// notLeader is the error of a call the node refuses.
func (n *Node) notLeader() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return &NotLeaderError{Node: n.id, Leader: n.status.Leader, Addr: n.addrs[n.status.Leader]}
}

// Failure returns the error that stopped the node, or nil.
func (n *Node) Failure() error {
	if p := n.fatal.Load(); p != nil {
		return *p
	}
	return nil
}

// Close stops the node: calls waiting for their commit fail with
// ErrOutcomeUnknown, the raft loop stops, a snapshot being written is
// finished, and the log is closed. A call that runs meanwhile (a
// client's, or a scheduled row's) fails with ErrOutcomeUnknown if it
// committed before the runtime stopped taking writes, and is refused
// after (ErrClosed, or runtime.ErrClosed for a call that got past the
// node's own check before Close began); Close fails neither the runtime
// nor its scheduler. Calls made once Close began fail with ErrClosed.
// A Close made while another runs returns, with nil, once that one has
// closed the log.
func (n *Node) Close() error {
	n.stopMu.Lock()
	if n.closed {
		n.stopMu.Unlock()
		<-n.closedc
		return nil
	}
	n.closed = true
	n.shut.Store(true)
	n.stopMu.Unlock()
	close(n.stopc)
	<-n.donec
	<-n.appliedDone
	<-n.writerDone
	n.snapWG.Wait() // only the raft loop starts one
	n.tr.Stop()
	// The runtime stops taking writes first: a commit appended before
	// is taken back with the others not released, and a call after is
	// refused. The log failing first would fail a commit appended in
	// between, and with it the runtime, as a log that broke.
	n.rt.Follow(errClosing{}, ErrOutcomeUnknown, func() { n.clog.reset(n.done.Load()) })
	n.clog.fail(ErrClosed)
	n.rt.Close()
	defer close(n.closedc)
	return n.log.Close()
}

// errClosing is the refusal of the calls a closing node's runtime gets:
// ErrClosed, which is runtime.ErrClosed too, so that the runtime's
// scheduler stops without a word instead of waiting to lead again.
type errClosing struct{}

func (errClosing) Error() string { return ErrClosed.Error() }
func (errClosing) Is(target error) bool {
	return target == ErrClosed || target == runtime.ErrClosed
}

// Check verifies every index of every table against its primary key.
func (n *Node) Check() error {
	return n.rt.Capture(func(d *tableDB, _ uint64) error { return txCheck(d) })
}

// raftConfig is the raft configuration of node cfg.ID. Proposals are
// never forwarded: a leader's entries hold commits it ran against its own
// state, so a node that stepped down (raft learns of a new term in a
// message before the raft loop sees the Ready that says so) must not hand
// the entries it still proposes to the new leader, which would commit
// them after its own; raft drops them instead (ErrProposalDropped), and
// the node takes its commits back. It also means that raft keeps no
// proposed entry: it appends copies. A leader that applies its own
// removal steps down (StepDownOnRemoval): otherwise raft keeps it leader,
// heartbeating the members left, which then never elect one of their
// own, while it can propose nothing.
func raftConfig(cfg Config, st raft.Storage, applied uint64, logger raft.Logger) *raft.Config {
	return &raft.Config{ID: cfg.ID, ElectionTick: cfg.ElectionTicks, HeartbeatTick: cfg.HeartbeatTicks,
		Storage: st, Applied: applied, MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256,
		MaxCommittedSizePerReady: 64 << 20, CheckQuorum: true, PreVote: true, ReadOnlyOption: raft.ReadOnlySafe,
		AsyncStorageWrites: true, DisableProposalForwarding: true, StepDownOnRemoval: true,
		Logger: logger}
}
