package main

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bbolt: one bucket per table, keys big-endian ids, autoinc from the
// bucket's NextSequence in the same transaction. An item is stored in
// "item" (id -> at, email, payload), its unique email in "item_email"
// (email -> id, checked before the write) and its At in "item_at"
// (at|id -> nothing), bbolt's way of keeping a secondary index.

var (
	boltEvent      = []byte("event")
	boltAccount    = []byte("account")
	boltItemBucket = []byte("item")
	boltEmail      = []byte("item_email")
	boltAt         = []byte("item_at")
)

type boltStore struct{ db *bolt.DB }

func boltConfig(m Mode) string {
	if m == NoSync {
		return "default options with NoSync: true"
	}
	return "default options (fsync on every commit)"
}

func openBolt(dir string, m Mode) (store, error) {
	db, err := bolt.Open(filepath.Join(dir, "bolt.db"), 0o600, &bolt.Options{Timeout: time.Second, NoSync: m == NoSync})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{boltEvent, boltAccount, boltItemBucket, boltEmail, boltAt} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &boltStore{db: db}, nil
}

func (s *boltStore) Close() error { return s.db.Close() }

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func (s *boltStore) Insert() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(boltEvent)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(be64(id), []byte(eventPayload))
	})
}

func (s *boltStore) LoadEvents(n uint64) error {
	for first := uint64(1); first <= n; first += loadBatch {
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(boltEvent)
			for i := first; i < first+min(loadBatch, n-first+1); i++ {
				id, err := b.NextSequence()
				if err != nil {
					return err
				}
				if err := b.Put(be64(id), []byte(loadPayload(i))); err != nil {
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

func (s *boltStore) Count() (n int, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(boltEvent).Stats().KeyN
		return nil
	})
	return n, err
}

func (s *boltStore) LoadAccounts(n uint64) error {
	for first := uint64(1); first <= n; first += loadBatch {
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(boltAccount)
			for id := first; id < first+min(loadBatch, n-first+1); id++ {
				if err := b.Put(be64(id), be64(initialBalance)); err != nil {
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

func (s *boltStore) Transfer(from, to uint64, amount int64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(boltAccount)
		fk, tk := be64(from), be64(to)
		fv, tv := b.Get(fk), b.Get(tk)
		if fv == nil || tv == nil {
			return errMissing
		}
		fb, tb := int64(binary.BigEndian.Uint64(fv)), int64(binary.BigEndian.Uint64(tv))
		if fb < amount {
			return errInsufficient
		}
		if err := b.Put(fk, be64(uint64(fb-amount))); err != nil {
			return err
		}
		return b.Put(tk, be64(uint64(tb+amount)))
	})
}

// The item value: at (8 bytes), email length (uvarint), email, payload.
func boltItemValue(it *Item) []byte {
	v := binary.BigEndian.AppendUint64(nil, uint64(it.At))
	v = binary.AppendUvarint(v, uint64(len(it.Email)))
	v = append(v, it.Email...)
	return append(v, it.Payload...)
}

func boltItem(id uint64, v []byte) (Item, error) {
	if len(v) < 9 {
		return Item{}, fmt.Errorf("bench: bbolt: short item value")
	}
	at := int64(binary.BigEndian.Uint64(v))
	n, k := binary.Uvarint(v[8:])
	if k <= 0 || 8+k+int(n) > len(v) {
		return Item{}, fmt.Errorf("bench: bbolt: bad item value")
	}
	rest := v[8+k:]
	return Item{ID: id, At: at, Email: string(rest[:n]), Payload: string(rest[n:])}, nil
}

func (s *boltStore) LoadItems(n uint64) error {
	for first := uint64(1); first <= n; first += loadBatch {
		err := s.db.Update(func(tx *bolt.Tx) error {
			items, emails, ats := tx.Bucket(boltItemBucket), tx.Bucket(boltEmail), tx.Bucket(boltAt)
			for i := first; i < first+min(loadBatch, n-first+1); i++ {
				id, err := items.NextSequence()
				if err != nil {
					return err
				}
				it := itemRow(i)
				if emails.Get([]byte(it.Email)) != nil {
					return fmt.Errorf("bench: bbolt: email %s taken", it.Email)
				}
				if err := items.Put(be64(id), boltItemValue(&it)); err != nil {
					return err
				}
				if err := emails.Put([]byte(it.Email), be64(id)); err != nil {
					return err
				}
				if err := ats.Put(binary.BigEndian.AppendUint64(be64(uint64(it.At)), id), nil); err != nil {
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

func (s *boltStore) Get(id uint64) (it Item, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(boltItemBucket).Get(be64(id))
		if v == nil {
			return errMissing
		}
		it, err = boltItem(id, v)
		return err
	})
	return it, err
}

func (s *boltStore) ByEmail(email string) (it Item, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		k := tx.Bucket(boltEmail).Get([]byte(email))
		if k == nil {
			return errMissing
		}
		v := tx.Bucket(boltItemBucket).Get(k)
		if v == nil {
			return errMissing
		}
		it, err = boltItem(binary.BigEndian.Uint64(k), v)
		return err
	})
	return it, err
}

func (s *boltStore) Scan(lo, hi int64, fn func(*Item)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		items := tx.Bucket(boltItemBucket)
		c := tx.Bucket(boltAt).Cursor()
		for k, _ := c.Seek(be64(uint64(lo))); k != nil && int64(binary.BigEndian.Uint64(k)) < hi; k, _ = c.Next() {
			id := k[8:]
			v := items.Get(id)
			if v == nil {
				return errMissing
			}
			it, err := boltItem(binary.BigEndian.Uint64(id), v)
			if err != nil {
				return err
			}
			fn(&it)
		}
		return nil
	})
}
