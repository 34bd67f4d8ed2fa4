#!/usr/bin/env bash
# The README's "Using Keel in your own module", run as written: a module
# of its own in a temporary directory outside the repository adds Keel
# with a replace directive pointing at this checkout, pins keelgen with
# the tool directive, declares a table and a reducer, generates with
# go tool keelgen, builds, and runs a main that opens the database with
# keel.Open, calls the reducer and prints a row, twice (the second run
# replays the first one's commit from disk).
#
# Needs no network beyond the Go module proxy: Keel's dependencies come
# from the module cache (or the proxy), and their checksums from this
# checkout's go.sum.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

go mod init example.com/notesapp >/dev/null 2>&1
go mod edit -require=github.com/keeldb/keel@v0.0.0 -replace=github.com/keeldb/keel="$repo"
go mod edit -tool=github.com/keeldb/keel/cmd/keelgen
cp "$repo/go.sum" go.sum

mkdir notes
cat > notes/notes.go <<'GO'
// Package notes is a Keel module: one table and one reducer.
package notes

import "fmt"

//go:generate go tool keelgen

// Note is a short text kept under a unique title.
//
//keel:table
type Note struct {
	ID    uint64 `db:"pk,autoinc"`
	Title string `db:"unique"`
	Body  string
}

// AddNote stores a new note; its ID comes from the sequence.
//
//keel:reducer
func AddNote(ctx *Ctx, title, body string) (Note, error) {
	n, err := ctx.DB.Note().Insert(Note{Title: title, Body: body})
	if err != nil {
		return Note{}, fmt.Errorf("notes: add %s: %w", title, err)
	}
	return n, nil
}
GO
cat > main.go <<'GO'
// Command notesapp opens the notes module in a data directory, adds a
// note and prints it as a view reads it.
package main

import (
	"context"
	"fmt"
	"os"

	"example.com/notesapp/notes"
	"github.com/keeldb/keel"
)

func main() {
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(dir, title, body string) error {
	ctx := context.Background()
	db, err := keel.Open(dir, notes.Module, keel.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	client := notes.NewClient(db, "me")
	if _, err := client.AddNote(ctx, title, body); err != nil {
		return err
	}
	v, err := client.View(ctx)
	if err != nil {
		return err
	}
	n, ok := v.Note().ByTitle().Find(title)
	if !ok {
		return fmt.Errorf("no note %q in the view", title)
	}
	fmt.Printf("note %d %q: %s (%d notes)\n", n.ID, n.Title, n.Body, v.Note().Count())
	return db.Close()
}
GO

go mod tidy
go generate ./...
test -f notes/keel_gen.go
go mod tidy # what the generated code imports
go vet ./...
go build -o notesapp .

# The second note's ID comes after the sequence's persisted batch
# boundary (1025 with the default batch of 1024): any ID above 1 is right.
first=$(./notesapp data hello "from my own module")
second=$(./notesapp data again "after a restart")
echo "$first"; echo "$second"
if [ "$first" != 'note 1 "hello": from my own module (1 notes)' ] ||
   ! [[ "$second" =~ ^note\ ([0-9]+)\ \"again\":\ after\ a\ restart\ \(2\ notes\)$ ]] ||
   [ "${BASH_REMATCH[1]}" -le 1 ]; then
  echo "own module: unexpected output"; exit 1
fi
