package table

// BeginAt starts a transaction that replays the logged transaction id, so
// that transactions begun after a replay go on from the logged ids. id
// must be greater than the id of every transaction begun before.
func (db *DB) BeginAt(id uint64) (*Tx, error) {
	if id == 0 || id <= db.txid {
		return db.Begin()
	}
	db.txid = id - 1
	return db.Begin()
}
