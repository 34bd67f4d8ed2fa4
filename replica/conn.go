package replica

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	pb "go.etcd.io/raft/v3/raftpb"
)

// A Node is a keel.Conn: calls run on the leader only. A node that does
// not lead refuses them, before they run, with a *NotLeaderError that
// names the leader and its address: calls are not forwarded (the caller
// knows best whether to send them on; the cluster example's client does).
// A call the leader ran returns once its commit is committed (a quorum
// of members fsynced its entry) and applied, or fails with
// ErrOutcomeUnknown when the leader lost its leadership first.
var _ keel.Conn = (*Node)(nil)

// check refuses a call the node cannot run.
func (n *Node) check(c *keel.Call) error {
	if n.shut.Load() {
		return ErrClosed
	}
	if err := n.Failure(); err != nil {
		return err
	}
	if n.removed.Load() {
		return ErrRemoved
	}
	if !n.ready.Load() {
		return n.notLeader()
	}
	if c.Reducer != nil {
		return n.rt.Check(c.Reducer)
	}
	return nil
}

// refused reports whether err is the error of a call the node did not
// run because it takes no calls at all, where another node may: it was
// removed (ErrRemoved), it is closed or closing (ErrClosed, and the
// runtime's runtime.ErrClosed), its log or applier failed (Failure), or
// its runtime stopped taking writes (its own failure, a read-only or
// broken database). Such a call never committed: a commit the node may
// have handed to raft fails with ErrOutcomeUnknown instead, which the
// caller checks first. A reducer's error that wraps one of these
// matches too.
func (n *Node) refused(err error) bool {
	switch {
	case errors.Is(err, ErrRemoved), errors.Is(err, ErrClosed), errors.Is(err, runtime.ErrClosed),
		errors.Is(err, runtime.ErrReadOnly), errors.Is(err, runtime.ErrBroken):
		return true
	}
	if f := n.Failure(); f != nil && errors.Is(err, f) {
		return true
	}
	if f := n.rt.Failure(); f != nil && errors.Is(err, f) {
		return true
	}
	return false
}

// Do runs c on the leader and waits for its outcome.
func (n *Node) Do(c *keel.Call) error {
	if err := n.check(c); err != nil {
		return err
	}
	return n.rt.Do(c)
}

// Submit queues c on the leader and returns at once.
func (n *Node) Submit(c *keel.Call) error {
	if err := n.check(c); err != nil {
		return err
	}
	return n.rt.Submit(c)
}

// SubmitAll queues calls in order on the leader.
func (n *Node) SubmitAll(calls []*keel.Call) (int, error) {
	for i, c := range calls {
		if err := n.check(c); err != nil {
			if i == 0 {
				return 0, err
			}
			k, qerr := n.rt.SubmitAll(calls[:i])
			if qerr != nil {
				return k, qerr
			}
			return i, err
		}
	}
	return n.rt.SubmitAll(calls)
}

// CallEncoded runs the reducer name with encoded arguments on the leader
// and returns its encoded result (see reducer.Def.CallEncoded).
func (n *Node) CallEncoded(ctx context.Context, caller reducer.Identity, name string, args []byte) ([]byte, error) {
	if err := n.check(&keel.Call{}); err != nil {
		return nil, err
	}
	return n.rt.CallEncoded(ctx, caller, name, args)
}

// Update runs fn as a transaction of no reducer on the leader, for tools
// and tests.
func (n *Node) Update(ctx context.Context, caller reducer.Identity, fn func(*reducer.Ctx) error) error {
	if err := n.check(&keel.Call{}); err != nil {
		return err
	}
	return n.rt.Update(ctx, caller, fn)
}

// AddMember adds node id, whose transport listens at addr, to the
// cluster as a voter, through a raft configuration change; it returns
// once the change is committed and applied here. Start the new node with
// Config.Join. Only the leader adds members.
func (n *Node) AddMember(ctx context.Context, id uint64, addr string) error {
	return n.changeConf(ctx, &pb.ConfChangeSingle{Type: pb.ConfChangeAddNode.Enum(), NodeId: new(id)}, []byte(addr))
}

// RemoveMember removes node id from the cluster. Only the leader removes
// members; a leader that removes itself steps down once the change is
// applied.
func (n *Node) RemoveMember(ctx context.Context, id uint64) error {
	return n.changeConf(ctx, &pb.ConfChangeSingle{Type: pb.ConfChangeRemoveNode.Enum(), NodeId: new(id)}, nil)
}

func (n *Node) changeConf(ctx context.Context, ch *pb.ConfChangeSingle, context []byte) error {
	if err := n.check(&keel.Call{}); err != nil {
		return err
	}
	cc := &pb.ConfChangeV2{Changes: []*pb.ConfChangeSingle{ch}, Context: context}
	// The change takes its index among the commits, from the executor, so
	// that the indexes the runtime hands out stay raft's; the call
	// returns once that index is committed and applied, the change with
	// it (or, if raft refused it while another change was pending, an
	// empty entry in its place).
	err := n.rt.Update(ctx, "", func(*reducer.Ctx) error {
		_, err := n.clog.appendConf(cc)
		return err
	})
	if err != nil {
		return kerr.Errorf("keel: replica: configuration change: %w", err)
	}
	members := n.Status().Members
	in := slices.Contains(members, ch.GetNodeId())
	if in != (ch.GetType() == pb.ConfChangeAddNode) {
		return fmt.Errorf("keel: replica: configuration change of node %d was not applied (another change was pending): try again", ch.GetNodeId())
	}
	return nil
}
