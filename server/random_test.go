package server

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/query"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

var randomSeed = flag.Uint64("random.seed", 0, "seed of TestRandomSubscriptions (0: from the clock)")

// TestRandomSubscriptions runs a seeded random workload of at least
// 10,000 transactions through the network and checks, after every one,
// that each subscription's rows in the client equal the query run again
// on the database: single-table filters, an OR, a join on an index, and
// a query shared by two query sets, equalities the subscriptions' index
// finds (one value in several queries, an OR of values, scores that
// updates move), and query sets ended and made again. A JSON subscriber
// of the same queries checks each update as it comes (see hclient) and
// its rows after every transaction.
func TestRandomSubscriptions(t *testing.T) {
	seed := *randomSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (reproduce with -random.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 14))
	db := keeltest.Memory(t, srvmod.Module)
	srv, err := New(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, stop := serveTest(t, srv)
	defer stop()
	ctx := context.Background()
	r, err := remote.Dial(ctx, url, client.Options{NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	queries := []string{
		"SELECT * FROM player WHERE score >= 50",
		"SELECT * FROM player WHERE team = 3 OR name = 'p7'",
		"SELECT player.* FROM player JOIN team ON player.team = team.id WHERE team.grp = 1",
		"SELECT team.* FROM player JOIN team ON player.team = team.id WHERE player.score < 20",
		"SELECT * FROM team WHERE grp > 0",
		"SELECT * FROM player WHERE team = 2",
		"SELECT * FROM player WHERE team = 2 AND score >= 50",
		"SELECT * FROM player WHERE score = 42 OR score = 7 OR team = 5",
		"SELECT * FROM team WHERE id = 2",
	}
	var subs []*client.Subscription
	for _, q := range queries {
		s, err := r.Subscribe(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		subs = append(subs, s)
	}
	shared, err := r.Subscribe(ctx, queries[0], queries[2])
	if err != nil {
		t.Fatal(err)
	}
	// A JSON subscriber holds the same queries on one connection, in
	// sets of their own and one set of them all, and keeps its rows from
	// the messages alone: it fails on an update of a tx not above the one
	// before, of a set it does not hold, or deleting a row it does not
	// hold, and on an update whose caller is not r's.
	h := dialH(t, url)
	var pend []pendingSub
	var frame []string
	for i, q := range queries {
		frame = append(frame, h.subscribeReq(uint64(i+1), q))
		pend = append(pend, pendingSub{qsid: uint64(i + 1), queries: []string{q}})
	}
	frame = append(frame, h.subscribeReq(100, queries...))
	pend = append(pend, pendingSub{qsid: 100, queries: queries})
	h.send("[" + strings.Join(frame, ",") + "]")
	checkTU := func(tx uint64, m hmsg) {
		var caller string
		json.Unmarshal(m.body["caller"], &caller)
		if caller != string(r.Identity()) {
			t.Fatalf("seed %d: tx %d: caller %q, want %q", seed, tx, caller, r.Identity())
		}
	}
	for len(pend) > 0 {
		h.handle(h.nextMsg(), &pend, checkTU)
	}
	compiled := make([]*query.Query, len(queries))
	for i, q := range queries {
		if compiled[i], err = query.Compile(srv.sch.cat, q, query.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	checkH := func(step int) {
		h.nextReq++
		id := h.nextReq
		h.send(fmt.Sprintf(`{"OneOffQuery":{"request_id":%d,"query":"SELECT * FROM team WHERE id = 0"}}`, id))
		for h.results[id].typ == "" {
			h.handle(h.nextMsg(), &pend, checkTU)
		}
		delete(h.results, id)
		expectRows(t, srv, h, fmt.Sprintf("seed %d, step %d", seed, step))
	}
	const steps = 10_000
	check := func(step int) {
		// A OneOffQuery of h is answered after the updates of the commits
		// before it. (Every 10th step: h checks each update as it comes.)
		if step%10 == 0 || step == steps-1 {
			checkH(step)
		}
		v, err := db.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		src := viewSource{v, srv.sch}
		for i, q := range compiled {
			tm := srv.sch.resultTable(q)
			var want []string
			q.Run(src, func(row []codec.Value) bool {
				b, _ := codec.AppendRow(nil, tm.kinds, row)
				want = append(want, string(b))
				return true
			})
			slices.Sort(want)
			gots := [][][]byte{subs[i].Rows(0)}
			if i == 0 {
				gots = append(gots, shared.Rows(0))
			}
			if i == 2 {
				gots = append(gots, shared.Rows(1))
			}
			for _, g := range gots {
				var got []string
				for _, b := range g {
					got = append(got, string(b))
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d, step %d: %s: the client holds %d rows, the query gives %d", seed, step, queries[i], len(got), len(want))
				}
			}
		}
	}
	var players []uint64
	for step := range steps {
		var err error
		mayFail := false // a unique violation or a missing team rolls back
		switch k := rng.IntN(10); {
		case k < 2 && len(players) < 150 || len(players) < 5:
			var p srvmod.Player
			p, err = r.AddPlayer(ctx, srvmod.Player{Name: fmt.Sprint("p", rng.IntN(20)), Team: uint32(rng.IntN(6)), Score: int64(rng.IntN(100))})
			if err == nil {
				players = append(players, p.ID)
			}
		case k < 6:
			_, err = r.SetScore(ctx, players[rng.IntN(len(players))], int64(rng.IntN(100)))
		case k < 7:
			i := rng.IntN(len(players))
			err = r.DropPlayer(ctx, players[i])
			players = append(players[:i], players[i+1:]...)
		case k < 8:
			mayFail = true
			err = r.AddTeam(ctx, uint32(rng.IntN(6)), fmt.Sprint("t", rng.IntN(1000)), int32(rng.IntN(3)))
		default:
			mayFail = true
			err = r.MoveTeam(ctx, uint32(rng.IntN(6)), int32(rng.IntN(3)))
		}
		if err != nil && !mayFail {
			t.Fatalf("seed %d, step %d: %v", seed, step, err)
		}
		// Now and then end a query set of an equality and make it again.
		if step%500 == 499 {
			i := 5 + step/500%4
			if err := subs[i].Unsubscribe(ctx); err != nil {
				t.Fatal(err)
			}
			if subs[i], err = r.Subscribe(ctx, queries[i]); err != nil {
				t.Fatal(err)
			}
		}
		check(step)
	}
}
