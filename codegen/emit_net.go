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
	g.p("// RemoteTables are the client caches of the module's public tables: the")
	g.p("// rows the subscriptions of a Remote hold, with their callbacks.")
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
	g.p("// Remote is a connection to a Keel server that runs this module (package")
	g.p("// server): Client's reducer methods run over it, and DB caches the rows")
	g.p("// its subscriptions hold. It reconnects with its token when the")
	g.p("// connection drops.")
	g.p("type Remote struct {")
	g.p("\tClient")
	g.p("\tDB   RemoteTables")
	g.p("\tconn *keelclient.Conn")
	g.p("}")
	g.p("")
	g.p("// Dial connects to the Keel server at url (ws://host/path) that runs")
	g.p("// this module.")
	g.p("func Dial(ctx context.Context, url string, opts keelclient.Options) (*Remote, error) {")
	g.p("\tc, err := keelclient.Dial(ctx, url, opts)")
	g.p("\tif err != nil {")
	g.p("\t\treturn nil, err")
	g.p("\t}")
	g.p("\tr := &Remote{Client: NewClient(c, c.Identity()), conn: c}")
	for _, t := range public {
		g.p("\tr.DB.%s = keelclient.NewTable(c, %sDef)", t.Go, t.Go)
	}
	g.p("\treturn r, nil")
	g.p("}")
	g.p("")
	g.p("// Net returns the connection: its identity and token, subscriptions of")
	g.p("// any query, one-off queries.")
	g.p("func (r *Remote) Net() *keelclient.Conn { return r.conn }")
	g.p("")
	g.p("// Subscribe subscribes to queries and returns once their rows are in DB.")
	g.p("func (r *Remote) Subscribe(ctx context.Context, queries ...string) (*keelclient.Subscription, error) {")
	g.p("\treturn r.conn.Subscribe(ctx, queries...)")
	g.p("}")
	g.p("")
	g.p("// Close closes the connection.")
	g.p("func (r *Remote) Close() error { return r.conn.Close() }")
	g.p("")
}
