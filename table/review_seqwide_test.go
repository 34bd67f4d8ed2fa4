package table

import (
	"math"
	"testing"
)

// TestReviewSequenceWideTypes runs seqModel at the edges of the wide
// types, with ranges that are not the type's.
func TestReviewSequenceWideTypes(t *testing.T) {
	rng := seqRNG(t)
	const iters, steps = 1500, 300
	seqModel[uint64]{base: math.MaxUint64 - 300, w: 300, iters: iters, steps: steps}.run(t, rng)
	seqModel[uint64]{base: 1, w: 300, iters: iters, steps: steps}.run(t, rng)
	seqModel[int64]{base: math.MinInt64, w: 300, iters: iters, steps: steps}.run(t, rng)
	seqModel[int64]{base: -301, w: 300, iters: iters, steps: steps}.run(t, rng)
	seqModel[int64]{base: math.MaxInt64 - 300, w: 300, iters: iters, steps: steps}.run(t, rng)
	seqModel[uint32]{base: math.MaxUint32 - 300, w: 300, iters: iters, steps: steps}.run(t, rng)
	seqModel[int32]{base: math.MinInt32, w: 300, iters: iters, steps: steps}.run(t, rng)
	seqModel[int32]{base: -301, w: 300, iters: iters, steps: steps}.run(t, rng)
	seqModel[uint16]{base: math.MaxUint16 - 300, w: 300, iters: iters, steps: steps}.run(t, rng)
	seqModel[int16]{base: math.MinInt16, w: 300, iters: iters, steps: steps}.run(t, rng)
}
