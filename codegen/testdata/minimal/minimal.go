// Package minimal is the smallest module keelgen accepts: one table, no
// reducers.
package minimal

//keel:table
type Item struct {
	Name string `db:"pk"`
}
