"""csn's seeded generator (Sources/Basics/SeededGenerator.swift), draw for draw.

xoshiro256** seeded through SplitMix64; integers below a bound with Swift's
`Int.random(in:using:)` (Lemire's nearly divisionless method), so that the same seed gives
the same triplets and the same initial weights as csn.
"""

from __future__ import annotations

import math

import numpy as np

_MASK = (1 << 64) - 1


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & _MASK


class SeededGenerator:
    """A reproducible generator whose state can be saved in a checkpoint (tensor `rng`)."""

    def __init__(self, seed: int = 0, state: tuple[int, int, int, int] | None = None) -> None:
        if state is not None:
            self.state = [s & _MASK for s in state]
            return
        split_mix = seed & _MASK
        words = []
        for _ in range(4):
            split_mix = (split_mix + 0x9E3779B97F4A7C15) & _MASK
            z = split_mix
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
            words.append(z ^ (z >> 31))
        self.state = words

    def next(self) -> int:
        s0, s1, s2, s3 = self.state
        result = (_rotl((s1 * 5) & _MASK, 7) * 9) & _MASK
        t = (s1 << 17) & _MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
        self.state = [s0, s1, s2, s3]
        return result

    def index(self, bound: int) -> int:
        """A uniform integer in [0, bound), as Swift's stdlib draws it (same number of draws)."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        product = self.next() * bound
        if (product & _MASK) < bound:
            threshold = ((1 << 64) - bound) % bound
            while (product & _MASK) < threshold:
                product = self.next() * bound
        return product >> 64

    def unit_float(self) -> np.float32:
        """A uniform float32 in [0, 1) with 24 random bits."""
        return np.float32(self.next() >> 40) * np.float32(1.0 / 16_777_216.0)

    def normal(self) -> np.float32:
        """A standard normal draw (Box-Muller, one of the pair discarded), computed in double."""
        u1 = max((self.next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
        u2 = (self.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return np.float32(math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2))

    def signed_state(self) -> list[int]:
        """The state as four int64 bit patterns, as csn stores it in the tensor `rng`."""
        return [s - (1 << 64) if s >= 1 << 63 else s for s in self.state]

    @classmethod
    def from_signed_state(cls, words: list[int]) -> "SeededGenerator":
        return cls(state=tuple(w & _MASK for w in words))  # type: ignore[arg-type]
