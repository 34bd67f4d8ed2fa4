package replica

import (
	"errors"
	"fmt"
)

var (
	// ErrNotLeader matches a *NotLeaderError: a call sent to a node that
	// does not lead, which refuses it (it never ran).
	ErrNotLeader = errors.New("keel: replica: not the leader")
	// ErrOutcomeUnknown is the error of a call whose transaction ran on a
	// leader that lost its leadership before a quorum was known to hold
	// the commit: the commit may still be committed by the next leader,
	// or not. Nothing this node showed (views, listeners) ever held it.
	// A caller that must know reads the state (a linearizable view) or
	// makes its calls idempotent.
	ErrOutcomeUnknown = errors.New("keel: replica: lost leadership before the call's commit was known to be committed: its outcome is unknown")
	// ErrClosed is returned by calls to a closed node, which did not
	// run them (a call whose commit the node may have handed to raft
	// before it closed fails with ErrOutcomeUnknown instead).
	ErrClosed = errors.New("keel: replica: node closed")
	// ErrStale is returned by a stale view of a node that has not heard
	// from a leader within the bound asked for.
	ErrStale = errors.New("keel: replica: the node's state may be staler than asked for")
	// ErrRemoved refuses the calls and reads of a node that applied its
	// own removal from the cluster (Node.RemoveMember), or that opened
	// with a stored configuration without it: it leads no more and no
	// leader sends it anything. The calls it refuses did not run;
	// another member may take them.
	ErrRemoved = errors.New("keel: replica: the node was removed from the cluster")
	// ErrConfig matches Open's error for a Config that lacks a field it
	// needs or holds a value it cannot mean.
	ErrConfig = errors.New("keel: replica: invalid config")
)

// NotLeaderError refuses a call sent to a node that does not lead: calls
// are not forwarded; the caller sends them to Leader at Addr (0 and ""
// while no leader is known, during an election).
type NotLeaderError struct {
	Node   uint64 // the node that refused
	Leader uint64
	Addr   string
}

func (e *NotLeaderError) Error() string {
	if e.Leader == 0 {
		return fmt.Sprintf("keel: replica: node %d is not the leader and knows no leader (an election is under way)", e.Node)
	}
	return fmt.Sprintf("keel: replica: node %d is not the leader: node %d at %s is", e.Node, e.Leader, e.Addr)
}

// Is makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }
