// Package blog is keelgen's golden module: every column type, every kind
// of index and sequence, and every reducer shape.
package blog

import (
	"errors"
	"time"
)

// Status is a named string column.
type Status string

// Cents is a named integer column.
type Cents int64

// Stamp is a named time column.
type Stamp time.Time

// Tags is a named slice column.
type Tags []string

//keel:table name=post
type Post struct {
	ID      uint64 `db:"pk,autoinc"`
	Slug    string `db:"unique"`
	Author  string `db:"index"`
	Title   string
	Body    []byte
	Tags    Tags
	Created time.Time `db:"index"`
	Draft   bool
	Score   float64
	cache   string `db:"-"`
}

//keel:table
type Order struct {
	Shop     string `db:"pk,index=by_shop_status"`
	ID       int64  `db:"pk,autoinc(batch=16)"`
	Status   Status `db:"index=by_shop_status"`
	Amount   Cents
	Seq      uint8 `db:"autoinc(start=5,min=1,max=10,increment=-1,nocycle)"`
	Paid     Stamp `db:"name=paid_at"`
	Ratings  []float32
	Flags    []bool
	Sizes    []int16
	Counts   []uint32
	Blobs    [][]byte
	Statuses []Status
	Times    []time.Time
	Stamps   []Stamp
	Tags     Tags
}

// Like is a table without a primary key: a set of rows.
//
//keel:table
type Like struct {
	Post uint64 `db:"index"`
	User string
	Up   bool `db:"index"`
	At   time.Time
	Key  []byte `db:"unique=by_key"`
	W    float32
	I    int
	U    uint
	I8   int8
	U16  uint16
}

//keel:reducer init
func Init(ctx *Ctx) error {
	_, err := ctx.DB.Post().Insert(Post{Slug: "hello", Title: "Hello"})
	return err
}

//keel:reducer
func AddPost(ctx *Ctx, slug, title string, tags []string) (Post, error) {
	return ctx.DB.Post().Insert(Post{Slug: slug, Title: title, Tags: tags, Created: ctx.Time})
}

//keel:reducer
func Rename(ctx *Ctx, slug string, title string) error {
	p, ok := ctx.DB.Post().BySlug().Find(slug)
	if !ok {
		return errors.New("blog: no such post")
	}
	p.Title = title
	_, err := ctx.DB.Post().BySlug().Update(p)
	return err
}

//keel:reducer
func PlaceOrder(ctx *Ctx, o Order) (Order, error) {
	return ctx.DB.Order().Insert(o)
}

//keel:reducer
func Count(ctx *Ctx) (int, error) {
	return ctx.DB.Post().Count(), nil
}

//keel:reducer
func Touch(ctx *Ctx, _ string, at time.Time, s Status, c Cents, tags Tags, raw []byte) (Status, error) {
	n := 0
	for range ctx.DB.Order().ByShopStatus().FilterShop("x") {
		n++
	}
	for range ctx.DB.Post().ByCreated().Between(at, at.Add(time.Hour)) {
		n++
	}
	_ = n
	return s, nil
}

// Event has a sequence that moves past explicit values (advance).
//
//keel:table
type Event struct {
	Seq  int32  `db:"pk,autoinc(start=10,advance,batch=4)"`
	Kind Status `db:"index"`
}

//keel:reducer
func Log(ctx *Ctx, e Event) (Event, error) {
	return ctx.DB.Event().Insert(e)
}

// Reading is a set whose rows begin with a float: the whole-row key orders
// NaN first and -0 with +0, as cmp.Compare does.
//
//keel:table
type Reading struct {
	Value float64
	Unit  string
}

// Account is found by hash indexes: its primary key and its handle.
//
//keel:table
type Account struct {
	ID      uint64 `db:"pk,hash"`
	Handle  string `db:"unique,hash"`
	Balance int64
}

// Pair has a hash primary key of two columns.
//
//keel:table
type Pair struct {
	A string `db:"pk,hash"`
	B int32  `db:"pk,hash"`
}
