/// `torch.randperm(n, generator=torch.Generator().manual_seed(seed))` on the CPU, reproduced
/// exactly: a 32-bit Mersenne Twister (MT19937) seeded as PyTorch seeds it, driving PyTorch
/// 1.13's Fisher–Yates loop (`z = random() % (n - i); swap(r[i], r[i + z])`).
///
/// With it, Lockstep's sampler yields the very index lists of PyTorch's DistributedSampler.
public enum TorchRandperm {
    public static func permutation(_ n: Int, seed: UInt64) -> [Int] {
        var mt = MersenneTwister(seed: UInt32(truncatingIfNeeded: seed))
        var r = Array(0..<n)
        if n < 2 { return r }
        for i in 0..<(n - 1) {
            let z = Int(mt.next() % UInt32(n - i))
            r.swapAt(i, i + z)
        }
        return r
    }
}

/// MT19937, the 32-bit Mersenne Twister of Matsumoto and Nishimura, with `init_genrand` seeding.
struct MersenneTwister {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    mutating func next() -> UInt32 {
        if index >= 624 {
            for k in 0..<624 {
                let y = (state[k] & 0x8000_0000) | (state[(k + 1) % 624] & 0x7FFF_FFFF)
                state[k] = state[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908_B0DF : 0)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }
}
