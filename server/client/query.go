package client

import (
	"context"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
)

// Result is the answer to a one-off query: its columns and rows, each row
// the values of the columns in order.
type Result struct {
	Tx      uint64
	Columns []string
	Kinds   []codec.Kind
	Rows    [][]codec.Value
}

// Query runs a one-off query (the SQL subset, with column lists,
// COUNT(*) and LIMIT) against the newest durable state.
func (c *Conn) Query(ctx context.Context, sql string) (*Result, error) {
	r, err := c.request(ctx, func(id uint64) []byte {
		b := []byte{tagOneOffQuery}
		b = codec.AppendUvarint(b, id)
		return codec.AppendString(b, sql)
	})
	if err != nil {
		return nil, err
	}
	d := r.body
	if !d.Bool() {
		return nil, queryError("query", d)
	}
	res := &Result{Tx: d.Uvarint()}
	for range d.Count() {
		res.Columns = append(res.Columns, d.Text())
		k, err := codec.ParseKind(d.Text())
		if err != nil {
			return nil, kerr.Errorf("keel: client: OneOffQueryResult: %w", err)
		}
		res.Kinds = append(res.Kinds, k)
	}
	for range d.Count() {
		row, err := codec.DecodeRow(res.Kinds, d.Bytes(false), nil)
		if err != nil {
			return nil, kerr.Errorf("keel: client: OneOffQueryResult: %w", err)
		}
		res.Rows = append(res.Rows, row)
	}
	return res, d.Err()
}
