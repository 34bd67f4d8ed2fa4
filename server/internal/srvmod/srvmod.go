// Package srvmod is the module of package server's tests: public tables
// joined on an index, a private table, every column kind, lifecycle
// reducers and reducers that take and return rows.
package srvmod

import (
	"errors"
	"time"
)

//go:generate go tool keelgen -remote

// Team is a team of players.
//
//keel:table public
type Team struct {
	ID   uint32 `db:"pk"`
	Name string `db:"unique"`
	Grp  int32  `db:"index"`
}

// Player is a player on a team.
//
//keel:table public
type Player struct {
	ID     uint64 `db:"pk,autoinc"`
	Name   string `db:"index"`
	Team   uint32 `db:"index"`
	Score  int64
	Big    uint64
	Active bool
	Ratio  float64
	Key    []byte
	At     time.Time
	Tags   []string
}

// Secret is never sent to clients.
//
//keel:table
type Secret struct {
	ID   uint64 `db:"pk,autoinc"`
	Note string
}

// Online records who is connected.
//
//keel:table public
type Online struct {
	Identity string `db:"pk"`
	Count    int32
}

// Banned holds identities whose connections the connect reducer refuses.
//
//keel:table
type Banned struct {
	Identity string `db:"pk"`
}

//keel:reducer connect
func Connected(ctx *Ctx) error {
	if _, banned := ctx.DB.Banned().Find(string(ctx.Caller)); banned {
		return errors.New("banned")
	}
	o, _ := ctx.DB.Online().Find(string(ctx.Caller))
	o.Identity = string(ctx.Caller)
	o.Count++
	_, _, err := ctx.DB.Online().Upsert(o)
	return err
}

//keel:reducer disconnect
func Disconnected(ctx *Ctx) error {
	o, ok := ctx.DB.Online().Find(string(ctx.Caller))
	if !ok {
		return nil
	}
	o.Count--
	if o.Count <= 0 {
		_, err := ctx.DB.Online().Delete(o.Identity)
		return err
	}
	_, err := ctx.DB.Online().Update(o)
	return err
}

//keel:reducer
func AddTeam(ctx *Ctx, id uint32, name string, grp int32) error {
	_, err := ctx.DB.Team().Insert(Team{ID: id, Name: name, Grp: grp})
	return err
}

//keel:reducer
func AddPlayer(ctx *Ctx, p Player) (Player, error) {
	return ctx.DB.Player().Insert(p)
}

//keel:reducer
func SetScore(ctx *Ctx, id uint64, score int64) (Player, error) {
	p, ok := ctx.DB.Player().Find(id)
	if !ok {
		return Player{}, errors.New("srvmod: no such player")
	}
	p.Score = score
	return ctx.DB.Player().Update(p)
}

//keel:reducer
func MoveTeam(ctx *Ctx, id uint32, grp int32) error {
	t, ok := ctx.DB.Team().Find(id)
	if !ok {
		return errors.New("srvmod: no such team")
	}
	t.Grp = grp
	_, err := ctx.DB.Team().Update(t)
	return err
}

//keel:reducer
func DropPlayer(ctx *Ctx, id uint64) error {
	_, err := ctx.DB.Player().Delete(id)
	return err
}

//keel:reducer
func AddSecret(ctx *Ctx, note string) (uint64, error) {
	s, err := ctx.DB.Secret().Insert(Secret{Note: note})
	return s.ID, err
}

// WhoAmI returns the caller's identity.
//
//keel:reducer
func WhoAmI(ctx *Ctx) (string, error) { return string(ctx.Caller), nil }

// Fail always fails.
//
//keel:reducer
func Fail(ctx *Ctx, why string) error { return errors.New(why) }
