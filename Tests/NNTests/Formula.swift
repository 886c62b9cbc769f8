/// The fixtures' formula values, computed exactly as scripts/fixtures/make_fixtures.py does
/// with numpy: splitmix64 of `seed · 0x9E3779B97F4A7C15 + index`, whose top 24 bits become a
/// Float. Weights, inputs and gradients of the fixtures are not stored but recomputed here.
enum Formula {
    private static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The 64-bit hash of (seed, index).
    static func hash(seed: UInt64, index: Int) -> UInt64 {
        var z = seed &* golden &+ UInt64(index) &+ golden
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` values in [-scale, scale): `scale · (2k - 2²⁴) / 2²⁴` with k the hash's top 24 bits.
    static func symmetric(seed: UInt64, count: Int, scale: Float) -> [Float] {
        (0..<count).map { i in
            let k = Int64(hash(seed: seed, index: i) >> 40)
            return scale * (Float(2 * k - (1 << 24)) / Float(1 << 24))
        }
    }

    /// `count` values in [0, 1): `k / 2²⁴`.
    static func unit(seed: UInt64, count: Int) -> [Float] {
        (0..<count).map { i in Float(hash(seed: seed, index: i) >> 40) / Float(1 << 24) }
    }

    /// `count` class indices: the hash modulo `classes`.
    static func labels(seed: UInt64, count: Int, classes: Int) -> [Int32] {
        (0..<count).map { i in Int32(hash(seed: seed, index: i) % UInt64(classes)) }
    }
}
