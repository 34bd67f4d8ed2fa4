// Command keelgen generates the typed tables, row codecs, reducer bindings
// and module value of a Keel module package. Run it from go generate:
//
//	//go:generate go tool keelgen
//
// It reads the package in the current directory (or -dir) and writes
// keel_gen.go (or -o) next to it. With -remote it also writes the module's
// network client, package remote in the directory remote below it
// (remote/keel_gen.go: Dial, Remote), which imports server/client and so
// the WebSocket library and net/http; the module package itself does not.
// See package codegen for the markers and the db tag grammar.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keeldb/keel/codegen"
)

func main() {
	dir := flag.String("dir", ".", "the module package's `directory`")
	out := flag.String("o", codegen.DefaultOutput, "the generated `file` name, inside the package directory")
	remote := flag.Bool("remote", false, "also write the network client, package remote in the directory remote")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: keelgen [-dir directory] [-o file] [-remote]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*dir, *out, *remote); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(dir, out string, remote bool) error {
	// Loading a directory that is not there fails in the go command's
	// start, with an error that names the go binary instead.
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("keelgen: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("keelgen: %s is not a directory", dir)
	}
	o, err := codegen.Generate(codegen.Config{Dir: dir, Output: out, Remote: remote})
	if errors.Is(err, codegen.ErrFormat) {
		// Keep the raw source for inspection, and fail.
		if werr := os.WriteFile(o.Path, o.Src, 0o644); werr != nil {
			return fmt.Errorf("%w (and writing the raw source: %w)", err, werr)
		}
		return fmt.Errorf("%w; the unformatted source is in %s", err, o.Path)
	}
	if err != nil {
		return err
	}
	if err := write(o); err != nil {
		return err
	}
	if o.Remote != nil {
		if err := os.MkdirAll(filepath.Dir(o.Remote.Path), 0o755); err != nil {
			return fmt.Errorf("keelgen: %w", err)
		}
		return write(o.Remote)
	}
	return nil
}

// write writes o unless the file already holds it.
func write(o *codegen.Output) error {
	if old, rerr := os.ReadFile(o.Path); rerr == nil && string(old) == string(o.Src) {
		return nil
	}
	if err := os.WriteFile(o.Path, o.Src, 0o644); err != nil {
		return fmt.Errorf("keelgen: %w", err)
	}
	return nil
}
