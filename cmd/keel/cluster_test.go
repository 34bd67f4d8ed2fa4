package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keeldb/keel/examples/counters/counter"
	"github.com/keeldb/keel/replica"
)

// TestClusterStatus runs keel cluster status against three nodes over
// HTTP: one leader and two followers in one term, each with the applied
// index it reports itself, as a table and as JSON; then a node stopped
// is shown as down with exit status 1.
func TestClusterStatus(t *testing.T) {
	var peers []replica.Peer
	var lns []net.Listener
	for i := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		peers = append(peers, replica.Peer{ID: uint64(i + 1), Addr: ln.Addr().String()})
	}
	base := t.TempDir()
	var nodes []*replica.Node
	var srvs []*http.Server
	for i := range 3 {
		nd, err := replica.Open(replica.Config{ID: uint64(i + 1), Dir: filepath.Join(base, fmt.Sprint("n", i+1)),
			Module: counter.Module, Peers: peers, Transport: replica.NewHTTPTransport(), Tick: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: replica.Handler(nd)}
		go srv.Serve(lns[i])
		nodes, srvs = append(nodes, nd), append(srvs, srv)
	}
	t.Cleanup(func() {
		for i := range nodes {
			srvs[i].Close()
			nodes[i].Close()
		}
	})
	var urls []string
	for _, p := range peers {
		urls = append(urls, "http://"+p.Addr)
	}
	cl := counter.NewClient(replica.NewClient(peers[0].Addr, peers[1].Addr, peers[2].Addr), "cli")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for want := int64(1); want <= 5; want++ {
		if v, err := cl.Increment(ctx, counter.Global, 1); err != nil || v != want {
			t.Fatalf("Increment: %d, %v; want %d", v, err, want)
		}
	}
	// Wait until every node applied the leader's commit index.
	var leader replica.Status
	for {
		for _, nd := range nodes {
			if s := nd.Status(); s.Role == "leader" {
				leader = s
			}
		}
		caught := leader.Commit > 0
		for _, nd := range nodes {
			if nd.Status().Applied != leader.Commit {
				caught = false
			}
		}
		if caught {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the nodes do not catch up")
		}
		time.Sleep(20 * time.Millisecond)
	}

	out, code := runCmd(append([]string{"cluster", "status"}, urls...)...)
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "URL") || !strings.Contains(lines[0], "APPLIED") {
		t.Fatalf("keel cluster status printed\n%s", out)
	}
	roles := map[string]int{}
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		s := nodes[i].Status()
		want := []string{urls[i], fmt.Sprint(s.ID), s.Role, fmt.Sprint(s.Term), fmt.Sprint(s.Leader), fmt.Sprint(s.Commit), fmt.Sprint(s.Applied)}
		if len(f) < len(want) || strings.Join(f[:len(want)], " ") != strings.Join(want, " ") {
			t.Errorf("line %q, want it to start with %q", l, strings.Join(want, " "))
		}
		if s.Term != leader.Term || s.Applied != leader.Commit {
			t.Errorf("node %d: %+v, leader %+v", s.ID, s, leader)
		}
		roles[s.Role]++
	}
	if roles["leader"] != 1 || roles["follower"] != 2 {
		t.Errorf("roles %v\n%s", roles, out)
	}

	// JSON, and host:port without the scheme.
	out, code = runCmd("cluster", "status", "-json", peers[0].Addr)
	var s replica.Status
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.ID != 1 || s.Applied != leader.Commit || len(s.Members) != 3 {
		t.Fatalf("keel cluster status -json: %d %q", code, out)
	}

	// A node down.
	srvs[2].Close()
	out, code = runCmd(append([]string{"cluster", "status", "-timeout", "1s"}, urls...)...)
	down := false
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[0] == urls[2] && f[2] == "down" {
			down = true
		}
	}
	if code != 1 || !down || !strings.Contains(out, "a node did not answer") {
		t.Fatalf("with node 3 down: exit status %d\n%s", code, out)
	}

	if out, code := runCmd("cluster", "status"); code != 2 || !strings.Contains(out, "usage: keel cluster status") {
		t.Fatalf("no URL: %d %q", code, out)
	}
	if out, code := runCmd("cluster", "status", "-h"); code != 0 || !strings.Contains(out, "applied index") {
		t.Fatalf("-h: %d %q", code, out)
	}
	if out, code := runCmd("-h"); code != 0 || !strings.Contains(out, "keel cluster status URL") {
		t.Fatalf("keel -h: %d %q", code, out)
	}
}
