import Comm

/// Ring all-reduce: a reduce-scatter then an allgather around the ring rank → rank + 1.
///
/// The buffer is cut into p chunks (sizes differ by at most one element, so any length works).
/// In reduce-scatter step s (0..<p-1), rank r sends chunk (r - s) to r + 1 and adds chunk
/// (r - s - 1), received from r - 1, into its own; after p - 1 steps it holds the full sum of
/// chunk (r + 1). The allgather then passes the summed chunks around the ring for p - 1 more
/// steps. Each rank sends 2(p-1)/p of the buffer: bandwidth-optimal, with 2(p-1) latencies.
///
/// Every chunk is summed by one rank in one order and copied to the others, so all ranks
/// end with identical bits. The two halves also serve on their own: the sharded optimizer
/// reduce-scatters the gradients, updates its shard, and allgathers the parameters.
extension PeerGroup {
    func ringAllReduce<F: WireFormat>(_ buffer: UnsafeMutableBufferPointer<F.Element>, _ format: F.Type) throws(CommError) {
        try ringReduceScatter(buffer, format)
        try ringAllGather(buffer, format)
    }

    /// The ring's reduce-scatter: afterwards rank r holds the full sum of shard (r + 1) mod p
    /// (rounded as the wire format rounds it), which it returns; the rest is partial sums.
    @discardableResult
    func ringReduceScatter<F: WireFormat>(_ buffer: UnsafeMutableBufferPointer<F.Element>,
                                          _ format: F.Type) throws(CommError) -> Range<Int> {
        let p = size, n = buffer.count
        let owned = piece((rank + 1) % p, of: n, parts: p)
        if p == 1 || n == 0 { return owned }
        let base = buffer.baseAddress!
        let (received, encoded) = ringScratch(count: n, format)
        let right = (rank + 1) % p, left = (rank + p - 1) % p
        for s in 0..<(p - 1) {
            let send = piece((rank - s + 2 * p) % p, of: n, parts: p)
            let receive = piece((rank - s - 1 + 2 * p) % p, of: n, parts: p)
            let outgoing: UnsafeRawPointer
            if F.isIdentity {
                outgoing = UnsafeRawPointer(base + send.lowerBound)
            } else {
                F.encode(base + send.lowerBound, encoded, send.count)
                outgoing = UnsafeRawPointer(encoded)
            }
            try exchange(send: outgoing, sendCount: send.count, to: right, receive: received, receiveCount: receive.count,
                         from: left, datatype: F.datatype, "ring reduce-scatter", step: s)
            F.decodeAccumulate(received, base + receive.lowerBound, receive.count)
        }
        F.roundTrip(base + owned.lowerBound, owned.count, scratch: encoded)
        return owned
    }

    /// Scratch for one shard on the wire: where a received shard lands, and where an outgoing
    /// one is encoded.
    private func ringScratch<F: WireFormat>(count n: Int, _ format: F.Type)
        -> (received: UnsafeMutablePointer<F.Wire>, encoded: UnsafeMutablePointer<F.Wire>) {
        let largest = (n + size - 1) / size, wireSize = MemoryLayout<F.Wire>.stride
        let raw = scratch.reserve(2 * largest * wireSize + 64)
        return (raw.bindMemory(to: F.Wire.self, capacity: largest),
                (raw + largest * wireSize).bindMemory(to: F.Wire.self, capacity: largest))
    }

    /// The ring's allgather: passes every rank's shard (as `ringReduceScatter` assigned them)
    /// around the ring until every rank holds all of them.
    func ringAllGather<F: WireFormat>(_ buffer: UnsafeMutableBufferPointer<F.Element>, _ format: F.Type) throws(CommError) {
        let p = size, n = buffer.count
        if p == 1 || n == 0 { return }
        let base = buffer.baseAddress!
        let (received, encoded) = ringScratch(count: n, format)
        let right = (rank + 1) % p, left = (rank + p - 1) % p
        for s in 0..<(p - 1) {
            let send = piece((rank + 1 - s + 2 * p) % p, of: n, parts: p)
            let receive = piece((rank - s + 2 * p) % p, of: n, parts: p)
            if F.isIdentity {
                try exchange(send: base + send.lowerBound, sendCount: send.count, to: right, receive: base + receive.lowerBound,
                             receiveCount: receive.count, from: left, datatype: F.datatype, "ring allgather", step: s)
            } else {
                F.encode(base + send.lowerBound, encoded, send.count)
                try exchange(send: encoded, sendCount: send.count, to: right, receive: received, receiveCount: receive.count,
                             from: left, datatype: F.datatype, "ring allgather", step: s)
                F.decode(received, base + receive.lowerBound, receive.count)
            }
        }
    }
}
