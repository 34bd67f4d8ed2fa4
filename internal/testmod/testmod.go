// Package testmod is a hand-written module of the shape keelgen emits: the
// tables and reducers that the table, runtime and wal tests share.
package testmod

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// Post is a row of the post table: pk autoinc, a unique slug, an index on
// author.
type Post struct {
	ID     uint64
	Slug   string
	Author string
	Title  string
}

// PostPK, PostSlug and PostAuthor are the post table's indexes.
var (
	PostPK = &table.Index[Post]{Name: "post_pk", Columns: []string{"id"}, Unique: true,
		Compare:  func(a, b *Post, n int) int { return cmp.Compare(a.ID, b.ID) },
		Format:   func(r *Post, n int) string { return fmt.Sprintf("id=%d", r.ID) },
		Key:      func(r *Post) uint64 { return table.KeyUint(r.ID) },
		KeyExact: true}
	PostSlug = &table.Index[Post]{Name: "post_slug", Columns: []string{"slug"}, Unique: true,
		Compare: func(a, b *Post, n int) int { return strings.Compare(a.Slug, b.Slug) },
		Format:  func(r *Post, n int) string { return fmt.Sprintf("slug=%q", r.Slug) },
		Key:     func(r *Post) uint64 { return table.KeyString(r.Slug) }}
	PostAuthor = &table.Index[Post]{Name: "post_author", Columns: []string{"author"},
		Compare: func(a, b *Post, n int) int { return strings.Compare(a.Author, b.Author) },
		Format:  func(r *Post, n int) string { return fmt.Sprintf("author=%q", r.Author) },
		Key:     func(r *Post) uint64 { return table.KeyString(r.Author) }}
)

// NewPostDef describes the post table with the given sequence parameters.
func NewPostDef(p table.SeqParams[uint64]) *table.Def[Post] {
	return &table.Def[Post]{
		Name: "post",
		Columns: []table.Column{{Name: "id", Type: "uint64"}, {Name: "slug", Type: "string"},
			{Name: "author", Type: "string"}, {Name: "title", Type: "string"}},
		Primary:   PostPK,
		Indexes:   []*table.Index[Post]{PostSlug, PostAuthor},
		Sequences: []table.AutoInc[Post]{table.NewAutoInc("post_id_seq", "id", p, func(r *Post) *uint64 { return &r.ID })},
		Encode: func(dst []byte, r *Post) []byte {
			dst = codec.AppendUvarint(dst, r.ID)
			dst = codec.AppendString(dst, r.Slug)
			dst = codec.AppendString(dst, r.Author)
			return codec.AppendString(dst, r.Title)
		},
		Decode: func(src []byte, r *Post) error {
			d := codec.NewReader(src)
			r.ID, r.Slug, r.Author, r.Title = d.Uvarint(), d.Text(), d.Text(), d.Text()
			return d.Err()
		},
	}
}

// Order is a row of the order table: a composite key of a partition
// (shop) and an autoinc id, Table Store's layout; and a multi-column index
// on (shop, status).
type Order struct {
	Shop   string
	ID     int64
	Status string
	Amount int64
}

// OrderPK and OrderStatus are the order table's indexes.
var (
	OrderPK = &table.Index[Order]{Name: "order_pk", Columns: []string{"shop", "id"}, Unique: true,
		Compare: func(a, b *Order, n int) int {
			if c := strings.Compare(a.Shop, b.Shop); c != 0 || n == 1 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		},
		Format: func(r *Order, n int) string {
			if n == 1 {
				return fmt.Sprintf("shop=%q", r.Shop)
			}
			return fmt.Sprintf("shop=%q, id=%d", r.Shop, r.ID)
		},
		Key: func(r *Order) uint64 { return table.KeyString(r.Shop) }}
	OrderStatus = &table.Index[Order]{Name: "order_shop_status", Columns: []string{"shop", "status"},
		Compare: func(a, b *Order, n int) int {
			if c := strings.Compare(a.Shop, b.Shop); c != 0 || n == 1 {
				return c
			}
			return strings.Compare(a.Status, b.Status)
		},
		Format: func(r *Order, n int) string { return fmt.Sprintf("shop=%q, status=%q", r.Shop, r.Status) },
		Key:    func(r *Order) uint64 { return table.KeyString(r.Shop) }}
)

// NewOrderDef describes the order table.
func NewOrderDef() *table.Def[Order] {
	return &table.Def[Order]{
		Name: "order",
		Columns: []table.Column{{Name: "shop", Type: "string"}, {Name: "id", Type: "int64"},
			{Name: "status", Type: "string"}, {Name: "amount", Type: "int64"}},
		Primary:   OrderPK,
		Indexes:   []*table.Index[Order]{OrderStatus},
		Sequences: []table.AutoInc[Order]{table.NewAutoInc("order_id_seq", "id", table.SeqParams[int64]{Batch: 16}, func(r *Order) *int64 { return &r.ID })},
		Encode: func(dst []byte, r *Order) []byte {
			dst = codec.AppendString(dst, r.Shop)
			dst = codec.AppendVarint(dst, r.ID)
			dst = codec.AppendString(dst, r.Status)
			return codec.AppendVarint(dst, r.Amount)
		},
		Decode: func(src []byte, r *Order) error {
			d := codec.NewReader(src)
			r.Shop, r.ID, r.Status, r.Amount = d.Text(), d.Varint(), d.Text(), d.Varint()
			return d.Err()
		},
	}
}

// Module holds one instance of the test module's descriptions. Name,
// Tables and Reducers are what keel.Module holds (keeltest.Module makes
// one); the typed reducers are for keel.Run.
type Module struct {
	Post     *table.Def[Post]
	Order    *table.Def[Order]
	Name     string
	Tables   []table.Schema
	Reducers []*reducer.Def

	AddPost  *reducer.Func[AddPostArgs, Post]
	AddOrder *reducer.Func[Order, Order]
	// AddPostOrder inserts a post and an order of shop slug, in one
	// transaction.
	AddPostOrder *reducer.Func[AddPostArgs, PostOrder]
	Fail         *reducer.Func[string, struct{}]
	Panic        *reducer.Func[string, struct{}]
}

// AddPostArgs are AddPost's arguments.
type AddPostArgs struct{ Slug, Author, Title string }

// PostOrder is what AddPostOrder stored.
type PostOrder struct {
	Post  Post
	Order Order
}

// New builds the test module: a post table with the given sequence
// parameters, the order table, and reducers AddPost, AddOrder, Fail, Panic
// and an init reducer that inserts the post "hello".
func New(p table.SeqParams[uint64]) *Module {
	m := &Module{Post: NewPostDef(p), Order: NewOrderDef(), Name: "testmod"}
	posts := m.Post
	orders := m.Order
	m.Tables = []table.Schema{posts, orders}
	m.AddPost = reducer.New("AddPost", func(c *reducer.Ctx, a AddPostArgs) (Post, error) {
		return table.Use(c.Tx, posts).Insert(Post{Slug: a.Slug, Author: a.Author, Title: a.Title})
	}, reducer.Codec[AddPostArgs]{
		Append: func(dst []byte, a *AddPostArgs) []byte {
			return codec.AppendString(codec.AppendString(codec.AppendString(dst, a.Slug), a.Author), a.Title)
		},
		Decode: func(src []byte, a *AddPostArgs) error {
			d := codec.NewReader(src)
			a.Slug, a.Author, a.Title = d.Text(), d.Text(), d.Text()
			return d.Err()
		},
	}, reducer.Codec[Post]{Append: posts.Encode, Decode: posts.Decode})
	m.AddOrder = reducer.New("AddOrder", func(c *reducer.Ctx, o Order) (Order, error) {
		return table.Use(c.Tx, orders).Insert(o)
	}, reducer.Codec[Order]{}, reducer.Codec[Order]{})
	m.AddPostOrder = reducer.New("AddPostOrder", func(c *reducer.Ctx, a AddPostArgs) (PostOrder, error) {
		var po PostOrder
		var err error
		if po.Post, err = table.Use(c.Tx, posts).Insert(Post{Slug: a.Slug, Author: a.Author, Title: a.Title}); err != nil {
			return po, err
		}
		po.Order, err = table.Use(c.Tx, orders).Insert(Order{Shop: a.Slug})
		return po, err
	}, reducer.Codec[AddPostArgs]{}, reducer.Codec[PostOrder]{})
	m.Fail = reducer.New("Fail", func(c *reducer.Ctx, slug string) (struct{}, error) {
		if _, err := table.Use(c.Tx, posts).Insert(Post{Slug: slug}); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, fmt.Errorf("testmod: Fail after inserting %s", slug)
	}, reducer.Codec[string]{}, reducer.Codec[struct{}]{})
	m.Panic = reducer.New("Panic", func(c *reducer.Ctx, slug string) (struct{}, error) {
		if _, err := table.Use(c.Tx, posts).Insert(Post{Slug: slug}); err != nil {
			return struct{}{}, err
		}
		panic("testmod: Panic after inserting " + slug)
	}, reducer.Codec[string]{}, reducer.Codec[struct{}]{})
	m.Reducers = []*reducer.Def{
		reducer.NewInit("Init", func(c *reducer.Ctx) error {
			_, err := table.Use(c.Tx, posts).Insert(Post{Slug: "hello", Author: "keel", Title: "Hello"})
			return err
		}),
		&m.AddPost.Def, &m.AddOrder.Def, &m.AddPostOrder.Def, &m.Fail.Def, &m.Panic.Def,
	}
	return m
}
