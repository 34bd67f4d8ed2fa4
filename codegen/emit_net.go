package codegen

import (
	"bytes"
	"fmt"
	"go/format"
	"go/token"
	"path"
)

// RemoteDir is the directory, inside the module package's, of the package
// that keelgen -remote writes: the module's network client.
const RemoteDir = "remote"

// renderRemote writes the network client of m, whose package's import
// path is pkgPath, as package remote at out: Dial and Remote, a
// connection to a Keel server running the module with the module's typed
// Client on it and the caches of its public tables. The machinery is
// package server/client's; the generated part only names the tables. It
// is a package of its own so that the module package does not import
// server/client, and with it net/http and the WebSocket library: a
// program that opens the module in process never compiles them.
func renderRemote(m *module, pkgPath, out string) (*Output, error) {
	mod := m.Pkg
	switch mod {
	// The imports, the package's own name and the names Dial declares.
	case "context", "keelclient", "remote", "ctx", "url", "opts", "c", "err", "r":
		mod = "keelmod"
	}
	var public []*tableModel
	var errs ErrorList
	for _, t := range m.Tables {
		if !t.Public {
			continue
		}
		if !token.IsExported(t.Type) {
			errs = append(errs, &Error{Pos: t.Pos, Msg: fmt.Sprintf("public table %s: keelgen -remote names its row type outside the package; export type %s", t.Name, t.Type)})
		}
		public = append(public, t)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var b bytes.Buffer
	p := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	p("%s\n", Header)
	p("// Package remote is module %s over the network: Dial connects to a Keel", m.Pkg)
	p("// server running it (package server).")
	p("package remote\n")
	p("import (")
	p("\t\"context\"\n")
	modImport := fmt.Sprintf("%q", pkgPath)
	if mod != path.Base(pkgPath) {
		modImport = mod + " " + modImport
	}
	p("\t%s", modImport) // format.Source sorts the two
	p("\tkeelclient \"github.com/keeldb/keel/server/client\"")
	p(")\n")
	p("// Tables are the client caches of the module's public tables.")
	if len(public) == 0 {
		p("type Tables struct{}")
	} else {
		p("type Tables struct {")
		for _, t := range public {
			p("\t%s *keelclient.Table[%s.%s]", t.Go, mod, t.Type)
		}
		p("}")
	}
	p("")
	p("// Remote is %s.Client over a connection to a Keel server, with DB caching rows.", mod)
	p("type Remote struct {")
	p("\t%s.Client", mod)
	p("\tDB Tables")
	p("\t*keelclient.Conn")
	p("}")
	p("")
	p("// Dial connects to the Keel server at url (ws://host/path).")
	p("func Dial(ctx context.Context, url string, opts keelclient.Options) (*Remote, error) {")
	p("\tc, err := keelclient.Dial(ctx, url, opts)")
	p("\tif err != nil {")
	p("\t\treturn nil, err")
	p("\t}")
	p("\tr := &Remote{Client: %s.NewClient(c, c.Identity()), Conn: c}", mod)
	for _, t := range public {
		p("\tr.DB.%s = keelclient.NewTable(c, %s.%sDef)", t.Go, mod, t.Go)
	}
	p("\treturn r, nil")
	p("}")
	raw := b.Bytes()
	src, err := format.Source(raw)
	if err != nil {
		return &Output{Path: out, Src: raw}, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return &Output{Path: out, Src: src}, nil
}
