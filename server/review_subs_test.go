package server

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/query"
	"github.com/keeldb/keel/server/internal/srvmod"
)

// hmsg is one server message of a JSON connection.
type hmsg struct {
	typ  string
	body map[string]json.RawMessage
	raw  json.RawMessage
}

// hclient is a JSON client that reads every frame as it comes and keeps
// its query sets' rows itself, checking each message against the
// protocol: every TransactionUpdate names live query sets only, with a
// tx above the one before, deletes only rows it holds.
type hclient struct {
	t        *testing.T
	ws       *websocket.Conn
	msgs     chan hmsg
	identity string

	sets    map[uint64]*hset // by query_set_id, once asked for
	lastTx  uint64
	results map[uint64]hmsg // responses by request_id
	nextReq uint64
}

// hset is one query set as the client holds it.
type hset struct {
	queries []string
	live    bool
	bags    []map[string]int // row JSON → count
}

func dialH(t *testing.T, url string) *hclient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{ProtocolJSON}})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(64 << 20)
	c := &hclient{t: t, ws: ws, msgs: make(chan hmsg, 1<<16), sets: map[uint64]*hset{}, results: map[uint64]hmsg{}}
	t.Cleanup(func() { ws.CloseNow() })
	go func() {
		defer close(c.msgs)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var arr []map[string]json.RawMessage
			if err := json.Unmarshal(b, &arr); err != nil {
				panic(fmt.Sprintf("frame %s: %v", b, err))
			}
			for _, m := range arr {
				for k, v := range m {
					var body map[string]json.RawMessage
					if err := json.Unmarshal(v, &body); err != nil {
						panic(fmt.Sprintf("message %s: %v", v, err))
					}
					c.msgs <- hmsg{typ: k, body: body, raw: v}
				}
			}
		}
	}()
	m := c.nextMsg()
	if m.typ != "InitialConnection" {
		t.Fatalf("first message %s", m.typ)
	}
	json.Unmarshal(m.body["identity"], &c.identity)
	return c
}

func (c *hclient) send(frame string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *hclient) nextMsg() hmsg {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatalf("the connection closed")
		}
		return m
	case <-time.After(60 * time.Second): // a hang guard only
		c.t.Fatalf("no message")
	}
	panic("unreachable")
}

func num(raw json.RawMessage) uint64 {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		var s string
		json.Unmarshal(raw, &s)
		n = json.Number(s)
	}
	var v uint64
	fmt.Sscan(string(n), &v)
	return v
}

func rawRows(raw json.RawMessage) []string {
	var rows []json.RawMessage
	json.Unmarshal(raw, &rows)
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = string(r)
	}
	return out
}

// subscribeReq is a Subscribe message; the client starts to track the set.
func (c *hclient) subscribeReq(qsid uint64, queries ...string) string {
	c.nextReq++
	q, _ := json.Marshal(queries)
	return fmt.Sprintf(`{"Subscribe":{"request_id":%d,"query_set_id":%d,"queries":%s}}`, c.nextReq, qsid, q)
}

func (c *hclient) unsubscribeReq(qsid uint64) string {
	c.nextReq++
	return fmt.Sprintf(`{"Unsubscribe":{"request_id":%d,"query_set_id":%d}}`, c.nextReq, qsid)
}

func (c *hclient) callReq(reducer, args string) (uint64, string) {
	c.nextReq++
	return c.nextReq, fmt.Sprintf(`{"CallReducer":{"request_id":%d,"reducer":%q,"args":%s}}`, c.nextReq, reducer, args)
}

// pendingSubs are the Subscribes sent whose responses are to come, in
// order, by query set id.
type pendingSub struct {
	qsid    uint64
	queries []string
	unsub   bool
}

// handle applies one message to the client's state; pend are the
// Subscribe and Unsubscribe requests whose responses are to come, in
// order.
func (c *hclient) handle(m hmsg, pend *[]pendingSub, check func(tx uint64, m hmsg)) {
	t := c.t
	t.Helper()
	switch m.typ {
	case "SubscribeApplied":
		if len(*pend) == 0 || (*pend)[0].unsub {
			t.Fatalf("an unexpected SubscribeApplied %s", m.raw)
		}
		p := (*pend)[0]
		*pend = (*pend)[1:]
		if num(m.body["query_set_id"]) != p.qsid {
			t.Fatalf("SubscribeApplied %s, want query set %d", m.raw, p.qsid)
		}
		var qs []struct {
			Table string          `json:"table"`
			Rows  json.RawMessage `json:"rows"`
		}
		json.Unmarshal(m.body["queries"], &qs)
		s := &hset{queries: p.queries, live: true}
		for _, q := range qs {
			b := map[string]int{}
			for _, r := range rawRows(q.Rows) {
				b[r]++
			}
			s.bags = append(s.bags, b)
		}
		c.sets[p.qsid] = s
	case "UnsubscribeApplied":
		if len(*pend) == 0 || !(*pend)[0].unsub {
			t.Fatalf("an unexpected UnsubscribeApplied %s", m.raw)
		}
		p := (*pend)[0]
		*pend = (*pend)[1:]
		if num(m.body["query_set_id"]) != p.qsid || c.sets[p.qsid] == nil {
			t.Fatalf("UnsubscribeApplied %s, want query set %d", m.raw, p.qsid)
		}
		delete(c.sets, p.qsid)
	case "SubscriptionError":
		t.Fatalf("SubscriptionError %s", m.raw)
	case "TransactionUpdate":
		tx := num(m.body["tx"])
		if tx <= c.lastTx {
			t.Fatalf("TransactionUpdate of tx %d after one of tx %d", tx, c.lastTx)
		}
		c.lastTx = tx
		var sets []struct {
			ID      uint64 `json:"query_set_id"`
			Queries []struct {
				Query   int             `json:"query"`
				Table   string          `json:"table"`
				Deletes json.RawMessage `json:"deletes"`
				Inserts json.RawMessage `json:"inserts"`
			} `json:"queries"`
		}
		json.Unmarshal(m.body["query_sets"], &sets)
		if len(sets) == 0 {
			t.Fatalf("an empty TransactionUpdate %s", m.raw)
		}
		for _, qs := range sets {
			s := c.sets[qs.ID]
			if s == nil || !s.live {
				t.Fatalf("tx %d: an update of query set %d, which the client does not hold: %s", tx, qs.ID, m.raw)
			}
			for _, q := range qs.Queries {
				del, ins := rawRows(q.Deletes), rawRows(q.Inserts)
				if len(del)+len(ins) == 0 {
					t.Fatalf("tx %d: query set %d query %d: an empty part", tx, qs.ID, q.Query)
				}
				b := s.bags[q.Query]
				for _, r := range del {
					if b[r] == 0 {
						t.Fatalf("tx %d: query set %d query %d (%s): a delete of a row the client does not hold: %s", tx, qs.ID, q.Query, s.queries[q.Query], r)
					}
					if b[r]--; b[r] == 0 {
						delete(b, r)
					}
				}
				for _, r := range ins {
					b[r]++
				}
			}
		}
		if check != nil {
			check(tx, m)
		}
	case "ReducerResult", "OneOffQueryResult":
		c.results[num(m.body["request_id"])] = m
	case "Error":
		t.Fatalf("Error %s", m.raw)
	}
}

// expectRows checks every query set the client holds against its
// queries run from scratch on the database now.
func expectRows(t *testing.T, srv *Server, c *hclient, what string) {
	t.Helper()
	v, err := srv.db.View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	src := viewSource{v, srv.sch}
	for id, s := range c.sets {
		for i, text := range s.queries {
			q, err := query.Compile(srv.sch.cat, text, query.Options{})
			if err != nil {
				t.Fatal(err)
			}
			tm := srv.sch.resultTable(q)
			want := map[string]int{}
			q.Run(src, func(row []codec.Value) bool {
				want[string(appendJSONRow(nil, tm.names, row))]++
				return true
			})
			got := s.bags[i]
			if len(got) != len(want) {
				t.Fatalf("%s: tx %d: query set %d query %d (%s): the client holds %d distinct rows, the query gives %d", what, v.TxID, id, i, text, len(got), len(want))
			}
			for r, n := range want {
				if got[r] != n {
					t.Fatalf("%s: tx %d: query set %d query %d (%s): row %s %d times, the query gives it %d times", what, v.TxID, id, i, text, r, got[r], n)
				}
			}
		}
	}
}

var reviewQueries = []string{
	"SELECT * FROM player WHERE score >= 50",
	"SELECT * FROM player WHERE team = 3 OR name = 'p7'",
	"SELECT player.* FROM player JOIN team ON player.team = team.id WHERE team.grp = 1",
	"SELECT team.* FROM player JOIN team ON player.team = team.id WHERE player.score < 20",
	"SELECT * FROM team WHERE grp > 0",
	"SELECT * FROM player WHERE team = 2",
	"SELECT * FROM team",
}

var streamSeed = flag.Uint64("stream.seed", 0, "seed of TestSubscribeWhileCommitsStream (0: from the clock)")

// TestSubscribeWhileCommitsStream: query sets (joins among them, one
// query in several sets and twice in one set) are subscribed, ended and
// subscribed again, some in the frame that ends them, while two other
// clients commit all the time; the subscriber's rows, built from its
// SubscribeApplieds and TransactionUpdates alone, equal the queries run
// from scratch once the writers stop, and each update names the reducer
// and the caller of its commit.
func TestSubscribeWhileCommitsStream(t *testing.T) {
	seed := *streamSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (reproduce with -stream.seed=%d)", seed, seed)
	db := keeltest.Memory(t, srvmod.Module)
	srv, err := New(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, stop := serveTest(t, srv)
	defer stop()
	defer srv.Shutdown(context.Background())

	sub := dialH(t, url)
	// Two writers, each with a reducer of its own, so that an update's
	// reducer names its caller: w0 moves teams and scores, w1 adds and
	// drops players.
	writers := []*hclient{dialH(t, url), dialH(t, url)}
	callerOf := map[string]string{
		"AddTeam": writers[0].identity, "MoveTeam": writers[0].identity, "SetScore": writers[0].identity,
		"AddPlayer": writers[1].identity, "DropPlayer": writers[1].identity,
	}
	var wg sync.WaitGroup
	stopW := make(chan struct{})
	for wi, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(wi)))
			for n := 0; ; n++ {
				select {
				case <-stopW:
					return
				default:
				}
				var frame []string
				for range 1 + rng.IntN(4) {
					var red, args string
					if wi == 0 {
						switch rng.IntN(3) {
						case 0:
							red, args = "AddTeam", fmt.Sprintf(`{"id":%d,"name":"t%d","grp":%d}`, rng.IntN(6), rng.IntN(1000), rng.IntN(3))
						case 1:
							red, args = "MoveTeam", fmt.Sprintf(`{"id":%d,"grp":%d}`, rng.IntN(6), rng.IntN(3))
						default:
							red, args = "SetScore", fmt.Sprintf(`{"id":%d,"score":%d}`, 1+rng.IntN(60), rng.IntN(100))
						}
					} else if rng.IntN(4) == 0 {
						red, args = "DropPlayer", fmt.Sprintf(`{"id":%d}`, 1+rng.IntN(60))
					} else {
						red, args = "AddPlayer", fmt.Sprintf(`{"p":{"id":0,"name":"p%d","team":%d,"score":%d,"big":0,"active":false,"ratio":0,"key":"","at":"2024-01-01T00:00:00Z","tags":[]}}`, rng.IntN(10), rng.IntN(6), rng.IntN(100))
					}
					_, f := w.callReq(red, args)
					frame = append(frame, f)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := w.ws.Write(ctx, websocket.MessageText, []byte("["+strings.Join(frame, ",")+"]"))
				cancel()
				if err != nil {
					return
				}
				for range frame {
					select {
					case m, ok := <-w.msgs:
						if !ok {
							return
						}
						if m.typ != "ReducerResult" && m.typ != "TransactionUpdate" {
							panic(fmt.Sprintf("writer %d: %s", wi, m.raw))
						}
					case <-time.After(60 * time.Second):
						panic("writer: no result")
					}
				}
			}
		}()
	}

	var pend []pendingSub
	checkTU := func(tx uint64, m hmsg) {
		var red, caller string
		json.Unmarshal(m.body["reducer"], &red)
		json.Unmarshal(m.body["caller"], &caller)
		if want, ok := callerOf[red]; !ok || caller != want {
			t.Fatalf("tx %d: reducer %q, caller %q; want the caller of that reducer, %q", tx, red, caller, want)
		}
	}
	drain := func() {
		for len(pend) > 0 {
			sub.handle(sub.nextMsg(), &pend, checkTU)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	pick := func() []string {
		var qs []string
		for range 1 + rng.IntN(3) {
			qs = append(qs, reviewQueries[rng.IntN(len(reviewQueries))])
		}
		return qs
	}
	const rounds = 300
	for round := range rounds {
		var frame []string
		for range 1 + rng.IntN(3) {
			id := uint64(1 + rng.IntN(6))
			known := sub.sets[id] != nil
			for _, p := range pend {
				if p.qsid == id {
					known = !p.unsub
				}
			}
			switch {
			case known && rng.IntN(2) == 0:
				// End it and make it again in the same frame.
				frame = append(frame, sub.unsubscribeReq(id))
				pend = append(pend, pendingSub{qsid: id, unsub: true})
				qs := pick()
				frame = append(frame, sub.subscribeReq(id, qs...))
				pend = append(pend, pendingSub{qsid: id, queries: qs})
			case known:
				frame = append(frame, sub.unsubscribeReq(id))
				pend = append(pend, pendingSub{qsid: id, unsub: true})
			default:
				qs := pick()
				frame = append(frame, sub.subscribeReq(id, qs...))
				pend = append(pend, pendingSub{qsid: id, queries: qs})
			}
		}
		sub.send("[" + strings.Join(frame, ",") + "]")
		if round%3 == 0 {
			drain()
		}
	}
	drain()
	if len(sub.sets) == 0 {
		// The rounds can end every set they made; one more, made while
		// the writers still commit, leaves rows to check.
		qs := pick()
		sub.send("[" + sub.subscribeReq(1, qs...) + "]")
		pend = append(pend, pendingSub{qsid: 1, queries: qs})
		drain()
	}
	close(stopW)
	wg.Wait()
	// The subscriber's own commit comes after every writer's: once its
	// result is in, so are the updates of theirs.
	id, f := sub.callReq("AddSecret", `{"note":"barrier"}`)
	sub.send(f)
	for sub.results[id].typ == "" {
		sub.handle(sub.nextMsg(), &pend, checkTU)
	}
	if len(sub.sets) == 0 {
		t.Fatal("no query set left to check")
	}
	expectRows(t, srv, sub, "after the writers stopped")
	t.Logf("%d query sets, last update tx %d", len(sub.sets), sub.lastTx)
}

// TestJSONRepeatedField: a field given twice in a message is an Error
// for the frame, not the last of its values.
func TestJSONRepeatedField(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	srv, err := New(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, stop := serveTest(t, srv)
	defer stop()
	defer srv.Shutdown(context.Background())
	c := dialH(t, url)
	for _, frame := range []string{
		`{"Unsubscribe":{"request_id":1,"query_set_id":1,"query_set_id":2}}`,
		`[{"OneOffQuery":{"request_id":1,"query":"SELECT * FROM team"}},{"CallReducer":{"request_id":2,"reducer":"AddTeam","reducer":"Fail","args":{"why":"x"}}}]`,
	} {
		c.send(frame)
		m := c.nextMsg()
		var e string
		json.Unmarshal(m.body["error"], &e)
		if m.typ != "Error" || !strings.Contains(e, "appears twice") {
			t.Errorf("%s: %s %s, want an Error naming the repeated field", frame, m.typ, m.raw)
		}
	}
	// The connection goes on.
	c.send(`{"OneOffQuery":{"request_id":3,"query":"SELECT * FROM team"}}`)
	if m := c.nextMsg(); m.typ != "OneOffQueryResult" {
		t.Fatalf("%s %s", m.typ, m.raw)
	}
}
