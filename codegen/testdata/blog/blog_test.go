package blog

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	post := Post{ID: 7, Slug: "s", Author: "a", Title: "t", Body: []byte{0, 1}, Tags: Tags{"x", ""},
		Created: at, Draft: true, Score: -1.5}
	order := Order{Shop: "s", ID: -3, Status: "paid", Amount: -100, Seq: 9, Paid: Stamp(at),
		Ratings: []float32{1.5}, Flags: []bool{true, false}, Sizes: []int16{-32768, 32767},
		Counts: []uint32{1 << 31}, Blobs: [][]byte{{1}, {}}, Statuses: []Status{"a"},
		Times: []time.Time{at, at.Add(time.Second)}, Stamps: []Stamp{Stamp(at)}, Tags: Tags{"t"}}
	like := Like{Post: 1, User: "u", Up: true, At: at, Key: []byte("k"), W: 0.25, I: -1, U: 2, I8: -128, U16: 65535}

	var p2 Post
	if err := PostDef.Decode(PostDef.Encode(nil, &post), &p2); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(post, p2, cmp.AllowUnexported(Post{})); d != "" {
		t.Errorf("post (-want +got):\n%s", d)
	}
	var o2 Order
	if err := OrderDef.Decode(OrderDef.Encode(nil, &order), &o2); err != nil {
		t.Fatal(err)
	}
	order.Blobs[1] = nil // an empty slice decodes as nil
	stamps := cmp.Comparer(func(a, b Stamp) bool { return time.Time(a).Equal(time.Time(b)) })
	if d := cmp.Diff(order, o2, stamps); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
	var l2 Like
	if err := LikeDef.Decode(LikeDef.Encode(nil, &like), &l2); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(like, l2); d != "" {
		t.Errorf("like (-want +got):\n%s", d)
	}
	if err := LikeDef.Decode(append(LikeDef.Encode(nil, &like), 0), &l2); err == nil {
		t.Error("trailing byte decoded")
	}
}

func TestModule(t *testing.T) {
	rt, err := keel.OpenMemory(Module, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	c := NewClient(rt, "alice")
	p, err := c.AddPost(t.Context(), "a", "A", []string{"go"})
	if err != nil || p.ID != 2 {
		t.Fatalf("AddPost = %+v, %v; want id 2", p, err)
	}
	if err := c.Rename(t.Context(), "a", "B"); err != nil {
		t.Fatal(err)
	}
	n, err := c.Count(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("Count = %d, %v", n, err)
	}
	o, err := c.PlaceOrder(t.Context(), Order{Shop: "s"})
	if err != nil || o.ID != 1 || o.Seq != 5 {
		t.Fatalf("PlaceOrder = %+v, %v; want id 1, seq 5", o, err)
	}
	o, err = c.PlaceOrder(t.Context(), Order{Shop: "s"})
	if err != nil || o.ID != 2 || o.Seq != 4 {
		t.Fatalf("PlaceOrder = %+v, %v; want id 2, seq 4", o, err)
	}
	v, err := c.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := v.Post().BySlug().Find("a"); !ok || got.Title != "B" {
		t.Fatalf("post a = %+v, %v", got, ok)
	}
	var ids []int64
	for o := range v.Order().ByPK().Between("s", 1, 3) {
		ids = append(ids, o.ID)
	}
	if d := cmp.Diff([]int64{1, 2}, ids); d != "" {
		t.Errorf("orders (-want +got):\n%s", d)
	}
	// The encoded path runs the same reducer.
	out, err := rt.CallEncoded(t.Context(), "bob", "Rename", encodeRename(RenameArgs{Slug: "b", Title: "x"}))
	if err == nil {
		t.Fatalf("Rename of a missing post = %x, nil", out)
	}
	if _, err := rt.CallEncoded(t.Context(), "bob", "Rename", encodeRename(RenameArgs{Slug: "a", Title: "C"})); err != nil {
		t.Fatal(err)
	}
}

func encodeRename(a RenameArgs) []byte {
	dst := []byte{}
	dst = append(dst, byte(len(a.Slug)))
	dst = append(dst, a.Slug...)
	dst = append(dst, byte(len(a.Title)))
	return append(dst, a.Title...)
}

func TestAdvance(t *testing.T) {
	rt, err := keel.OpenMemory(Module, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	c := NewClient(rt, "test")
	var got []int32
	for _, seq := range []int32{0, 20, 0, 15, 0} {
		e, err := c.Log(t.Context(), Event{Seq: seq, Kind: "k"})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Seq)
	}
	// An explicit value ahead of the sequence moves it past that value; one
	// behind it does not.
	if d := cmp.Diff([]int32{10, 20, 21, 15, 22}, got); d != "" {
		t.Errorf("seqs (-want +got):\n%s", d)
	}
}

// TestEncodedCall runs reducers with byte arguments, as tools and remote
// callers do, through the generated argument and result codecs.
func TestEncodedCall(t *testing.T) {
	rt, err := keel.OpenMemory(Module, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	args := codec.AppendString(nil, "enc")
	args = codec.AppendString(args, "Encoded")
	args = codec.AppendUvarint(args, 2)
	args = codec.AppendString(codec.AppendString(args, "a"), "b")
	out, err := rt.CallEncoded(t.Context(), "x", "AddPost", args)
	if err != nil {
		t.Fatal(err)
	}
	var p Post
	if err := PostDef.Decode(out, &p); err != nil {
		t.Fatal(err)
	}
	if p.ID != 2 || p.Slug != "enc" || p.Title != "Encoded" || len(p.Tags) != 2 || p.Tags[1] != "b" {
		t.Fatalf("AddPost returned %+v", p)
	}
	out, err = rt.CallEncoded(t.Context(), "x", "Count", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := codec.NewReader(out); d.Int(0) != 2 || d.Err() != nil {
		t.Fatalf("Count returned %x", out)
	}
	if _, err := rt.CallEncoded(t.Context(), "x", "AddPost", args[:3]); err == nil {
		t.Fatal("short arguments decoded")
	}
}

// checkKey checks the promise of a generated inline key against the
// generated comparator over every pair of rows.
func checkKey[R any](t *testing.T, ix *table.Index[R], rows []R, exact bool) {
	t.Helper()
	if ix.Key == nil || ix.KeyExact != exact {
		t.Fatalf("%s: Key set %v, KeyExact %v; want a key, exact %v", ix.Name, ix.Key != nil, ix.KeyExact, exact)
	}
	for i := range rows {
		for j := range rows {
			a, b := &rows[i], &rows[j]
			ka, kb, c := ix.Key(a), ix.Key(b), ix.Compare(a, b, 1)
			if ka < kb && c >= 0 || c == 0 && ka != kb || exact && ka == kb && c != 0 {
				t.Errorf("%s: rows %+v and %+v: keys %#x, %#x, compare %d", ix.Name, *a, *b, ka, kb, c)
			}
		}
	}
}

func TestInlineKeys(t *testing.T) {
	var posts []Post
	for _, id := range []uint64{0, 1, 1 << 63, math.MaxUint64} {
		for _, s := range []string{"", "\x00", "a", "a\x00", "abcdefgh", "abcdefgh\x00", "abcdefghz", "\xff"} {
			posts = append(posts, Post{ID: id, Slug: s, Author: s})
		}
	}
	checkKey(t, PostByIDIndex, posts, true)
	checkKey(t, PostBySlugIndex, posts, false)
	checkKey(t, PostByAuthorIndex, posts, false)
	if PostByCreatedIndex.Key != nil {
		t.Error("time.Time column has an inline key")
	}
	var events []Event
	for _, seq := range []int32{math.MinInt32, -1, 0, 1, math.MaxInt32} {
		for _, k := range []Status{"", "paid", "paid\x00", "paidpaidpaid", "paidpaidx"} {
			events = append(events, Event{Seq: seq, Kind: k})
		}
	}
	checkKey(t, EventBySeqIndex, events, true)
	checkKey(t, EventByKindIndex, events, false)
	var likes []Like
	for _, up := range []bool{false, true} {
		for _, k := range [][]byte{nil, {0}, {1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 3, 4, 5, 6, 7, 8, 0}} {
			likes = append(likes, Like{Post: uint64(len(k)), Up: up, Key: k})
		}
	}
	checkKey(t, LikeByPostIndex, likes, true)
	checkKey(t, LikeByUpIndex, likes, true)
	checkKey(t, LikeByKeyIndex, likes, false)
	checkKey(t, LikeDef.Primary, likes, true)
	var readings []Reading
	for _, v := range []float64{math.NaN(), math.Inf(-1), -1, math.Copysign(0, -1), 0, 1, math.Inf(1)} {
		readings = append(readings, Reading{Value: v})
	}
	checkKey(t, ReadingDef.Primary, readings, true)
}

// TestHashIndexes finds, updates and deletes rows through generated hash
// indexes, and refuses a taken key.
func TestHashIndexes(t *testing.T) {
	db, err := keel.OpenMemory(Module, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(t.Context(), "", func(c *reducer.Ctx) error {
		a := DBOf(c.Tx).Account()
		for i := range uint64(100) {
			if _, err := a.Insert(Account{ID: i + 1, Handle: fmt.Sprint("h", i), Balance: int64(i)}); err != nil {
				return err
			}
		}
		if _, err := a.Insert(Account{ID: 500, Handle: "h7"}); !errors.Is(err, table.ErrUniqueViolation) {
			return fmt.Errorf("taken handle: %v", err)
		}
		got, ok := a.ByHandle().Find("h7")
		if !ok || got.ID != 8 {
			return fmt.Errorf("find h7: %+v %v", got, ok)
		}
		got.Balance = 1000
		if _, err := a.ByHandle().Update(got); err != nil {
			return err
		}
		if _, err := a.Delete(9); err != nil {
			return err
		}
		p := DBOf(c.Tx).Pair()
		if _, err := p.Insert(Pair{A: "x", B: 1}); err != nil {
			return err
		}
		if _, err := p.Insert(Pair{A: "x", B: 1}); !errors.Is(err, table.ErrUniqueViolation) {
			return fmt.Errorf("taken pair: %v", err)
		}
		if _, ok := p.Find("x", 1); !ok {
			return errors.New("pair x,1 not found")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r := ViewOf(v).Account()
	if a, ok := r.Find(8); !ok || a.Balance != 1000 {
		t.Fatalf("account 8: %+v %v", a, ok)
	}
	if _, ok := r.Find(9); ok {
		t.Fatal("deleted account found")
	}
	n := 0
	for a := range r.ByHandle().Filter("h42") {
		n++
		if a.ID != 43 {
			t.Fatalf("filter h42: %+v", a)
		}
	}
	if n != 1 || r.Count() != 99 {
		t.Fatalf("filter yields %d, count %d", n, r.Count())
	}
}

// TestSetHas checks a table without a primary key: Has reports
// membership, and inserting an identical row again is a no-op, not an
// error.
func TestSetHas(t *testing.T) {
	rt, err := keel.OpenMemory(Module, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	like := Like{Post: 1, User: "u", Key: []byte("k")}
	err = rt.Update(t.Context(), "x", func(c *reducer.Ctx) error {
		likes := DBOf(c.Tx).Like()
		if likes.Has(like) {
			t.Error("Has before Insert")
		}
		for range 2 {
			if _, err := likes.Insert(like); err != nil {
				t.Fatalf("Insert of an identical row: %v", err)
			}
		}
		if !likes.Has(like) || likes.Count() != 1 {
			t.Errorf("Has = %v, Count = %d after two identical inserts; want true, 1", likes.Has(like), likes.Count())
		}
		other := like
		other.User = "v"
		if likes.Has(other) {
			t.Error("Has of a row never inserted")
		}
		other.Key = []byte("k2")
		if _, err := likes.Insert(other); err != nil {
			t.Fatal(err)
		}
		if _, err := likes.Delete(like); err != nil || likes.Has(like) || !likes.Has(other) {
			t.Errorf("after Delete: err %v, Has(deleted) %v, Has(other) %v", err, likes.Has(like), likes.Has(other))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReducerCodecs encodes arguments and decodes results with the
// generated reducers' typed codecs, through CallEncoded.
func TestReducerCodecs(t *testing.T) {
	rt, err := keel.OpenMemory(Module, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	in := AddPostArgs{Slug: "typed", Title: "Typed", Tags: []string{"a"}}
	args := AddPostReducer.EncodeArgs(nil, in)
	back, err := AddPostReducer.DecodeArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(in, back); d != "" {
		t.Errorf("AddPostArgs round trip (-want +got):\n%s", d)
	}
	// The layout CallEncoded documents: each parameter as codec writes it.
	want := codec.AppendString(codec.AppendString(nil, "typed"), "Typed")
	want = codec.AppendString(codec.AppendUvarint(want, 1), "a")
	if string(args) != string(want) {
		t.Errorf("EncodeArgs = %x, want %x", args, want)
	}
	out, err := rt.CallEncoded(t.Context(), "x", "AddPost", args)
	if err != nil {
		t.Fatal(err)
	}
	p, err := AddPostReducer.DecodeResult(out)
	if err != nil || p.Slug != "typed" || p.ID == 0 {
		t.Fatalf("DecodeResult = %+v, %v", p, err)
	}
	if got := AddPostReducer.EncodeResult(nil, p); string(got) != string(out) {
		t.Errorf("EncodeResult = %x, want %x", got, out)
	}
	out, err = rt.CallEncoded(t.Context(), "x", "Count", CountReducer.EncodeArgs(nil, CountArgs{}))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := CountReducer.DecodeResult(out); err != nil || n != 2 {
		t.Errorf("Count DecodeResult = %d, %v; want 2", n, err)
	}
	out, err = rt.CallEncoded(t.Context(), "x", "Rename", RenameReducer.EncodeArgs(nil, RenameArgs{Slug: "typed", Title: "T"}))
	if err != nil || len(out) != 0 {
		t.Fatalf("Rename = %x, %v; want no result bytes", out, err)
	}
	if _, err := RenameReducer.DecodeResult(out); err != nil {
		t.Errorf("DecodeResult of an empty result: %v", err)
	}
	var ae *reducer.ArgError
	if _, err := AddPostReducer.DecodeArgs(append(args, 0)); !errors.As(err, &ae) {
		t.Errorf("DecodeArgs with a trailing byte: %v, want an *ArgError", err)
	}
	if _, err := AddPostReducer.DecodeResult(out); !errors.As(err, &ae) {
		t.Errorf("DecodeResult of empty bytes as a post: %v, want an *ArgError", err)
	}
}
