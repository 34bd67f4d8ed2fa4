package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

func readAll(dir string) ([]*wal.SegmentReport, error) {
	segs, err := wal.Segments(dir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("keel: %w", err) // no such directory, rather than an empty one
		}
		return nil, fmt.Errorf("keel: %s has no log segments", dir)
	}
	var out []*wal.SegmentReport
	for _, s := range segs {
		r, err := wal.ReadSegment(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// checked is what wal.Check, as verify reads it, found in a data
// directory's segments, for their status.
type checked struct {
	rep *wal.CheckReport
	ok  bool // Open accepts the directory, maybe after a repair
}

// check runs wal.Check on dir for its segments rs; nil when Check could
// not list them (Open would fail before: schema.json) or they changed in
// between.
func check(dir string, rs []*wal.SegmentReport) *checked {
	rep, err := wal.Check(dir)
	if rep == nil || len(rep.Segments) != len(rs) {
		return nil
	}
	for i, s := range rep.Segments {
		if s.Path != rs[i].Path {
			return nil
		}
	}
	return &checked{rep: rep, ok: err == nil}
}

// status says how segment i, r, ends, and what Open does about it, as
// Check classifies it where it can: damage Open accepts is no corruption.
func status(c *checked, i int, r *wal.SegmentReport, last bool) string {
	if r.Damage != nil && c != nil {
		if st := accepted(c.rep, c.ok, i, r.Damage); st != "" {
			return st
		}
	}
	switch {
	case r.Damage == nil:
		return "ok"
	case r.Zeros && last:
		return fmt.Sprintf("ok, %d bytes preallocated after entry %d (offset %d): open drops them", r.Size-r.Damage.Offset, r.Damage.Index-1, r.Damage.Offset)
	case r.Torn && last:
		return fmt.Sprintf("torn tail at entry %d offset %d (%s): open repairs it", r.Damage.Index, r.Damage.Offset, r.Damage.Reason)
	default:
		return fmt.Sprintf("CORRUPT at entry %d offset %d (%s)", r.Damage.Index, r.Damage.Offset, r.Damage.Reason)
	}
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0) }

// lastEntry is the last valid entry of a segment, first-1 when it has none.
func lastEntry(r *wal.SegmentReport) uint64 { return r.First + uint64(len(r.Entries)) - 1 }

func segments(w io.Writer, dir string) error {
	rs, err := readAll(dir)
	if err != nil {
		return err
	}
	c := check(dir, rs)
	tw := newTable(w)
	fmt.Fprintln(tw, "SEGMENT\tFIRST\tLAST\tBYTES\tSTATUS")
	for i, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", r.Path, r.First, lastEntry(r), r.Size, status(c, i, r, i == len(rs)-1))
	}
	return tw.Flush()
}

func entries(w io.Writer, dir string) error {
	rs, err := readAll(dir)
	if err != nil {
		return err
	}
	c := check(dir, rs)
	tw := newTable(w)
	var rec wal.Record
	fmt.Fprintln(tw, "INDEX\tTXID\tBYTES\tTIME\tREDUCER\tCALLER\tCHANGES")
	for i, r := range rs {
		for _, e := range r.Entries {
			if err := wal.DecodeRecord(e.Data, &rec); err != nil {
				fmt.Fprintf(tw, "%d\t\t%d\tundecodable: %v\n", e.Index, len(e.Data), err)
				continue
			}
			var ch []string
			for _, t := range rec.Tables {
				ch = append(ch, fmt.Sprintf("%s:%d", label(t.Table), len(t.Changes)))
			}
			if len(rec.Seqs) > 0 {
				ch = append(ch, fmt.Sprintf("seqs:%d", len(rec.Seqs)))
			}
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%s\n", e.Index, rec.TxID, len(e.Data),
				rec.Time.UTC().Format(stamp), label(rec.Reducer), label(rec.Caller), orDash(strings.Join(ch, " ")))
		}
		if r.Damage != nil {
			// The table ends here for this segment: its damage is a
			// line of its own, not a row.
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(w, "%s: %s\n", r.Path, status(c, i, r, i == len(rs)-1))
		}
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// label is a reducer, caller, table or sequence name as a record or a
// snapshot stores it: "-" for none, quoted when it is "-" itself or holds
// a space, a quote or a character that does not print (a tab or a newline
// would split a table's columns or forge a line).
func label(s string) string {
	if s == "" {
		return "-"
	}
	if s == "-" || strings.ContainsFunc(s, func(r rune) bool {
		return r == utf8.RuneError || r == '"' || unicode.IsSpace(r) || !unicode.IsGraphic(r)
	}) {
		return strconv.Quote(s)
	}
	return s
}

func show(w io.Writer, dir string, idx uint64) error {
	rs, err := readAll(dir)
	if err != nil {
		return err
	}
	rows, err := newRowPrinter(dir)
	if err != nil {
		return err
	}
	for _, r := range rs {
		for _, e := range r.Entries {
			if e.Index != idx {
				continue
			}
			var rec wal.Record
			if err := wal.DecodeRecord(e.Data, &rec); err != nil {
				return kerr.Errorf("keel: %s entry %d at offset %d: %w", r.Path, idx, e.Offset, err)
			}
			fmt.Fprintf(w, "entry %d (%s, offset %d, %d bytes, crc32c ok)\n", idx, r.Path, e.Offset, len(e.Data))
			fmt.Fprintf(w, "  tx %d at %s, reducer %s, caller %s\n", rec.TxID, rec.Time.UTC().Format(stamp), label(rec.Reducer), label(rec.Caller))
			tables, older, foreign := rows.schema(rec.Schema)
			switch {
			case foreign:
				fmt.Fprintf(w, "  written by schema %s, not by this directory's schema %s: open refuses it, and its rows are shown as hex\n", rec.Schema, rows.fp)
			case older:
				fmt.Fprintf(w, "  written by schema %s of the directory's history, before a migration to schema %s: its rows are shown by that schema's kinds\n", rec.Schema, rows.fp)
			}
			for _, t := range rec.Tables {
				fmt.Fprintf(w, "  table %s: %s\n", label(t.Table), plural(len(t.Changes), "change"))
				for _, c := range t.Changes {
					fmt.Fprintf(w, "    %s", c.Op)
					if c.Op == table.OpDelete || c.Op == table.OpUpdate {
						fmt.Fprintf(w, " old: %s", rows.format(tables, t.Table, c.Old))
					}
					if c.Op == table.OpInsert || c.Op == table.OpUpdate {
						fmt.Fprintf(w, " new: %s", rows.format(tables, t.Table, c.New))
					}
					fmt.Fprintln(w)
				}
			}
			for _, m := range rec.Seqs {
				ex := ""
				if m.Exhausted {
					ex = " (exhausted)"
				}
				fmt.Fprintf(w, "  sequence %s.%s resumes at %d%s\n", label(m.Table), label(m.Sequence), m.Next, ex)
			}
			return nil
		}
	}
	return fmt.Errorf("keel: no valid entry %d in %s", idx, dir)
}

const stamp = "2006-01-02T15:04:05.000000000Z07:00"

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
