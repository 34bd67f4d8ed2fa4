package runtime

// ExecutorIdle reports whether every call submitted to the executor has
// been taken and its batch handed over (run, and finished or put in
// flight): for tests that must know the executor got past a call.
func ExecutorIdle(rt *Runtime) bool { return rt.q.waiting.Load() == 0 }
