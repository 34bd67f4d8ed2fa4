//go:build linux

package powerloss

import (
	"strings"
	"testing"
)

// TestCheckerFails feeds the checker ledgers and database states that a broken database could leave, and
// checks that it rejects each: a check that cannot fail would pass such a database.
func TestCheckerFails(t *testing.T) {
	// k1 is inserted (post 5, order 7) and deleted, k2 posted (post 6), in this order, all acknowledged.
	const round1 = `R
B 0 insert k1 t0
A 0 insert k1 5 7 t0 100
B 0 delete k1 -
A 0 delete k1 0 0 - 200
B 1 post k2 t1
A 1 post k2 6 0 t1 300
`
	hello := keyState{post: true, pid: 1, title: "Hello"}
	all := map[string]keyState{"hello": hello, "k2": {post: true, pid: 6, title: "t1"}}
	parse := func(s string) *ledger {
		t.Helper()
		l, err := parseLedger(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	cases := []struct {
		name   string
		always bool
		ledger string
		got    map[string]keyState
		want   string // in the error
	}{
		{"acknowledged post lost", true, round1,
			map[string]keyState{"hello": hello}, "acknowledged call lost"},
		{"acknowledged delete lost", true, round1,
			map[string]keyState{"hello": hello, "k1": {post: true, pid: 5, title: "t0", orders: []int64{7}}, "k2": all["k2"]},
			"acknowledged call lost"},
		{"post id of a deleted post reused", false, strings.TrimSuffix(round1, "A 1 post k2 6 0 t1 300\n"), // k2 in flight
			map[string]keyState{"hello": hello, "k2": {post: true, pid: 5, title: "t1"}}, "handed out twice"},
		{"not a prefix", false, round1,
			map[string]keyState{"hello": hello, "k1": {post: true, pid: 5, title: "t0", orders: []int64{7}}, "k2": all["k2"]},
			"not a prefix"},
		{"row of no call", false, round1,
			map[string]keyState{"hello": hello, "k2": all["k2"], "k9": {post: true, pid: 9, title: "x"}}, "no call on it began"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := newModel().check(parse(c.ledger), c.got, c.always, 0)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("check: %v, want an error saying %q", err, c.want)
			}
		})
	}
	t.Run("correct state passes", func(t *testing.T) {
		if _, err := newModel().check(parse(round1), all, true, 0); err != nil {
			t.Fatal(err)
		}
	})
	// Across rounds: the next round's post gets the id of k1's deleted post, or the order id of its order.
	for _, c := range []struct{ name, ledger string }{
		{"post id reused after a reopen", "R\nB 0 post k3 t2\nA 0 post k3 5 0 t2 400\n"},
		{"order id reused after a reopen", "R\nB 0 order k3 -\nA 0 order k3 0 7 - 400\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newModel()
			if _, err := m.check(parse(round1), all, true, 0); err != nil {
				t.Fatal(err)
			}
			got := map[string]keyState{"hello": hello, "k2": all["k2"]}
			l := parse(c.ledger)
			o := l.ops[0]
			got["k3"] = keyState{post: o.pid != 0, pid: o.pid, title: map[bool]string{true: o.title}[o.pid != 0]}
			if o.oid != 0 {
				got["k3"] = keyState{orders: []int64{o.oid}}
			}
			if _, err := m.check(l, got, true, 0); err == nil || !strings.Contains(err.Error(), "handed out twice") {
				t.Errorf("check: %v, want an id handed out twice", err)
			}
		})
	}
}
