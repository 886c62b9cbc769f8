/// Ring all-reduce: a reduce-scatter then an allgather around the ring rank → rank + 1.
///
/// The buffer is cut into p chunks (sizes differ by at most one element, so any length works).
/// In reduce-scatter step s (0..<p-1), rank r sends chunk (r - s) to r + 1 and adds chunk
/// (r - s - 1), received from r - 1, into its own; after p - 1 steps it holds the full sum of
/// chunk (r + 1). The allgather then passes the summed chunks around the ring for p - 1 more
/// steps. Each rank sends 2(p-1)/p of the buffer: bandwidth-optimal, with 2(p-1) latencies.
///
/// Every chunk is summed by one rank in one order and copied to the others, so all ranks
/// end with identical bits.
extension PeerGroup {
    func ringAllReduce<F: WireFormat>(_ buffer: UnsafeMutableBufferPointer<F.Element>, _ format: F.Type) throws(CommError) {
        let p = size, n = buffer.count
        if p == 1 || n == 0 { return }
        let base = buffer.baseAddress!
        func start(_ chunk: Int) -> Int { chunk * n / p }
        let largest = (n + p - 1) / p
        let wireSize = MemoryLayout<F.Wire>.stride
        let raw = scratch.reserve(2 * largest * wireSize + 64)
        let received = raw.bindMemory(to: F.Wire.self, capacity: largest)
        let encoded = (raw + largest * wireSize).bindMemory(to: F.Wire.self, capacity: largest)
        let right = (rank + 1) % p, left = (rank + p - 1) % p

        for s in 0..<(p - 1) {
            let sendChunk = (rank - s + 2 * p) % p, receiveChunk = (rank - s - 1 + 2 * p) % p
            let sendAt = start(sendChunk), sendCount = start(sendChunk + 1) - sendAt
            let receiveAt = start(receiveChunk), receiveCount = start(receiveChunk + 1) - receiveAt
            let outgoing: UnsafeRawPointer
            if F.isIdentity {
                outgoing = UnsafeRawPointer(base + sendAt)
            } else {
                F.encode(base + sendAt, encoded, sendCount)
                outgoing = UnsafeRawPointer(encoded)
            }
            try exchange(send: outgoing, sendCount: sendCount, to: right, receive: received, receiveCount: receiveCount,
                         from: left, datatype: F.datatype, "ring reduce-scatter", step: s)
            F.decodeAccumulate(received, base + receiveAt, receiveCount)
        }

        let owned = (rank + 1) % p
        F.roundTrip(base + start(owned), start(owned + 1) - start(owned), scratch: encoded)
        for s in 0..<(p - 1) {
            let sendChunk = (rank + 1 - s + 2 * p) % p, receiveChunk = (rank - s + 2 * p) % p
            let sendAt = start(sendChunk), sendCount = start(sendChunk + 1) - sendAt
            let receiveAt = start(receiveChunk), receiveCount = start(receiveChunk + 1) - receiveAt
            if F.isIdentity {
                try exchange(send: base + sendAt, sendCount: sendCount, to: right, receive: base + receiveAt,
                             receiveCount: receiveCount, from: left, datatype: F.datatype, "ring allgather", step: s)
            } else {
                F.encode(base + sendAt, encoded, sendCount)
                try exchange(send: encoded, sendCount: sendCount, to: right, receive: received, receiveCount: receiveCount,
                             from: left, datatype: F.datatype, "ring allgather", step: s)
                F.decode(received, base + receiveAt, receiveCount)
            }
        }
    }
}
