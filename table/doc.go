// Package table holds Keel's rows in memory: B-tree tables with a primary
// key, unique and non-unique (also multi-column) indexes, hash indexes for
// point lookups, integer sequences for autoinc columns, the transaction
// with its undo log, and copy-on-write views for readers.
//
// A table is described by a Def: its columns, indexes, sequences, key
// comparators and row codec. Generated code emits these; tests write them
// by hand. Nothing here uses reflection.
//
// # Indexes
//
// Every index, the primary key included, is a tidwall/btree B-tree of
// 24-byte entries, except a unique index or primary key with Index.Hash,
// which is a hash index (open addressing, shared copy-on-write with views
// like the B-trees' nodes; point lookups only, no order). A B-tree entry
// holds a pointer to the row, the row's inline key, and two bytes that
// only search probes use. The inline key is Index.Key of the index's first
// column (0 without one), an 8-byte image whose order agrees with Compare.
// A search compares inline keys and reads the rows, through Compare, only
// when two keys are equal; a one-column unique index with an exact key
// (integers, bool, floats) reads no row but the one it finds. Strings keep
// their first 8 bytes, so rows that share them fall back to Compare.
// A non-unique index orders rows with equal keys by the primary key.
//
// # Rows handed out
//
// The trees hold pointers to stored rows; a row handed out (by Get, Find
// and the scans, in a transaction or a view, as what Insert, Update and
// Delete return, and in a Commit's changes) is a copy whose bytes and
// slices are copied too (Def.Clone), so that a caller that changes one in
// place, and then writes it back or not, changes neither the stored row
// nor a view nor what a rollback restores.
//
// The package does not run reducers, write logs or take locks: the runtime
// serializes transactions (one open Tx per DB at a time: a begin or a view
// while one is open fails with ErrTxOpen, a write through a Table of a
// finished one with ErrTxDone) and hands each Commit's row changes and
// sequence boundary moves to the log.
//
// # Sequences
//
// Each autoinc column has a Sequence (see its state machine). Zero in an
// autoinc column asks for a value; a non-zero value is stored as given and,
// only for columns with SeqParams.Advance, moves the sequence past it once
// its row is stored (a write that fails moves nothing). A generated value
// that collides in a unique index is skipped (see Table.Insert).
// Sequences hand out values from memory in batches and report each
// boundary move in the next Commit's Seqs, also when the transaction that
// caused it rolled back. An explicit value that the batch in use still
// holds moves no boundary; one beyond the batch does, so that explicit
// keys inserted in order persist one move per batch, as generated ones do.
package table
