//go:build linux

package powerloss

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The child's ledger, one line per event, printed under one mutex so that
// the line order is the real-time order:
//
//	R                                        keel.Open returned
//	B <writer> <op> <key> <title>            before a call
//	A <writer> <op> <key> <pid> <oid> <title> <unix ns>   after it returned nil
//	O <error>                                keel.Open failed with EIO (lazyfs.FailSync)
//	X <writer> <error>                       its call failed with keel.ErrFailed: the writer stops
//	S <index>                                a snapshot was taken (cases_test.go)
//	D                                        the child is done and exits
//	E <message>                              the child failed
//
// op is insert (a post and its order in one transaction), post (AddPost),
// order (AddOrder), update, delete (a post and its orders) or fail (Fail:
// inserts, then rolls back). key is the post's slug or the order's shop;
// title is "-" where the op has none, pid and oid are 0 where it made no
// row.

// op is one call of the ledger.
type op struct {
	writer int
	kind   string
	key    string
	title  string
	pid    uint64 // the ids the acknowledged call got
	oid    int64
	began  int   // line of its B
	acked  int   // line of its A, or 0: not acknowledged
	failed bool  // it returned keel.ErrFailed: committed or not, it is not acknowledged
	ackNs  int64 // when it was acknowledged
}

func (o *op) String() string {
	s := fmt.Sprintf("%s %s (writer %d, line %d", o.kind, o.key, o.writer, o.began)
	if o.acked > 0 {
		s += fmt.Sprintf(", acknowledged at line %d", o.acked)
	}
	return s + ")"
}

// ledger is what a child printed.
type ledger struct {
	opened bool // "R": keel.Open returned in the child
	done   bool // "D": the child finished its work
	// openFailed ("O") says that keel.Open failed with EIO, as an fsync
	// that lazyfs.FailSync failed makes it.
	openFailed bool
	ops        []*op // in the order they began
	lines      int
}

// parseLedger reads a child's output. A child's own failure ("E") is an
// error; a last line cut by the kill is ignored.
func parseLedger(r io.Reader) (*ledger, error) {
	l := &ledger{}
	open := map[int]*op{} // the call each writer has in flight
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	bad := "" // a line that does not parse: the kill may have cut it, if it is the last
	for sc.Scan() {
		l.lines++
		if bad != "" {
			return nil, fmt.Errorf("line %d %q: does not parse", l.lines-1, bad)
		}
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "R" && len(f) == 1:
			l.opened = true
		case f[0] == "D" && len(f) == 1:
			l.done = true
		case f[0] == "X" && len(f) >= 2:
			g, _ := strconv.Atoi(f[1])
			if open[g] == nil {
				return nil, fmt.Errorf("line %d %q: no call in flight", l.lines, line)
			}
			open[g].failed = true
			delete(open, g)
		case f[0] == "O":
			l.openFailed = true
		case f[0] == "S":
		case f[0] == "E":
			return nil, fmt.Errorf("child: %s", line)
		case f[0] == "B" && len(f) == 5:
			g, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("line %d %q: %w", l.lines, line, err)
			}
			if prev := open[g]; prev != nil && prev.kind != "fail" { // Fail returns an error: no A line
				return nil, fmt.Errorf("line %d: writer %d began %s before %s returned", l.lines, g, f[3], prev)
			}
			o := &op{writer: g, kind: f[2], key: f[3], title: f[4], began: l.lines}
			open[g] = o
			l.ops = append(l.ops, o)
		case f[0] == "A" && len(f) == 8:
			g, _ := strconv.Atoi(f[1])
			o := open[g]
			if o == nil || o.kind != f[2] || o.key != f[3] {
				return nil, fmt.Errorf("line %d %q: no such call in flight", l.lines, line)
			}
			var err error
			if o.pid, err = strconv.ParseUint(f[4], 10, 64); err == nil {
				if o.oid, err = strconv.ParseInt(f[5], 10, 64); err == nil {
					o.ackNs, err = strconv.ParseInt(f[7], 10, 64)
				}
			}
			if err != nil || o.title != f[6] {
				return nil, fmt.Errorf("line %d %q: does not parse (%v)", l.lines, line, err)
			}
			o.acked = l.lines
			delete(open, g)
		default:
			bad = line
		}
	}
	return l, sc.Err()
}

// byKey groups the ops by key, each in the order it began: the calls on
// one key come from one writer, one after the other.
func (l *ledger) byKey() map[string][]*op {
	m := map[string][]*op{}
	for _, o := range l.ops {
		m[o.key] = append(m[o.key], o)
	}
	return m
}

// ackedCalls counts the acknowledged calls.
func (l *ledger) ackedCalls() int {
	n := 0
	for _, o := range l.ops {
		if o.acked > 0 {
			n++
		}
	}
	return n
}
