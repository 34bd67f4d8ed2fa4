// Package logs hands a *slog.Logger to the packages that a module's
// build compiles (runtime, reducer), which log through reducer.Logger so
// that log/slog, and encoding/json and reflect-heavy code with it, stay
// out of that build. Package keel (Options.Logger) and package replica
// adapt their loggers here.
package logs

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"github.com/keeldb/keel/reducer"
)

// Adapt returns l as a reducer.Logger, or nil if l is nil or discards
// everything (slog.DiscardHandler), so that the runtime skips building a
// logger per call. The lines it writes are l's own: the same record, with
// the source position of the caller of the reducer.Logger method.
func Adapt(l *slog.Logger) reducer.Logger {
	if l == nil || l.Handler() == slog.DiscardHandler {
		return nil
	}
	return logger{l}
}

// logger is one pointer, so that storing it in a reducer.Logger does not
// allocate.
type logger struct{ l *slog.Logger }

func (a logger) Debug(msg string, args ...any) { a.log(slog.LevelDebug, msg, args) }
func (a logger) Info(msg string, args ...any)  { a.log(slog.LevelInfo, msg, args) }
func (a logger) Warn(msg string, args ...any)  { a.log(slog.LevelWarn, msg, args) }
func (a logger) Error(msg string, args ...any) { a.log(slog.LevelError, msg, args) }

// With returns a logger that adds args to every line, as slog.Logger.With.
func (a logger) With(args ...any) reducer.Logger { return logger{a.l.With(args...)} }

// log is what slog.Logger's own methods do, with the caller found one
// frame further up.
func (a logger) log(level slog.Level, msg string, args []any) {
	ctx := context.Background()
	if !a.l.Enabled(ctx, level) {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(3, pcs[:]) // skip Callers, log and the method
	r := slog.NewRecord(time.Now(), level, msg, pcs[0])
	r.Add(args...)
	_ = a.l.Handler().Handle(ctx, r)
}
