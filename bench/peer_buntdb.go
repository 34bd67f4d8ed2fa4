package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tidwall/buntdb"
)

// buntdb: keys and values are strings. Rows live under "<table>:<id>" with
// ids zero-padded so keys sort numerically; buntdb has no autoinc, so a
// counter key is read and written in the same transaction as the row. The
// item's unique email is a second key "email:<email>" -> id written in the
// same transaction (buntdb indexes do not enforce uniqueness), and the
// item's value starts with its zero-padded At so that a string index on
// the value orders items by At.

type buntStore struct{ db *buntdb.DB }

func buntConfig(m Mode) string {
	switch m {
	case Durable:
		return "file, SyncPolicy: buntdb.Always (fsync per commit), other settings default"
	case NoSync:
		return "file, SyncPolicy: buntdb.Never, other settings default"
	default:
		return `Open(":memory:")`
	}
}

func openBunt(dir string, m Mode) (store, error) {
	path := ":memory:"
	if m != Memory {
		path = filepath.Join(dir, "bunt.db")
	}
	db, err := buntdb.Open(path)
	if err != nil {
		return nil, err
	}
	if m != Memory {
		var c buntdb.Config
		if err := db.ReadConfig(&c); err != nil {
			return nil, err
		}
		c.SyncPolicy = buntdb.Always
		if m == NoSync {
			c.SyncPolicy = buntdb.Never
		}
		if err := db.SetConfig(c); err != nil {
			return nil, err
		}
	}
	if err := db.CreateIndex("item_at", "item:*", buntdb.IndexString); err != nil {
		return nil, err
	}
	return &buntStore{db: db}, nil
}

func (s *buntStore) Close() error { return s.db.Close() }

func padID(prefix string, id uint64) string {
	var b [40]byte
	dst := append(b[:0], prefix...)
	n := strconv.AppendUint(nil, id, 10)
	for range 20 - len(n) {
		dst = append(dst, '0')
	}
	return string(append(dst, n...))
}

// nextID reads and advances the counter key in tx.
func buntNext(tx *buntdb.Tx, counter string) (uint64, error) {
	v, err := tx.Get(counter)
	var n uint64
	if err == nil {
		if n, err = strconv.ParseUint(v, 10, 64); err != nil {
			return 0, err
		}
	} else if err != buntdb.ErrNotFound {
		return 0, err
	}
	n++
	_, _, err = tx.Set(counter, strconv.FormatUint(n, 10), nil)
	return n, err
}

func (s *buntStore) Insert() error {
	return s.db.Update(func(tx *buntdb.Tx) error {
		id, err := buntNext(tx, "seq:event")
		if err != nil {
			return err
		}
		_, _, err = tx.Set(padID("event:", id), eventPayload, nil)
		return err
	})
}

// buntLoad runs the bulk loads: in each transaction the counter is read
// once, rows take the ids that follow it, and it is written back once.
func (s *buntStore) buntLoad(n uint64, counter string, set func(tx *buntdb.Tx, i, id uint64) error) error {
	for first := uint64(1); first <= n; first += loadBatch {
		err := s.db.Update(func(tx *buntdb.Tx) error {
			base, err := buntNext(tx, counter)
			if err != nil {
				return err
			}
			base--
			k := min(loadBatch, n-first+1)
			for i := first; i < first+k; i++ {
				base++
				if err := set(tx, i, base); err != nil {
					return err
				}
			}
			_, _, err = tx.Set(counter, strconv.FormatUint(base, 10), nil)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *buntStore) LoadEvents(n uint64) error {
	return s.buntLoad(n, "seq:event", func(tx *buntdb.Tx, i, id uint64) error {
		_, _, err := tx.Set(padID("event:", id), loadPayload(i), nil)
		return err
	})
}

func (s *buntStore) Count() (int, error) {
	n := 0
	err := s.db.View(func(tx *buntdb.Tx) error {
		return tx.AscendKeys("event:*", func(k, v string) bool { n++; return true })
	})
	return n, err
}

func (s *buntStore) LoadAccounts(n uint64) error {
	bal := strconv.Itoa(initialBalance)
	for first := uint64(1); first <= n; first += loadBatch {
		err := s.db.Update(func(tx *buntdb.Tx) error {
			for id := first; id < first+min(loadBatch, n-first+1); id++ {
				if _, _, err := tx.Set(padID("acct:", id), bal, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *buntStore) Transfer(from, to uint64, amount int64) error {
	return s.db.Update(func(tx *buntdb.Tx) error {
		fk, tk := padID("acct:", from), padID("acct:", to)
		fv, err := tx.Get(fk)
		if err != nil {
			return err
		}
		tv, err := tx.Get(tk)
		if err != nil {
			return err
		}
		fb, err := strconv.ParseInt(fv, 10, 64)
		if err != nil {
			return err
		}
		tb, err := strconv.ParseInt(tv, 10, 64)
		if err != nil {
			return err
		}
		if fb < amount {
			return errInsufficient
		}
		if _, _, err := tx.Set(fk, strconv.FormatInt(fb-amount, 10), nil); err != nil {
			return err
		}
		_, _, err = tx.Set(tk, strconv.FormatInt(tb+amount, 10), nil)
		return err
	})
}

// The item value: "<at, 20 digits>|<email>|<payload>".
func buntItemValue(it *Item) string {
	return padID("", uint64(it.At)) + "|" + it.Email + "|" + it.Payload
}

func buntItem(id uint64, v string) (Item, error) {
	at, rest, ok1 := strings.Cut(v, "|")
	email, payload, ok2 := strings.Cut(rest, "|")
	if !ok1 || !ok2 {
		return Item{}, fmt.Errorf("bench: buntdb: bad item value %q", v)
	}
	n, err := strconv.ParseInt(at, 10, 64)
	return Item{ID: id, Email: email, At: n, Payload: payload}, err
}

func (s *buntStore) LoadItems(n uint64) error {
	return s.buntLoad(n, "seq:item", func(tx *buntdb.Tx, i, id uint64) error {
		it := itemRow(i)
		ek := "email:" + it.Email
		if _, err := tx.Get(ek); err == nil {
			return fmt.Errorf("bench: buntdb: email %s taken", it.Email)
		}
		if _, _, err := tx.Set(padID("item:", id), buntItemValue(&it), nil); err != nil {
			return err
		}
		_, _, err := tx.Set(ek, strconv.FormatUint(id, 10), nil)
		return err
	})
}

func (s *buntStore) Get(id uint64) (it Item, err error) {
	err = s.db.View(func(tx *buntdb.Tx) error {
		v, err := tx.Get(padID("item:", id))
		if err != nil {
			return err
		}
		it, err = buntItem(id, v)
		return err
	})
	return it, err
}

func (s *buntStore) ByEmail(email string) (it Item, err error) {
	err = s.db.View(func(tx *buntdb.Tx) error {
		ids, err := tx.Get("email:" + email)
		if err != nil {
			return err
		}
		id, err := strconv.ParseUint(ids, 10, 64)
		if err != nil {
			return err
		}
		v, err := tx.Get(padID("item:", id))
		if err != nil {
			return err
		}
		it, err = buntItem(id, v)
		return err
	})
	return it, err
}

func (s *buntStore) Scan(lo, hi int64, fn func(*Item)) error {
	return s.db.View(func(tx *buntdb.Tx) error {
		var ierr error
		err := tx.AscendRange("item_at", padID("", uint64(lo)), padID("", uint64(hi)), func(k, v string) bool {
			id, err := strconv.ParseUint(strings.TrimPrefix(k, "item:"), 10, 64)
			if err != nil {
				ierr = err
				return false
			}
			it, err := buntItem(id, v)
			if err != nil {
				ierr = err
				return false
			}
			fn(&it)
			return true
		})
		if err != nil {
			return err
		}
		return ierr
	})
}
