package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/examples/chat/chat"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
)

// TestClientCommands: keel call, keel sql (on a server and on a data
// directory) and keel subscribe against the chat example's module.
func TestClientCommands(t *testing.T) {
	dir := t.TempDir()
	db, err := keel.Open(dir, chat.Module, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(db, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	url := "ws" + strings.TrimPrefix(hs.URL, "http")

	type result struct {
		out  string
		code int
	}
	subOut := make(chan result, 1)
	go func() {
		out, code := runCmd("subscribe", "-n", "2", url, "SELECT * FROM message")
		subOut <- result{out, code}
	}()
	// The calls below come once the subscription is in: its initial rows
	// are then the empty table, and both messages come as updates.
	for srv.Stats().Subscriptions == 0 {
		select {
		case r := <-subOut:
			t.Fatalf("keel subscribe ended before it subscribed: %d %q", r.code, r.out)
		case <-time.After(time.Millisecond):
		}
	}

	if out, code := runCmd("call", url, "SendMessage", `{"text":"hello from the CLI"}`); code != 0 || strings.TrimSpace(out) != "null" {
		t.Fatalf("keel call: %d %q", code, out)
	}
	if out, code := runCmd("call", url, "SendMessage", `["again"]`); code != 0 {
		t.Fatalf("keel call with an array: %d %q", code, out)
	}
	if out, code := runCmd("call", url, "SendMessage", `{"txt":"x"}`); code != 1 || !strings.Contains(out, `no parameter "txt"`) {
		t.Fatalf("keel call with a wrong argument: %d %q", code, out)
	}
	out, code := runCmd("sql", url, "SELECT text FROM message")
	if code != 0 || !strings.Contains(out, `"hello from the CLI"`) || !strings.Contains(out, "(2 rows)") {
		t.Fatalf("keel sql URL: %d %q", code, out)
	}
	if out, code := runCmd("sql", url, "SELECT FROM message"); code != 1 || !strings.Contains(out, "1:8") {
		t.Fatalf("keel sql with a bad query: %d %q", code, out)
	}
	select {
	case r := <-subOut:
		// The initial rows, then exactly the two updates -n 2 asks for.
		out := r.out
		if r.code != 0 || !strings.Contains(out, "message: 0 rows") || strings.Count(out, "tx ") != 2 ||
			!strings.Contains(out, `+ message {"id":1,`) || !strings.Contains(out, `+ message {"id":2,`) {
			t.Fatalf("keel subscribe: %d %q", r.code, out)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("keel subscribe did not end after 2 updates")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	hs.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	out, code = runCmd("sql", "-json", dir, "SELECT sender, text FROM message WHERE text = 'again'")
	if code != 0 || !strings.Contains(out, `"text":"again"`) || strings.Count(out, "\n") != 1 {
		t.Fatalf("keel sql DIR: %d %q", code, out)
	}
	// The two messages sent above: the count's header, its value, the
	// row count.
	out, code = runCmd("sql", dir, "SELECT COUNT(*) FROM message")
	if code != 0 || out != "count\n2\n(1 row)\n" {
		t.Fatalf("keel sql DIR count: %d %q", code, out)
	}
}

// TestClientToken: the network commands connect with the identity of
// -token, which defaults to $KEEL_TOKEN; without either, each run is a
// new identity.
func TestClientToken(t *testing.T) {
	url := chatServer(t)
	ids := make([]string, 2)
	toks := make([]string, 2)
	for i := range ids {
		c, err := client.Dial(t.Context(), url, client.Options{NoReconnect: true})
		if err != nil {
			t.Fatal(err)
		}
		ids[i], toks[i] = string(c.Identity()), c.Token()
		c.Close()
	}
	sender := func(text string) string {
		t.Helper()
		out, code := runCmd("sql", "-json", url, "SELECT sender FROM message WHERE text = '"+text+"'")
		if code != 0 {
			t.Fatalf("keel sql: %d %q", code, out)
		}
		return out
	}
	send := func(text string, args ...string) {
		t.Helper()
		args = append(append([]string{"call"}, args...), url, "SendMessage", `{"text":"`+text+`"}`)
		if out, code := runCmd(args...); code != 0 {
			t.Fatalf("keel %v: %d %q", args, code, out)
		}
	}
	t.Setenv("KEEL_TOKEN", toks[0])
	send("from the environment")
	if got := sender("from the environment"); !strings.Contains(got, ids[0]) {
		t.Errorf("a call with $KEEL_TOKEN set ran as %q, want identity %s", got, ids[0])
	}
	send("from the flag", "-token", toks[1])
	if got := sender("from the flag"); !strings.Contains(got, ids[1]) {
		t.Errorf("a call with -token ran as %q, want identity %s", got, ids[1])
	}
	t.Setenv("KEEL_TOKEN", "")
	send("anonymous")
	if got := sender("anonymous"); strings.Contains(got, ids[0]) || strings.Contains(got, ids[1]) || !strings.Contains(got, "sender") {
		t.Errorf("a call without a token ran as %q, want a new identity", got)
	}
}

// TestSQLSameColumnName: keel sql on a server prints each column of a
// result whose columns share a name (a self-join's two ids) with its own
// value, in the table and in -json, as keel sql on the directory does.
func TestSQLSameColumnName(t *testing.T) {
	dir := t.TempDir()
	db, err := keel.Open(dir, chat.Module, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(db, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	url := "ws" + strings.TrimPrefix(hs.URL, "http")
	c, err := client.Dial(t.Context(), url, client.Options{NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	tok := c.Token()
	c.Close()
	for _, text := range []string{"one", "two"} { // from one sender
		if out, code := runCmd("call", "-token", tok, url, "SendMessage", `{"text":"`+text+`"}`); code != 0 {
			t.Fatalf("keel call: %d %q", code, out)
		}
	}
	const q = "SELECT a.id, b.id FROM message a JOIN message b ON a.sender = b.sender WHERE a.id = 1 AND b.id = 2"
	for _, target := range []string{url, dir} {
		if target == dir {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			srv.Shutdown(ctx)
			cancel()
			hs.Close()
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}
		out, code := runCmd("sql", target, q)
		if code != 0 || !strings.Contains(out, "1   2") {
			t.Errorf("keel sql %s: %d %q, want the row 1 2", target, code, out)
		}
		out, code = runCmd("sql", "-json", target, q)
		if code != 0 || out != `{"id":1,"id":2}`+"\n" {
			t.Errorf("keel sql -json %s: %d %q", target, code, out)
		}
	}
}

// TestClientFlagBounds: a -timeout that is not positive (which would
// fail every wait at once, as if the server did not answer) and a
// negative -n (which would end subscribe before any update) are usage
// errors: exit status 2, one message on stderr.
func TestClientFlagBounds(t *testing.T) {
	const url = "ws://127.0.0.1:1/"
	for _, args := range [][]string{
		{"call", "-timeout", "0", url, "R", "{}"},
		{"sql", "-timeout", "-1s", url, "SELECT * FROM t"},
		{"subscribe", "-timeout", "0s", url, "SELECT * FROM t"},
		{"subscribe", "-n", "-1", url, "SELECT * FROM t"},
		{"cluster", "status", "-timeout", "0", "127.0.0.1:1"},
	} {
		var out, errs bytes.Buffer
		code := run(&out, &errs, args)
		if msg := errs.String(); code != 2 || out.Len() > 0 || !strings.HasPrefix(msg, "keel: ") || strings.Count(msg, "keel:") != 1 {
			t.Errorf("%v: exit status %d, stdout %q, stderr %q; want 2 and a usage message", args, code, out.String(), msg)
		}
	}
}

// TestClientRefusedToken: a token the server refuses (close status 4001)
// fails the command with exit status 1 and one message that says the
// status and the server's reason, with one "keel:" prefix.
func TestClientRefusedToken(t *testing.T) {
	url := chatServer(t)
	for _, args := range [][]string{
		{"call", "-token", "not-a-token", url, "SendMessage", `{"text":"x"}`},
		{"sql", "-token", "not-a-token", url, "SELECT * FROM message"},
		{"subscribe", "-token", "not-a-token", url, "SELECT * FROM message"},
	} {
		var out, errs bytes.Buffer
		code := run(&out, &errs, args)
		msg := errs.String()
		if code != 1 || out.Len() > 0 || !strings.HasPrefix(msg, "keel: ") || strings.Count(msg, "keel:") != 1 ||
			!strings.Contains(msg, "4001") || !strings.Contains(msg, "invalid token") {
			t.Errorf("%v: exit status %d, stdout %q, stderr %q", args[0], code, out.String(), msg)
		}
	}
}

// chatServer serves the chat module in memory until the test ends and
// returns its WebSocket URL.
func chatServer(t *testing.T) string {
	t.Helper()
	db, err := keel.OpenMemory(chat.Module, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv, err := server.New(db, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}
