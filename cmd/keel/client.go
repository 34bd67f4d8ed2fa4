package main

// keel call, keel sql and keel subscribe: a Keel server's clients on the
// command line (issue 14), over the JSON protocol of package server, and
// keel sql on a data directory (sqldir.go).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/server"
)

// clientCommand runs call, sql and subscribe; handled is false for other
// commands.
func clientCommand(w io.Writer, args []string) (handled bool, err error) {
	switch args[0] {
	case "call":
		return true, callCmd(w, args[1:])
	case "sql":
		return true, sqlCmd(w, args[1:])
	case "subscribe":
		return true, subscribeCmd(w, args[1:])
	}
	return false, nil
}

// clientFlags are the flags of the network commands.
type clientFlags struct {
	fs      *flag.FlagSet
	token   *string
	json    *bool
	timeout *time.Duration
	updates *int
}

func newClientFlags(name, usage, text string, updates bool) *clientFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cf := &clientFlags{fs: fs,
		token:   fs.String("token", os.Getenv("KEEL_TOKEN"), "identity `token` (default $KEEL_TOKEN; none: a new identity)"),
		json:    fs.Bool("json", false, "print JSON instead of a table"),
		timeout: fs.Duration("timeout", 30*time.Second, "give up after this long"),
	}
	if updates {
		cf.updates = fs.Int("n", 0, "stop after `n` transaction updates (0: run until interrupted)")
	}
	fs.Usage = func() {}
	_ = usage
	_ = text
	return cf
}

func (cf *clientFlags) parse(w io.Writer, usage, text string, args []string, n int) ([]string, error) {
	err := cf.fs.Parse(args)
	if err == flag.ErrHelp {
		var b strings.Builder
		cf.fs.SetOutput(&b)
		cf.fs.PrintDefaults()
		fmt.Fprintf(w, "usage: %s\n\n%s\n\nflags:\n%s", usage, text, b.String())
		return nil, err
	}
	if err != nil {
		return nil, usageError{fmt.Sprintf("%s: %v; see %s -h", cf.fs.Name(), err, cf.fs.Name())}
	}
	if cf.fs.NArg() != n {
		return nil, usageError{"usage: " + usage}
	}
	if *cf.timeout <= 0 {
		return nil, usageError{fmt.Sprintf("%s: -timeout %v: want a positive duration; see %s -h", cf.fs.Name(), *cf.timeout, cf.fs.Name())}
	}
	if cf.updates != nil && *cf.updates < 0 {
		return nil, usageError{fmt.Sprintf("%s: -n %d: want 0 (run until interrupted) or more; see %s -h", cf.fs.Name(), *cf.updates, cf.fs.Name())}
	}
	return cf.fs.Args(), nil
}

// jsonConn is a connection speaking the JSON protocol.
type jsonConn struct {
	ws    *websocket.Conn
	queue []jsonMsg
}

type jsonMsg struct {
	typ  string
	body map[string]json.RawMessage
}

func dialJSON(ctx context.Context, url, token string) (*jsonConn, error) {
	if token != "" {
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		url += sep + "token=" + token
	}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{server.ProtocolJSON}})
	if err != nil {
		return nil, kerr.Errorf("keel: %w", err)
	}
	ws.SetReadLimit(1 << 30)
	c := &jsonConn{ws: ws}
	if _, err := c.expect(ctx, "InitialConnection"); err != nil {
		ws.CloseNow()
		return nil, err
	}
	return c, nil
}

func (c *jsonConn) send(ctx context.Context, typ string, body map[string]any) error {
	b, err := json.Marshal(map[string]any{typ: body})
	if err != nil {
		return err
	}
	return c.ws.Write(ctx, websocket.MessageText, b)
}

func (c *jsonConn) next(ctx context.Context) (jsonMsg, error) {
	for len(c.queue) == 0 {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return jsonMsg{}, readError(err)
		}
		var frame []map[string]map[string]json.RawMessage
		if err := json.Unmarshal(b, &frame); err != nil {
			return jsonMsg{}, kerr.Errorf("keel: a frame that is not the JSON protocol: %w", err)
		}
		for _, m := range frame {
			for k, v := range m {
				c.queue = append(c.queue, jsonMsg{k, v})
			}
		}
	}
	m := c.queue[0]
	c.queue = c.queue[1:]
	return m, nil
}

// closedError is a read's error when the server closed the connection:
// its status and its reason (a message that has its own "keel: ", as
// 4001 invalid token's), said once.
type closedError struct {
	msg string
	err error
}

func (e *closedError) Error() string { return e.msg }
func (e *closedError) Unwrap() error { return e.err }

func readError(err error) error {
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		return kerr.Errorf("keel: %w", err)
	}
	msg := fmt.Sprintf("keel: the server closed the connection with status %d", int(ce.Code))
	if ce.Reason != "" {
		msg += ": " + strings.TrimPrefix(ce.Reason, "keel: ")
	}
	return &closedError{msg, err}
}

// expect returns the next message other than TransactionUpdate, which
// must be of type typ or an error.
func (c *jsonConn) expect(ctx context.Context, typ string) (jsonMsg, error) {
	for {
		m, err := c.next(ctx)
		if err != nil {
			return m, err
		}
		if m.typ == "TransactionUpdate" {
			continue
		}
		if e, ok := m.body["error"]; ok {
			var s string
			json.Unmarshal(e, &s)
			return m, errors.New(kerr.Trim("keel: " + s)) // the server's message may carry the prefix
		}
		if m.typ != typ {
			return m, fmt.Errorf("keel: the server answered %s, want %s", m.typ, typ)
		}
		return m, nil
	}
}

func callCmd(w io.Writer, args []string) error {
	const usage = "keel call [flags] URL REDUCER JSON-ARGS"
	cf := newClientFlags("keel call", usage, "", false)
	a, err := cf.parse(w, usage, "Call a reducer of the Keel server at URL (ws://host/path) with arguments as a JSON\nobject by parameter name or an array in order, and print its result as JSON.", args, 3)
	if err != nil {
		return err
	}
	if !json.Valid([]byte(a[2])) {
		return usageError{fmt.Sprintf("keel call: the arguments %q are not JSON", a[2])}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *cf.timeout)
	defer cancel()
	c, err := dialJSON(ctx, a[0], *cf.token)
	if err != nil {
		return err
	}
	defer c.ws.Close(websocket.StatusNormalClosure, "")
	if err := c.send(ctx, "CallReducer", map[string]any{"request_id": 1, "reducer": a[1], "args": json.RawMessage(a[2])}); err != nil {
		return err
	}
	m, err := c.expect(ctx, "ReducerResult")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n", m.body["result"])
	return nil
}

func sqlCmd(w io.Writer, args []string) error {
	const usage = "keel sql [flags] URL|DIR QUERY"
	cf := newClientFlags("keel sql", usage, "", false)
	a, err := cf.parse(w, usage, "Run a one-off query (Keel's SQL subset: SELECT cols|*|COUNT(*) FROM t [JOIN u ON ...]\n[WHERE ...] [LIMIT n]) on the Keel server at URL, or read-only on the data directory DIR\n(every table, private ones too, from the newest snapshot and the log after it).", args, 2)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(a[0], "ws://") && !strings.HasPrefix(a[0], "wss://") {
		return sqlDir(w, a[0], a[1], *cf.json)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *cf.timeout)
	defer cancel()
	c, err := dialJSON(ctx, a[0], *cf.token)
	if err != nil {
		return err
	}
	defer c.ws.Close(websocket.StatusNormalClosure, "")
	if err := c.send(ctx, "OneOffQuery", map[string]any{"request_id": 1, "query": a[1]}); err != nil {
		return err
	}
	m, err := c.expect(ctx, "OneOffQueryResult")
	if err != nil {
		return err
	}
	var cols []struct{ Name, Kind string }
	var rows []json.RawMessage
	json.Unmarshal(m.body["columns"], &cols)
	json.Unmarshal(m.body["rows"], &rows)
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = col.Name
	}
	cells := make([][]string, len(rows))
	for i, r := range rows {
		vals, err := rowValues(r, names)
		if err != nil {
			return err
		}
		cells[i] = vals
	}
	return printRows(w, names, cells, *cf.json)
}

// rowValues returns the values of a JSON row, an object by column name
// whose keys the server writes in column order: by position, since the
// columns of a result may share a name (SELECT a.id, b.id of a join).
func rowValues(row json.RawMessage, names []string) ([]string, error) {
	bad := func() error {
		return fmt.Errorf("keel: the server sent a row that is not an object of the result's columns %q: %s", names, row)
	}
	d := json.NewDecoder(bytes.NewReader(row))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, bad()
	}
	var vals []string
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return nil, bad()
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil || len(vals) >= len(names) || k != names[len(vals)] {
			return nil, bad()
		}
		vals = append(vals, string(v))
	}
	if len(vals) != len(names) {
		return nil, bad()
	}
	return vals, nil
}

// printRows prints rows of JSON values under their column names: a table,
// or one JSON object a line.
func printRows(w io.Writer, names []string, cells [][]string, asJSON bool) error {
	if asJSON {
		for _, r := range cells {
			var b bytes.Buffer
			b.WriteByte('{')
			for i, n := range names {
				if i > 0 {
					b.WriteByte(',')
				}
				k, _ := json.Marshal(n)
				b.Write(k)
				b.WriteByte(':')
				b.WriteString(r[i])
			}
			b.WriteString("}\n")
			w.Write(b.Bytes())
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(names, "\t"))
	for _, r := range cells {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(cells) == 1 {
		fmt.Fprintln(w, "(1 row)")
	} else {
		fmt.Fprintf(w, "(%d rows)\n", len(cells))
	}
	return nil
}

func subscribeCmd(w io.Writer, args []string) error {
	const usage = "keel subscribe [flags] URL QUERY"
	cf := newClientFlags("keel subscribe", usage, "", true)
	a, err := cf.parse(w, usage, "Subscribe to a query on the Keel server at URL and print its rows, then each\ntransaction's changes to them: - a row that left, + a row that entered.", args, 2)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dctx, cancel := context.WithTimeout(ctx, *cf.timeout)
	defer cancel()
	c, err := dialJSON(dctx, a[0], *cf.token)
	if err != nil {
		return err
	}
	defer c.ws.Close(websocket.StatusNormalClosure, "")
	if err := c.send(dctx, "Subscribe", map[string]any{"request_id": 1, "query_set_id": 1, "queries": []string{a[1]}}); err != nil {
		return err
	}
	m, err := c.expect(dctx, "SubscribeApplied")
	if err != nil {
		return err
	}
	var applied []struct {
		Table string
		Rows  []json.RawMessage
	}
	json.Unmarshal(m.body["queries"], &applied)
	for _, q := range applied {
		fmt.Fprintf(w, "%s: %d rows\n", q.Table, len(q.Rows))
		for _, r := range q.Rows {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	for n := 0; *cf.updates == 0 || n < *cf.updates; {
		m, err := c.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if m.typ != "TransactionUpdate" {
			continue
		}
		n++
		var tx uint64
		var reducer string
		json.Unmarshal(m.body["tx"], &tx)
		json.Unmarshal(m.body["reducer"], &reducer)
		var sets []struct {
			Queries []struct {
				Table            string
				Deletes, Inserts []json.RawMessage
			}
		}
		json.Unmarshal(m.body["query_sets"], &sets)
		fmt.Fprintf(w, "tx %d (%s):\n", tx, reducer)
		for _, s := range sets {
			for _, q := range s.Queries {
				for _, r := range q.Deletes {
					fmt.Fprintf(w, "  - %s %s\n", q.Table, r)
				}
				for _, r := range q.Inserts {
					fmt.Fprintf(w, "  + %s %s\n", q.Table, r)
				}
			}
		}
	}
	return nil
}
