package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) != "" {
		os.Exit(runNode()) // this test binary as one of the cluster's nodes
	}
	os.Exit(m.Run())
}

// TestCluster runs the demo with three child processes: the counter
// counts 1 to 20 through the kill of the leader (no increment lost, none
// counted twice), another node leads after it, and at the end the
// restarted node has applied what the leader committed, as the two
// others have.
func TestCluster(t *testing.T) {
	c, err := startCluster(os.Args[0], t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			c.stop()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := demo(ctx, c, &out)
	t.Logf("the demo printed:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Values) != 20 {
		t.Fatalf("%d values: %v", len(res.Values), res.Values)
	}
	for i, v := range res.Values {
		if v != int64(i+1) {
			t.Fatalf("values %v: want 1 to 20", res.Values)
		}
	}
	if res.Killed == 0 || res.NewLeader == 0 || res.NewLeader == res.Killed {
		t.Errorf("killed %d, new leader %d", res.Killed, res.NewLeader)
	}
	if len(res.Final) != 3 {
		t.Fatalf("final status of %d nodes: %v", len(res.Final), res.Final)
	}
	lead := res.Final[res.NewLeader]
	roles := map[string]int{}
	for id, s := range res.Final {
		roles[s.Role]++
		if s.Applied != lead.Commit || s.Leader != res.NewLeader || s.Term != lead.Term {
			t.Errorf("node %d: %+v; the leader %+v", id, s, lead)
		}
	}
	if roles["leader"] != 1 || roles["follower"] != 2 {
		t.Errorf("roles %v", roles)
	}
	for _, want := range []string{"SIGKILL node", "the counter is 20", "caught up"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output has no %q", want)
		}
	}
	// Every node, the restarted one too, stops cleanly on its interrupt:
	// its database closes without an error.
	stopped = true
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
}
