//go:build unix

package server_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/internal/srvmod"
)

// BenchmarkPipelinedCalls: one binary connection keeps 40 calls in
// flight (MoveTeam, an update of one row, in memory), answering each
// frame of results with a frame of as many new calls, as bench/netload
// does. Besides the time per call it reports the process's CPU per call
// (cpu-ns/op, server and client together), which moves less with the
// machine's load than the time does. With subscribed, another client
// subscribes to a table the calls do not change, so that the server
// observes every commit.
func BenchmarkPipelinedCalls(b *testing.B) {
	for _, subscribed := range []bool{false, true} {
		b.Run(fmt.Sprint("subscribed=", subscribed), func(b *testing.B) { benchPipelined(b, subscribed) })
	}
}

func benchPipelined(b *testing.B, subscribed bool) {
	const inflight = 40
	f := newFixture(b, false, server.Options{})
	j := f.dialJSON(b, "")
	j.expect("InitialConnection")
	j.send(`{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":[1,"one",0]}}`)
	if r := j.expect("ReducerResult"); string(r.body["ok"]) != "true" {
		b.Fatalf("%s", r.raw)
	}
	if subscribed {
		j.send(`{"Subscribe":{"request_id":2,"query_set_id":1,"queries":["SELECT * FROM player"]}}`)
		j.expect("SubscribeApplied")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, f.url, &websocket.DialOptions{Subprotocols: []string{server.ProtocolBinary}})
	if err != nil {
		b.Fatal(err)
	}
	defer ws.CloseNow()
	if _, _, err := ws.Read(ctx); err != nil { // InitialConnection
		b.Fatal(err)
	}
	var id uint64
	call := func(dst []byte) []byte {
		id++
		m := append([]byte(nil), 16) // CallReducer
		m = codec.AppendUvarint(m, id)
		m = codec.AppendString(m, "MoveTeam")
		m = codec.AppendBytes(m, srvmod.MoveTeamReducer.EncodeArgs(nil, srvmod.MoveTeamArgs{Id: 1, Grp: int32(id)}))
		return codec.AppendBytes(dst, m)
	}
	var frame []byte
	sent, done := 0, 0
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	for sent < min(inflight, b.N) {
		frame = call(frame)
		sent++
	}
	if err := ws.Write(ctx, websocket.MessageBinary, frame); err != nil {
		b.Fatal(err)
	}
	for done < b.N {
		_, data, err := ws.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		frame = frame[:0]
		for r := codec.NewReader(data); r.Offset() < len(data); {
			m := r.Bytes(true)
			if r.Failed() || len(m) < 2 || m[0] != 5 { // ReducerResult
				b.Fatalf("not a ReducerResult: %x", m)
			}
			if ok := codec.NewReader(m[1:]); ok.Uvarint() == 0 || !ok.Bool() {
				b.Fatalf("a call failed: %x", m)
			}
			done++
			if sent < b.N {
				frame = call(frame)
				sent++
			}
		}
		if len(frame) > 0 {
			if err := ws.Write(ctx, websocket.MessageBinary, frame); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
