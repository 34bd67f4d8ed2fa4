// Command keel is Keel's operator tool. Its wal command inspects a data
// directory without opening it (and without taking its lock):
//
//	keel wal segments DIR        list the log segments and their entry counts
//	keel wal entries DIR         list every entry: index, transaction, reducer, changes
//	keel wal show DIR INDEX      print one entry as text, rows as length and hex
//	keel wal verify DIR          check every checksum of the log and the snapshots
//	keel wal snapshot DIR        list the snapshots and show the one in use
//
// Rows are shown as their length and hex bytes: the tool has no module to
// decode them with.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

const usage = `usage:
  keel wal segments DIR
  keel wal entries DIR
  keel wal show DIR INDEX
  keel wal verify DIR
  keel wal snapshot DIR`

func run(w io.Writer, args []string) error {
	if len(args) < 3 || args[0] != "wal" {
		return fmt.Errorf("%s", usage)
	}
	dir := args[2]
	switch args[1] {
	case "segments":
		return segments(w, dir)
	case "entries":
		return entries(w, dir)
	case "show":
		if len(args) != 4 {
			return fmt.Errorf("%s", usage)
		}
		var idx uint64
		if _, err := fmt.Sscan(args[3], &idx); err != nil {
			return fmt.Errorf("keel: index %q: %w", args[3], err)
		}
		return show(w, dir, idx)
	case "verify":
		return verify(w, dir)
	case "snapshot":
		return snapshot(w, dir)
	}
	return fmt.Errorf("%s", usage)
}
