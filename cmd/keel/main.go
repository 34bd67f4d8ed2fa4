package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() { os.Exit(run(os.Stdout, os.Stderr, os.Args[1:])) }

// command is one subcommand: its arguments after the flags, its usage
// line and what it does.
type command struct {
	name, args, help string
	nargs            int
	run              func(w io.Writer, args []string) error
}

var walCommands = []command{
	{"segments", "DIR", "list the log segments: entries, size, and the state of each one's end", 1,
		func(w io.Writer, a []string) error { return segments(w, a[0]) }},
	{"entries", "DIR", "list every entry: index, transaction, size, time, reducer, caller, changes", 1,
		func(w io.Writer, a []string) error { return entries(w, a[0]) }},
	{"show", "DIR INDEX", "print one entry, rows as column=value by the stored schema", 2,
		func(w io.Writer, a []string) error {
			idx, err := strconv.ParseUint(a[1], 10, 64)
			if err != nil {
				return usageError{fmt.Sprintf("INDEX %q is not an entry index", a[1])}
			}
			return show(w, a[0], idx)
		}},
	{"verify", "DIR", "read the directory as Open would; fail on anything Open would drop or refuse", 1,
		func(w io.Writer, a []string) error { return verify(w, a[0]) }},
	{"snapshot", "DIR", "list the snapshots and say which one Open would load and where it replays from", 1,
		func(w io.Writer, a []string) error { return snapshot(w, a[0]) }},
}

// usageError is a command line that does not parse: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run runs the command line args, writing output to stdout and errors to
// stderr, and returns the exit status.
func run(stdout, stderr io.Writer, args []string) int {
	err := dispatch(stdout, args)
	var u usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &u):
		// One keel: prefix, also before a message that names its
		// command ("keel wal: ..."): "keel: wal: ...".
		fmt.Fprintf(stderr, "keel: %s\n", strings.TrimPrefix(u.msg, "keel "))
		return 2
	default:
		fmt.Fprintln(stderr, err)
		return 1
	}
}

func dispatch(w io.Writer, args []string) error {
	top := newFlags("keel", "keel COMMAND ...", "Keel's operator tool.\n\ncommands:\n  wal        read a data directory's log and snapshots (keel wal -h)"+
		"\n  call       call a reducer of a Keel server: keel call URL REDUCER JSON-ARGS"+
		"\n  sql        run a one-off query on a server or a data directory: keel sql URL|DIR QUERY"+
		"\n  subscribe  print a query's rows and each transaction's changes: keel subscribe URL QUERY"+
		"\n  cluster    each node's role, term and applied index: keel cluster status URL..."+
		"\n  migrate    what opening a directory with a module would migrate: keel migrate plan DIR SCHEMA.json")
	rest, err := top.parse(w, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageError{"no command; see keel -h"}
	}
	if rest[0] == "cluster" {
		return clusterCmd(w, rest[1:]) // cmd/keel/cluster.go (issue 16)
	}
	if rest[0] == "migrate" {
		return migrate(w, rest[1:]) // cmd/keel/migrate.go
	}
	if ok, err := clientCommand(w, rest); ok { // call, sql, subscribe: client.go (issue 14)
		return err
	}
	if rest[0] != "wal" {
		return usageError{fmt.Sprintf("unknown command %q; see keel -h", rest[0])}
	}
	var list strings.Builder
	for _, c := range walCommands {
		fmt.Fprintf(&list, "\n  %-9s %s", c.name, c.help)
	}
	wal := newFlags("keel wal", "keel wal COMMAND DIR ...",
		"Read a data directory without opening it: no lock, no module, nothing written.\n\ncommands:"+list.String()+
			"\n\nkeel wal COMMAND -h describes each.")
	rest, err = wal.parse(w, rest[1:])
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageError{"keel wal: no command; see keel wal -h"}
	}
	for _, c := range walCommands {
		if c.name != rest[0] {
			continue
		}
		fs := newFlags("keel wal "+c.name, "keel wal "+c.name+" "+c.args, strings.ToUpper(c.help[:1])+c.help[1:]+".")
		a, err := fs.parse(w, rest[1:])
		if err != nil {
			return err
		}
		if len(a) != c.nargs {
			return usageError{fmt.Sprintf("usage: keel wal %s %s", c.name, c.args)}
		}
		return c.run(w, a)
	}
	return usageError{fmt.Sprintf("keel wal: unknown command %q; see keel wal -h", rest[0])}
}

// flags is the flag set of one command: it has no flags but -h, and it
// stops at the first argument, so that "keel wal verify -h" is the
// verify command's help.
type flags struct {
	fs          *flag.FlagSet
	usage, text string
}

func newFlags(name, usage, text string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{fs: fs, usage: usage, text: text}
}

// parse parses args. On -h it writes the usage to w and returns
// flag.ErrHelp.
func (f *flags) parse(w io.Writer, args []string) ([]string, error) {
	err := f.fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(w, "usage: %s\n\n%s\n", f.usage, f.text)
		return nil, err
	}
	if err != nil {
		return nil, usageError{fmt.Sprintf("%s: %v; see %s -h", f.fs.Name(), err, f.fs.Name())}
	}
	return f.fs.Args(), nil
}
