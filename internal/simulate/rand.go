package simulate

import (
	"math"
	"math/bits"
)

// rng is a tiny wyrand generator. The simulator seeds one per work unit,
// episode and event from a hash of the seed and the thing's identity, so
// any piece of output can be regenerated on its own, in any order, on any
// goroutine, and still come out byte-identical.
type rng struct{ s uint64 }

func newRng(seed uint64) rng { return rng{s: seed} }

func (r *rng) u64() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a value in [0, n); n must be > 0 and < 2^32.
func (r *rng) intn(n int) int {
	return int(((r.u64() >> 32) * uint64(n)) >> 32)
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

// poisson draws a Poisson-distributed count. Knuth's method is exact for the
// small means of single actors; large means (big scales) use a normal
// approximation, which is plenty for background noise.
func (r *rng) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		// Box-Muller.
		u1, u2 := r.float(), r.float()
		if u1 < 1e-300 {
			u1 = 1e-300
		}
		z := math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
		// Explicit conversions stop the compiler fusing multiply-adds, which
		// would make some architectures round differently.
		n := int(math.Round(float64(mean + float64(z*math.Sqrt(mean)))))
		if n < 0 {
			return 0
		}
		return n
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= r.float()
		if p <= l {
			return k
		}
		k++
	}
}

// mix hashes a seed with identity components (splitmix64 finaliser per
// step) into a new, well-spread seed.
func mix(seed uint64, parts ...uint64) uint64 {
	h := seed ^ 0x9e3779b97f4a7c15
	for _, p := range parts {
		h ^= p + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h = fmix(h)
	}
	return fmix(h)
}

func fmix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// strHash is FNV-1a, used to turn names into mix components.
func strHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// pick returns a random element of xs.
func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }
