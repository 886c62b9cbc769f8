/// Memory that every rank of a one-node world shares: one gradient buffer per rank, which the
/// other ranks read, ONE copy of the parameters for the whole node, and one progress counter
/// per rank. A backend offers it through `Communicator.makeNodeMemory(count:)`.
///
/// With it the sharded optimizer sends nothing. Its reduce-scatter becomes ranks adding the
/// other ranks' values straight out of their buffers, bucket by bucket while backward runs,
/// and its allgather disappears, because every rank's next forward reads the one copy of the
/// parameters that the shards' owners have just updated.
///
/// Protocol of a step, every synchronisation through the counters (no barrier):
/// 1. Each rank's backward writes its own gradient buffer, and `publish`es a growing
///    counter as it finishes each bucket of it.
/// 2. Once `allReached` sees every rank's counter past a bucket, a rank may read that bucket
///    in every buffer: it `sum`s its part of the bucket into the buffer of the rank whose
///    shard holds it.
/// 3. Each rank publishes that its sums are done. Once every rank has, every sum is visible
///    to every rank, and nobody reads another rank's gradients any more: each may zero its own.
/// 4. Each rank updates its shard of the shared parameters and publishes that.
/// 5. Once every rank has, the parameters are complete for the next forward.
/// Outside steps the parameters are written by one rank (initialisation, a restore) and then
/// `synchronize`d.
public protocol NodeMemory: AnyObject {
    /// Floats in each buffer.
    var count: Int { get }
    /// This rank's index in `gradients`.
    var rank: Int { get }
    /// Every rank's gradient buffer, by rank; this rank writes only its own. Each starts on a
    /// 64-byte boundary.
    var gradients: [UnsafeMutableBufferPointer<Float>] { get }
    /// The node's one copy of the parameters, on a 64-byte boundary.
    var parameters: UnsafeMutableBufferPointer<Float> { get }
    /// Orders every rank's writes to the buffers before every rank's later reads. Collective
    /// over the node.
    func synchronize() throws(CommError)
    /// Makes this rank's writes to the buffers so far visible to any rank that sees `value` in
    /// its counter. Values must grow from one call to the next.
    func publish(_ value: UInt64) throws(CommError)
    /// Whether every rank has published at least `value`. If so, what they wrote before it is
    /// visible to this rank's reads from now on.
    func allReached(_ value: UInt64) throws(CommError) -> Bool
    /// Waits, yielding the core to any rank that shares it, until `allReached(value)`.
    func waitUntilAllReached(_ value: UInt64) throws(CommError)
}

extension NodeMemory {
    /// The ranks of the node.
    public var size: Int { gradients.count }

    /// Adds every other rank's gradients in `range` into rank `owner`'s, in rank order:
    /// afterwards `owner`'s buffer holds the node's sum there. Only once every rank's
    /// gradients in `range` are final and visible (`allReached`).
    public func sum(_ range: Range<Int>, into owner: Int) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count && gradients.indices.contains(owner),
                     "sum: \(range) into rank \(owner) outside 0..<\(count) of \(gradients.count) ranks")
        let target = gradients[owner].baseAddress! + range.lowerBound
        for (q, theirs) in gradients.enumerated() where q != owner {
            Float.accumulate(target, theirs.baseAddress! + range.lowerBound, count: range.count)
        }
    }
}
