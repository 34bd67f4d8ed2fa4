package replica

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestReviewClientLeaderNamesItself: a leader that does not take calls
// yet (it applies the log of the terms before its own) refuses them with
// 421 naming itself; the client sends the call again after a pause, not
// at once: in 100 ms the pauses (1 ms doubling to 50 ms) leave room for
// about 7 requests, and timers never fire early, so however loaded the
// machine no more than that are made (without the pauses a client makes
// hundreds on loopback).
func TestReviewClientLeaderNamesItself(t *testing.T) {
	var self atomic.Value
	var calls atomic.Int64
	addr := serveNode(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-Keel-Leader", "1")
		w.Header().Set("X-Keel-Leader-Addr", self.Load().(string))
		http.Error(w, "keel: replica: node 1 is not the leader: node 1 at "+self.Load().(string)+" is", http.StatusMisdirectedRequest)
	}))
	self.Store(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := NewClient(addr).CallEncoded(ctx, "alice", "AddPost", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CallEncoded against a leader that takes no calls yet: %v, want the context's deadline", err)
	}
	if n := calls.Load(); n > 15 {
		t.Fatalf("%d requests in 100 ms, want a few (the pauses bound them to about 7)", n)
	}
}

// TestReviewClientErrorPrefix: the client's errors for a node's answers
// hold "keel:" once, name the node, and an unknown outcome still matches
// ErrOutcomeUnknown.
func TestReviewClientErrorPrefix(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    int
		outcome string
		body    string
		unknown bool
	}{
		{"unknown", http.StatusServiceUnavailable, "unknown", ErrOutcomeUnknown.Error(), true},
		{"no such reducer", http.StatusNotFound, "", "keel: unknown reducer Nope", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveNode(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.outcome != "" {
					w.Header().Set("X-Keel-Outcome", tc.outcome)
				}
				http.Error(w, tc.body, tc.code)
			}))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := NewClient(addr).CallEncoded(ctx, "alice", "Nope", nil)
			if err == nil {
				t.Fatal("CallEncoded: no error")
			}
			if errors.Is(err, ErrOutcomeUnknown) != tc.unknown {
				t.Fatalf("%v: errors.Is(err, ErrOutcomeUnknown) is %v", err, !tc.unknown)
			}
			msg := err.Error()
			if strings.Count(msg, "keel:") != 1 || !strings.HasPrefix(msg, "keel: ") {
				t.Fatalf("error %q: want one \"keel:\" prefix", msg)
			}
			if !strings.Contains(msg, addr) {
				t.Fatalf("error %q does not name the node at %s", msg, addr)
			}
			if tc.unknown && strings.Count(msg, "outcome is unknown") != 1 {
				t.Fatalf("error %q says twice that the outcome is unknown", msg)
			}
		})
	}
}
