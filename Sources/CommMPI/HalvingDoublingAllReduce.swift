import Comm

/// Recursive halving-doubling all-reduce (Rabenseifner; Thakur, Rabenseifner & Gropp 2005).
///
/// 1. Fold-in, when p is not a power of two: with p' the largest power of two ≤ p and
///    q = p - p', each even rank r < 2q sends its whole buffer to r + 1, which adds it and
///    stands for both; the even ranks sit out steps 2 and 3.
/// 2. Reduce-scatter by recursive halving among the p' active ranks: at distance
///    d = 1, 2, 4, …, p'/2 each rank swaps half of its current segment with the rank d away
///    and adds the half it keeps. After lg p' steps each holds the sum of 1/p' of the buffer.
///    Nearest partners come first: ranks of a node are numbered together, so the largest
///    exchanges stay inside a node and only the smaller, later ones cross the network.
/// 3. Allgather by recursive doubling, the same exchanges in reverse order, doubling the
///    segment each time.
/// 4. Fold-out: each odd rank r < 2q sends the result to r - 1.
///
/// 2·lg p' latencies instead of the ring's 2(p-1), which is what counts at 100+ ranks, and
/// the same 2(p'-1)/p' of the buffer sent per rank (plus one whole buffer for the fold).
/// Every element is summed by one rank and copied to the rest, so all ranks agree bitwise.
extension PeerGroup {
    func halvingDoublingAllReduce<F: WireFormat>(_ buffer: UnsafeMutableBufferPointer<F.Element>,
                                                  _ format: F.Type) throws(CommError) {
        let p = size, n = buffer.count
        if p == 1 || n == 0 { return }
        let base = buffer.baseAddress!
        var pof2 = 1
        while pof2 * 2 <= p { pof2 *= 2 }
        let folded = p - pof2
        let wireSize = MemoryLayout<F.Wire>.stride
        let raw = scratch.reserve(2 * n * wireSize + 64)
        let received = raw.bindMemory(to: F.Wire.self, capacity: n)
        let encoded = (raw + n * wireSize).bindMemory(to: F.Wire.self, capacity: n)

        /// The outgoing elements at `at`: the buffer itself, or its encoding in scratch.
        func outgoing(_ at: Int, _ count: Int) -> UnsafeRawPointer {
            if F.isIdentity { return UnsafeRawPointer(base + at) }
            F.encode(base + at, encoded, count)
            return UnsafeRawPointer(encoded)
        }

        /// Sends `sendCount` elements at `sendAt` to `partner` while receiving `receiveCount` into `received`.
        func swap(sendAt: Int, sendCount: Int, receiveCount: Int, with partner: Int, _ what: StaticString,
                  step: Int) throws(CommError) {
            try exchange(send: outgoing(sendAt, sendCount), sendCount: sendCount, to: partner, receive: received,
                         receiveCount: receiveCount, from: partner, datatype: F.datatype, what, step: step)
        }

        // 1. Fold-in.
        let active: Int?  // this rank's index among the p' active ranks
        if rank < 2 * folded {
            if rank % 2 == 0 {
                try exchange(send: outgoing(0, n), sendCount: n, to: rank + 1, receive: nil, receiveCount: 0, from: rank + 1,
                             datatype: F.datatype, "rhd fold-in", step: 0)
                active = nil
            } else {
                try exchange(send: nil, sendCount: 0, to: rank - 1, receive: received, receiveCount: n, from: rank - 1,
                             datatype: F.datatype, "rhd fold-in", step: 0)
                F.decodeAccumulate(received, base, n)
                active = rank / 2
            }
        } else {
            active = rank - folded
        }

        if let me = active {
            func worldRank(_ activeRank: Int) -> Int { activeRank < folded ? activeRank * 2 + 1 : activeRank + folded }
            try withUnsafeTemporaryAllocation(of: (Int, Int).self, capacity: 64) { (parents) throws(CommError) in
                // 2. Reduce-scatter by recursive halving.
                var lo = 0, hi = n, level = 0
                var distance = 1
                while distance < pof2 {
                    let partner = worldRank(me ^ distance)
                    let mid = lo + (hi - lo) / 2
                    let keepLow = me & distance == 0
                    let (keepLo, keepHi) = keepLow ? (lo, mid) : (mid, hi)
                    let (sendLo, sendHi) = keepLow ? (mid, hi) : (lo, mid)
                    try swap(sendAt: sendLo, sendCount: sendHi - sendLo, receiveCount: keepHi - keepLo, with: partner,
                             "rhd reduce-scatter", step: level)
                    F.decodeAccumulate(received, base + keepLo, keepHi - keepLo)
                    parents[level] = (lo, hi)
                    level += 1
                    (lo, hi) = (keepLo, keepHi)
                    distance *= 2
                }
                F.roundTrip(base + lo, hi - lo, scratch: encoded)
                // 3. Allgather by recursive doubling.
                distance = pof2 / 2
                while distance > 0 {
                    level -= 1
                    let (parentLo, parentHi) = parents[level]
                    let partner = worldRank(me ^ distance)
                    let (siblingLo, siblingHi) = lo == parentLo ? (hi, parentHi) : (parentLo, lo)
                    if F.isIdentity {
                        try exchange(send: base + lo, sendCount: hi - lo, to: partner, receive: base + siblingLo,
                                     receiveCount: siblingHi - siblingLo, from: partner, datatype: F.datatype,
                                     "rhd allgather", step: level)
                    } else {
                        try swap(sendAt: lo, sendCount: hi - lo, receiveCount: siblingHi - siblingLo, with: partner,
                                 "rhd allgather", step: level)
                        F.decode(received, base + siblingLo, siblingHi - siblingLo)
                    }
                    (lo, hi) = (parentLo, parentHi)
                    distance /= 2
                }
            }
        }

        // 4. Fold-out.
        if rank < 2 * folded {
            if rank % 2 == 1 {
                try exchange(send: outgoing(0, n), sendCount: n, to: rank - 1, receive: nil, receiveCount: 0, from: rank - 1,
                             datatype: F.datatype, "rhd fold-out", step: 0)
            } else {
                let into = F.isIdentity ? UnsafeMutableRawPointer(base) : UnsafeMutableRawPointer(received)
                try exchange(send: nil, sendCount: 0, to: rank + 1, receive: into, receiveCount: n, from: rank + 1,
                             datatype: F.datatype, "rhd fold-out", step: 0)
                if !F.isIdentity { F.decode(received, base, n) }
            }
        }
    }
}
