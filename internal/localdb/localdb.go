// Package localdb lets package mod reach the runtime of a database open
// in this process without importing package keel (and with it the log):
// package keel sets Runtime when it is initialized.
package localdb

import "github.com/keeldb/keel/runtime"

// Runtime returns the runtime behind conn when conn is a *keel.DB, and
// nil otherwise. It is nil when package keel is not in the program, and
// then no conn is a *keel.DB.
var Runtime func(conn any) *runtime.Runtime
