import Foundation

/// A small, fast, seeded generator (xoshiro256**, seeded through SplitMix64), for
/// initialisation and synthetic data.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// A Float uniform in [low, high), from the top 24 bits.
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        let u = Float(next() >> 40) * (1 / Float(1 << 24))
        return low + (high - low) * u
    }

    /// Fills `buffer` with draws from the normal distribution N(mean, std²), by Box–Muller in
    /// Double: each pair of uniforms u1 in (0, 1] and u2 in [0, 1) from the top 53 bits of two
    /// outputs gives √(-2·ln u1)·cos(2π·u2) and the same times sin(2π·u2), in order.
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, mean: Float, std: Float) {
        func unit53() -> Double { Double(next() >> 11) * 0x1p-53 }
        var i = 0
        while i < buffer.count {
            let radius = (-2 * log(1 - unit53())).squareRoot()
            let angle = 2 * Double.pi * unit53()
            buffer[i] = mean + std * Float(radius * cos(angle))
            if i + 1 < buffer.count { buffer[i + 1] = mean + std * Float(radius * sin(angle)) }
            i += 2
        }
    }

    public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool {
        a.state.0 == b.state.0 && a.state.1 == b.state.1 && a.state.2 == b.state.2 && a.state.3 == b.state.3
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
