// Package chat is SpacetimeDB's quickstart chat as a Keel module: users
// with a name and an online flag that the connect and disconnect
// reducers keep, and messages. Both tables are public: every client
// subscribes to them.
package chat

import (
	"errors"
	"strings"
	"time"
)

//go:generate go tool keelgen -remote

// User is one identity that connected at least once.
//
//keel:table public
type User struct {
	Identity string `db:"pk"`
	Name     string
	Online   bool
}

// Message is one chat message.
//
//keel:table public
type Message struct {
	ID     uint64 `db:"pk,autoinc"`
	Sender string `db:"index"`
	Sent   time.Time
	Text   string
}

// SetName sets the caller's name.
//
//keel:reducer
func SetName(ctx *Ctx, name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return errors.New("chat: a name must not be empty")
	}
	if len(name) > 64 {
		return errors.New("chat: a name has at most 64 bytes")
	}
	u, ok := ctx.DB.User().Find(string(ctx.Caller))
	if !ok {
		return errors.New("chat: unknown user: connect first")
	}
	u.Name = name
	_, err := ctx.DB.User().Update(u)
	return err
}

// SendMessage posts a message as the caller.
//
//keel:reducer
func SendMessage(ctx *Ctx, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return errors.New("chat: a message must not be empty")
	}
	_, err := ctx.DB.Message().Insert(Message{Sender: string(ctx.Caller), Sent: ctx.Time, Text: text})
	return err
}

// Connected marks the caller online, creating its user the first time.
//
//keel:reducer connect
func Connected(ctx *Ctx) error {
	u, _ := ctx.DB.User().Find(string(ctx.Caller))
	u.Identity, u.Online = string(ctx.Caller), true
	_, _, err := ctx.DB.User().Upsert(u)
	return err
}

// Disconnected marks the caller offline.
//
//keel:reducer disconnect
func Disconnected(ctx *Ctx) error {
	u, ok := ctx.DB.User().Find(string(ctx.Caller))
	if !ok {
		return nil
	}
	u.Online = false
	_, err := ctx.DB.User().Update(u)
	return err
}
