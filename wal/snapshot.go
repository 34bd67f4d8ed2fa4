package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

const snapMagic = "KEELSNAP"

// snapshotName is the file name of the snapshot that holds the state after
// log entry index.
func snapshotName(index uint64) string { return fmt.Sprintf("snapshot-%020d.keel", index) }

// SnapshotFile is a snapshot file of a data directory.
type SnapshotFile struct {
	Path  string
	Index uint64 // the last log entry the snapshot holds
}

// listSnapshots returns the snapshot files of dir, newest first.
func listSnapshots(dir string) ([]SnapshotFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, kerr.Errorf("keel: wal: %w", err)
	}
	var out []SnapshotFile
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, "snapshot-") || !strings.HasSuffix(name, ".keel") {
			continue
		}
		idx, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, "snapshot-"), ".keel"), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, SnapshotFile{Path: filepath.Join(dir, name), Index: idx})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index > out[j].Index })
	return out, nil
}

// snapshotState is what a snapshot holds.
type snapshotState struct {
	view   *table.View
	tables []string
	seqs   []table.SeqMove
	index  uint64 // last log entry included
	txid   uint64
	fp     Fingerprint
	schema []byte

	entries, bytes uint64 // the log's counters when it was taken
}

// writeSnapshot writes st to dir/name.tmp and fsyncs it; the caller
// renames it into place once the log is durable through st.index.
func writeSnapshot(tmp string, st *snapshotState) (err error) {
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	h := crc32.New(castagnoli)
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	put := func(b []byte) error {
		h.Write(b)
		_, err := w.Write(b)
		return err
	}
	buf = append(buf, snapMagic...)
	buf = append(buf, Version)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(st.fp))
	buf = binary.AppendUvarint(buf, st.index)
	buf = binary.AppendUvarint(buf, st.txid)
	buf = binary.AppendUvarint(buf, uint64(len(st.schema)))
	buf = append(buf, st.schema...)
	buf = binary.AppendUvarint(buf, uint64(len(st.tables)))
	if err := put(buf); err != nil {
		return err
	}
	for _, name := range st.tables {
		buf = appendString(buf[:0], name)
		if err := put(buf); err != nil {
			return err
		}
		err := st.view.Rows(name, func(row []byte) error {
			buf = binary.AppendUvarint(buf[:0], uint64(len(row))+1)
			if err := put(buf); err != nil {
				return err
			}
			return put(row)
		})
		if err != nil {
			return err
		}
		if err := put([]byte{0}); err != nil {
			return err
		}
	}
	buf = appendSeqs(buf[:0], st.seqs)
	if err := put(buf); err != nil {
		return err
	}
	if _, err := w.Write(binary.LittleEndian.AppendUint32(nil, h.Sum32())); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Sync()
}

// Snapshot is a decoded snapshot file; rows alias the file's bytes.
type Snapshot struct {
	Fingerprint Fingerprint // of the schema that wrote it
	Index       uint64      // the last log entry it holds
	TxID        uint64
	Schema      []byte // the schema description, as in schema.json
	Tables      []SnapshotTable
	Seqs        []table.SeqMove
}

// SnapshotTable is one table of a snapshot, its rows in primary-key order.
type SnapshotTable struct {
	Name string
	Rows [][]byte
}

// ReadSnapshot reads and checks a snapshot file.
func ReadSnapshot(path string) (*Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, kerr.Errorf("keel: wal: %w", err)
	}
	s, reason := decodeSnapshot(data)
	if reason != "" {
		return nil, &CorruptError{File: path, Reason: reason}
	}
	return s, nil
}

func decodeSnapshot(data []byte) (*Snapshot, string) {
	if len(data) < len(snapMagic)+1+4 || !bytes.Equal(data[:len(snapMagic)], []byte(snapMagic)) {
		return nil, "not a snapshot file"
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, "checksum mismatch"
	}
	if v := body[len(snapMagic)]; v != Version {
		if v == 1 {
			return nil, "snapshot of format version 1, written by an older Keel"
		}
		return nil, fmt.Sprintf("unknown snapshot version %d", v)
	}
	if len(body) < len(snapMagic)+1+8 {
		return nil, "snapshot header cut short"
	}
	s := &Snapshot{Fingerprint: Fingerprint(binary.LittleEndian.Uint64(body[len(snapMagic)+1:]))}
	d := newDecoder(body, len(snapMagic)+1+8)
	s.Index, s.TxID, s.Schema = d.Uvarint(), d.Uvarint(), d.Bytes(true)
	nt := d.Count()
	for i := 0; i < nt && !d.failed(); i++ {
		t := SnapshotTable{Name: string(d.Bytes(true))}
		for !d.failed() {
			n := d.Uvarint()
			if n == 0 || d.failed() {
				break
			}
			if n-1 > uint64(len(body)-d.Offset()) {
				d.invalid("row length")
				break
			}
			t.Rows = append(t.Rows, d.Next(int(n-1)))
		}
		s.Tables = append(s.Tables, t)
	}
	s.Seqs = d.seqs(nil)
	if err := d.done(); err != nil {
		return nil, err.Error()
	}
	return s, ""
}

// load puts the snapshot's rows and sequence states into an empty
// database.
func (s *Snapshot) load(r *replayer) error {
	t, err := tx.BeginAt(r.db, s.TxID)
	if err != nil {
		return err
	}
	defer tx.Rollback(t)
	for _, st := range s.Tables {
		if r.old != nil {
			// A snapshot of an older schema (migrate.go).
			mode, err := r.old.mode(st.Name)
			if err != nil {
				return err
			}
			switch mode {
			case modeSkip:
				continue
			case modeCollect:
				r.old.tables[st.Name].base = st.Rows
				continue
			}
		}
		name, err := r.table([]byte(st.Name))
		if err != nil {
			return err
		}
		if err := tx.Load(t, name, st.Rows); err != nil {
			return err
		}
		r.rows += uint64(len(st.Rows))
	}
	for _, m := range s.Seqs {
		if r.old != nil {
			r.old.seq(m)
			continue
		}
		if err := tx.RestoreSequence(r.db, m); err != nil {
			return err
		}
	}
	tx.Commit(t)
	tx.Release(r.db)
	return nil
}

// checkSchema refuses a snapshot written by another schema than the
// module's (fingerprint fp, description schema), naming the difference.
func (s *Snapshot) checkSchema(path string, fp Fingerprint, schema []byte) error {
	if s.Fingerprint == fp {
		return nil
	}
	var theirs, ours storedSchema
	if err := json.Unmarshal(s.Schema, &theirs); err != nil {
		return &CorruptError{File: path, Reason: fmt.Sprintf("schema description: %v", err)}
	}
	json.Unmarshal(schema, &ours)
	diff := diffSchema(theirs.Tables, ours.Tables)
	if diff == nil {
		diff = fmt.Errorf("fingerprint %s, the module's is %s", s.Fingerprint, fp)
	}
	return &ForeignError{File: path, Module: theirs.Module, Found: s.Fingerprint, Want: fp, Diff: diff}
}
