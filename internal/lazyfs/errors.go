package lazyfs

import "errors"

// ErrUnavailable is returned by Available and Mount when this machine cannot mount a FUSE filesystem
// directly. The wrapping error says what is missing.
var ErrUnavailable = errors.New("keel: lazyfs: cannot mount FUSE here")

// hint says what a machine needs for Mount to work.
const hint = "needs /dev/fuse and root to mount FUSE directly; run as root on Linux"
