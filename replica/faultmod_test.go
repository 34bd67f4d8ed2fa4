package replica_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/replica"
	"github.com/keeldb/keel/table"
)

// The fault tests' module: registers (a key and its value) and items, one
// per write, with an autoinc id.

type reg struct {
	Key string
	Val int64
}

type item struct {
	ID  uint64
	Tag string
}

type writeArgs struct {
	Key string
	Val int64
	Tag string
}

var (
	regDef = &table.Def[reg]{Name: "reg",
		Primary: &table.Index[reg]{Name: "reg_pk", Columns: []string{"key"}, Unique: true,
			Compare: func(a, b *reg, _ int) int { return strings.Compare(a.Key, b.Key) },
			Format:  func(r *reg, _ int) string { return "key=" + r.Key },
			Key:     func(r *reg) uint64 { return table.KeyString(r.Key) }},
		Columns: []table.Column{{Name: "key", Type: "string", Kind: "string"}, {Name: "val", Type: "int64", Kind: "int64"}},
		Encode:  func(dst []byte, r *reg) []byte { return codec.AppendVarint(codec.AppendString(dst, r.Key), r.Val) },
		Decode: func(src []byte, r *reg) error {
			d := codec.NewReader(src)
			r.Key, r.Val = d.Text(), d.Varint()
			return d.Err()
		}}
	itemTag = &table.Index[item]{Name: "item_tag", Columns: []string{"tag"}, Unique: true,
		Compare: func(a, b *item, _ int) int { return strings.Compare(a.Tag, b.Tag) },
		Format:  func(r *item, _ int) string { return "tag=" + r.Tag },
		Key:     func(r *item) uint64 { return table.KeyString(r.Tag) }}
	itemDef = &table.Def[item]{Name: "item",
		Primary: &table.Index[item]{Name: "item_pk", Columns: []string{"id"}, Unique: true,
			Compare:  func(a, b *item, _ int) int { return cmp.Compare(a.ID, b.ID) },
			Format:   func(r *item, _ int) string { return fmt.Sprint("id=", r.ID) },
			Key:      func(r *item) uint64 { return table.KeyUint(r.ID) },
			KeyExact: true},
		Indexes: []*table.Index[item]{itemTag},
		Sequences: []table.AutoInc[item]{table.NewAutoInc("item_id_seq", "id", table.SeqParams[uint64]{Batch: 8},
			func(r *item) *uint64 { return &r.ID })},
		Columns: []table.Column{{Name: "id", Type: "uint64", Kind: "uint64"}, {Name: "tag", Type: "string", Kind: "string"}},
		Encode:  func(dst []byte, r *item) []byte { return codec.AppendString(codec.AppendUvarint(dst, r.ID), r.Tag) },
		Decode: func(src []byte, r *item) error {
			d := codec.NewReader(src)
			r.ID, r.Tag = d.Uvarint(), d.Text()
			return d.Err()
		}}
	writeFn = reducer.New("Write", func(c *reducer.Ctx, a writeArgs) (uint64, error) {
		if _, _, err := table.Use(c.Tx, regDef).Upsert(reg{Key: a.Key, Val: a.Val}); err != nil {
			return 0, err
		}
		it, err := table.Use(c.Tx, itemDef).Insert(item{Tag: a.Tag})
		return it.ID, err
	}, reducer.Codec[writeArgs]{
		Append: func(dst []byte, a *writeArgs) []byte {
			return codec.AppendString(codec.AppendVarint(codec.AppendString(dst, a.Key), a.Val), a.Tag)
		},
		Decode: func(src []byte, a *writeArgs) error {
			d := codec.NewReader(src)
			a.Key, a.Val, a.Tag = d.Text(), d.Varint(), d.Text()
			return d.Err()
		}}, reducer.Codec[uint64]{
		Append: func(dst []byte, v *uint64) []byte { return codec.AppendUvarint(dst, *v) },
		Decode: func(src []byte, v *uint64) error {
			d := codec.NewReader(src)
			*v = d.Uvarint()
			return d.Err()
		}})
	faultModule = &keel.Module{Name: "fault", Tables: []table.Schema{regDef, itemDef}, Reducers: []*reducer.Def{&writeFn.Def}}
)

func encodeWrite(a writeArgs) []byte { return writeFn.Args.Append(nil, &a) }
func decodeID(b []byte) (uint64, error) {
	var v uint64
	err := writeFn.Result.Decode(b, &v)
	return v, err
}

// childEnv names the environment that makes the test binary a node.
const childEnv = "KEEL_REPLICA_NODE"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild runs one node of a fault test or benchmark until it is
// killed: KEEL_REPLICA_NODE=id, KEEL_REPLICA_DIR, KEEL_REPLICA_ADDR,
// KEEL_REPLICA_PEERS (id=addr,...), KEEL_REPLICA_TICK (a duration);
// KEEL_REPLICA_MODULE=bench runs the benchmarks' module instead of the
// fault test's, and KEEL_REPLICA_ELECTION_TICKS sets the election
// timeout in ticks.
func runChild() int {
	id, _ := strconv.ParseUint(os.Getenv(childEnv), 10, 64)
	addr := os.Getenv("KEEL_REPLICA_ADDR")
	var peers []replica.Peer
	for _, p := range strings.Split(os.Getenv("KEEL_REPLICA_PEERS"), ",") {
		k, v, _ := strings.Cut(p, "=")
		pid, _ := strconv.ParseUint(k, 10, 64)
		peers = append(peers, replica.Peer{ID: pid, Addr: v})
	}
	tick, _ := time.ParseDuration(os.Getenv("KEEL_REPLICA_TICK"))
	every, _ := strconv.Atoi(os.Getenv("KEEL_REPLICA_SNAPSHOT_EVERY"))
	level := slog.LevelWarn
	if os.Getenv("KEEL_REPLICA_DEBUG") != "" {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	tr := replica.NewHTTPTransport()
	m := faultModule
	if os.Getenv("KEEL_REPLICA_MODULE") == "bench" {
		m = benchModule
	}
	election, _ := strconv.Atoi(os.Getenv("KEEL_REPLICA_ELECTION_TICKS"))
	n, err := replica.Open(replica.Config{ID: id, Dir: os.Getenv("KEEL_REPLICA_DIR"), Module: m, Peers: peers,
		Transport: tr, Tick: tick, ElectionTicks: election, Logger: logger, SnapshotEvery: every,
		SnapshotRetain: uint64(max(every/2, 1))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle("/", replica.Handler(n))
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		v, err := n.View(ctx)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		row, _ := table.Read(v, regDef).Get(reg{Key: r.URL.Query().Get("key")})
		fmt.Fprint(w, row.Val)
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		v, err := n.View(ctx)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		out := map[string]any{}
		items := map[string]uint64{}
		for it := range table.Read(v, itemDef).All() {
			items[it.Tag] = it.ID
		}
		regs := map[string]int64{}
		for r := range table.Read(v, regDef).All() {
			regs[r.Key] = r.Val
		}
		out["items"], out["regs"] = items, regs
		json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("POST /admin/partition", func(w http.ResponseWriter, r *http.Request) {
		tr.SetPartitioned(r.URL.Query().Get("on") == "1")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	return 0
}
