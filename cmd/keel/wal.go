package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keeldb/keel/wal"
)

func readAll(dir string) ([]*wal.SegmentReport, error) {
	segs, err := wal.Segments(dir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
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

func status(r *wal.SegmentReport, last bool) string {
	switch {
	case r.Damage == nil:
		return "ok"
	case r.Zeros && last:
		return fmt.Sprintf("ok, %d bytes preallocated after entry %d (offset %d)", r.Size-r.Damage.Offset, r.Damage.Index-1, r.Damage.Offset)
	case r.Torn && last:
		return fmt.Sprintf("torn tail at entry %d offset %d (%s): open repairs it", r.Damage.Index, r.Damage.Offset, r.Damage.Reason)
	default:
		return fmt.Sprintf("CORRUPT at entry %d offset %d (%s)", r.Damage.Index, r.Damage.Offset, r.Damage.Reason)
	}
}

func segments(w io.Writer, dir string) error {
	rs, err := readAll(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-40s %12s %12s %10s  %s\n", "segment", "first", "last", "bytes", "status")
	for i, r := range rs {
		fmt.Fprintf(w, "%-40s %12d %12d %10d  %s\n", r.Path, r.First, r.First+uint64(len(r.Entries))-1, r.Size, status(r, i == len(rs)-1))
	}
	return nil
}

func entries(w io.Writer, dir string) error {
	rs, err := readAll(dir)
	if err != nil {
		return err
	}
	var rec wal.Record
	fmt.Fprintf(w, "%10s %10s %8s  %-30s %-16s %-12s %s\n", "index", "txid", "bytes", "time", "reducer", "caller", "changes")
	for i, r := range rs {
		for _, e := range r.Entries {
			if err := wal.DecodeRecord(e.Data, &rec); err != nil {
				fmt.Fprintf(w, "%10d  undecodable: %v\n", e.Index, err)
				continue
			}
			var ch []string
			for _, t := range rec.Tables {
				ch = append(ch, fmt.Sprintf("%s:%d", t.Table, len(t.Changes)))
			}
			if len(rec.Seqs) > 0 {
				ch = append(ch, fmt.Sprintf("seqs:%d", len(rec.Seqs)))
			}
			fmt.Fprintf(w, "%10d %10d %8d  %-30s %-16s %-12s %s\n", e.Index, rec.TxID, len(e.Data),
				rec.Time.UTC().Format(stamp), orDash(rec.Reducer), orDash(rec.Caller), strings.Join(ch, " "))
		}
		if r.Damage != nil {
			fmt.Fprintf(w, "%s: %s\n", r.Path, status(r, i == len(rs)-1))
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func show(w io.Writer, dir string, idx uint64) error {
	rs, err := readAll(dir)
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
				return fmt.Errorf("keel: entry %d: %w", idx, err)
			}
			fmt.Fprintf(w, "entry %d (%s, offset %d, %d bytes, crc32c ok)\n", idx, r.Path, e.Offset, len(e.Data))
			fmt.Fprintf(w, "  tx %d at %s, reducer %s, caller %s\n", rec.TxID, rec.Time.UTC().Format(stamp), orDash(rec.Reducer), orDash(rec.Caller))
			for _, t := range rec.Tables {
				fmt.Fprintf(w, "  table %s: %d changes\n", t.Table, len(t.Changes))
				for _, c := range t.Changes {
					fmt.Fprintf(w, "    %s", c.Op)
					if c.Old != nil {
						fmt.Fprintf(w, " old=%s", row(c.Old))
					}
					if c.New != nil {
						fmt.Fprintf(w, " new=%s", row(c.New))
					}
					fmt.Fprintln(w)
				}
			}
			for _, m := range rec.Seqs {
				ex := ""
				if m.Exhausted {
					ex = " (exhausted)"
				}
				fmt.Fprintf(w, "  sequence %s.%s resumes at %d%s\n", m.Table, m.Sequence, m.Next, ex)
			}
			return nil
		}
	}
	return fmt.Errorf("keel: no valid entry %d in %s", idx, dir)
}

func row(b []byte) string { return fmt.Sprintf("[%d]%s", len(b), hex.EncodeToString(b)) }

func verify(w io.Writer, dir string) error {
	rs, err := readAll(dir)
	if err != nil {
		return err
	}
	var bad []error
	n := 0
	for i, r := range rs {
		n += len(r.Entries)
		if r.Damage != nil {
			last := i == len(rs)-1
			fmt.Fprintf(w, "%s: %s\n", r.Path, status(r, last))
			if !(last && r.Torn) {
				bad = append(bad, r.Damage)
			}
		}
		if i > 0 && rs[i-1].First+uint64(len(rs[i-1].Entries)) != r.First && rs[i-1].Damage == nil {
			err := fmt.Errorf("keel: %s starts at entry %d, the segment before ends at %d", r.Path, r.First, rs[i-1].First+uint64(len(rs[i-1].Entries))-1)
			fmt.Fprintln(w, err)
			bad = append(bad, err)
		}
	}
	fmt.Fprintf(w, "log: %d segments, %d entries checked\n", len(rs), n)
	snaps, err := wal.Snapshots(dir)
	if err != nil {
		return err
	}
	for _, s := range snaps {
		if _, err := wal.ReadSnapshot(s.Path); err != nil {
			fmt.Fprintf(w, "%s: %v\n", s.Path, err)
			bad = append(bad, err)
			continue
		}
		fmt.Fprintf(w, "%s: ok\n", s.Path)
	}
	if len(bad) > 0 {
		return fmt.Errorf("keel: %d problems: %w", len(bad), errors.Join(bad...))
	}
	fmt.Fprintln(w, "all checksums ok")
	return nil
}

func snapshot(w io.Writer, dir string) error {
	snaps, err := wal.Snapshots(dir)
	if err != nil {
		return err
	}
	for _, s := range snaps {
		state := "ok"
		if _, err := wal.ReadSnapshot(s.Path); err != nil {
			state = err.Error()
		}
		fmt.Fprintf(w, "%s  index %d  %s\n", s.Path, s.Index, state)
	}
	sf, s, err := wal.SnapshotInUse(dir)
	if err != nil {
		return err
	}
	if sf == nil {
		fmt.Fprintln(w, "in use: none; open replays the log from entry 1")
		return nil
	}
	fmt.Fprintf(w, "in use: %s (state after log entry %d, transaction %d)\n", sf.Path, s.Index, s.TxID)
	for _, t := range s.Tables {
		n := 0
		for _, r := range t.Rows {
			n += len(r)
		}
		fmt.Fprintf(w, "  table %s: %d rows, %d bytes\n", t.Name, len(t.Rows), n)
	}
	for _, m := range s.Seqs {
		fmt.Fprintf(w, "  sequence %s.%s resumes at %d\n", m.Table, m.Sequence, m.Next)
	}
	return nil
}

const stamp = "2006-01-02T15:04:05.000000000Z07:00"
