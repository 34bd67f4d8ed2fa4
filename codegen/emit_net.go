package codegen

// netClient writes the network client: Dial and Remote, a connection to
// a Keel server running the module with the module's typed Client on it
// and the caches of its public tables. The machinery is package
// server/client's; the generated part only names the tables.
func (g *emitter) netClient() {
	var public []*tableModel
	for _, t := range g.m.Tables {
		if t.Public {
			public = append(public, t)
		}
	}
	g.p("// RemoteTables are the client caches of the module's public tables.")
	if len(public) == 0 {
		g.p("type RemoteTables struct{}")
	} else {
		g.p("type RemoteTables struct {")
		for _, t := range public {
			g.p("\t%s *keelclient.Table[%s]", t.Go, t.Type)
		}
		g.p("}")
	}
	g.p("")
	g.p("// Remote is Client over a connection to a Keel server, with DB caching rows.")
	g.p("type Remote struct {")
	g.p("\tClient")
	g.p("\tDB RemoteTables")
	g.p("\t*keelclient.Conn")
	g.p("}")
	g.p("")
	g.p("// Dial connects to the Keel server at url (ws://host/path).")
	g.p("func Dial(ctx context.Context, url string, opts keelclient.Options) (*Remote, error) {")
	g.p("\tc, err := keelclient.Dial(ctx, url, opts)")
	g.p("\tif err != nil {")
	g.p("\t\treturn nil, err")
	g.p("\t}")
	if len(public) == 0 {
		g.p("\treturn &Remote{Client: NewClient(c, c.Identity()), Conn: c}, nil")
	} else {
		g.p("\tr := &Remote{Client: NewClient(c, c.Identity()), Conn: c}")
		for _, t := range public {
			g.p("\tr.DB.%s = keelclient.NewTable(c, %sDef)", t.Go, t.Go)
		}
		g.p("\treturn r, nil")
	}
	g.p("}")
	g.p("")
}
