/// Which samples each rank draws in each epoch, with the semantics of PyTorch's
/// `torch.utils.data.DistributedSampler`:
///
/// 1. The epoch's order is `randperm(n)` seeded with `seed + epoch` (or `0..<n` unshuffled).
/// 2. Without `dropLast` the order is padded, by repeating it from the start, to
///    `world · ⌈n / world⌉`; with `dropLast` it is cut to `world · ⌊n / world⌋`.
/// 3. Rank r takes positions r, r + world, r + 2·world, … of it.
///
/// Lockstep adds a world-independent cursor: a training step of global batch G consumes the
/// global positions [t·G, (t+1)·G), whatever the world size, so a run can stop at one world
/// size and resume at another on the same sample order (see `localPosition`).
public struct DistributedSampler: Sendable, Equatable {
    public let datasetCount: Int
    public let world: Int
    public let rank: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let dropLast: Bool

    public init(datasetCount: Int, world: Int, rank: Int, shuffle: Bool, seed: UInt64, dropLast: Bool) {
        precondition(world > 0 && rank >= 0 && rank < world, "DistributedSampler: rank \(rank) of world \(world)")
        self.datasetCount = datasetCount
        self.world = world
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
    }

    /// Samples per rank per epoch (PyTorch's `num_samples`).
    public var samplesPerRank: Int {
        if dropLast && datasetCount % world != 0 {
            return (datasetCount - world + world - 1) / world  // ceil((n - world) / world)
        }
        return (datasetCount + world - 1) / world
    }

    /// The length of the padded (or cut) global order (PyTorch's `total_size`).
    public var totalSize: Int { samplesPerRank * world }

    /// The global order of `epoch`, padded or cut to `totalSize`.
    public func globalOrder(epoch: Int) -> [Int] {
        var order = shuffle ? TorchRandperm.permutation(datasetCount, seed: seed &+ UInt64(epoch)) : Array(0..<datasetCount)
        if order.count < totalSize {
            let base = order
            while order.count < totalSize { order.append(contentsOf: base.prefix(totalSize - order.count)) }
        } else {
            order.removeLast(order.count - totalSize)
        }
        return order
    }

    /// This rank's indices for `epoch`: positions rank, rank + world, … of the global order.
    public func indices(epoch: Int) -> [Int] {
        let order = globalOrder(epoch: epoch)
        return Swift.stride(from: rank, to: totalSize, by: world).map { order[$0] }
    }

    /// The position in this rank's list that corresponds to `globalPosition` samples of the
    /// epoch consumed in global order; nil unless `globalPosition` is a multiple of `world`.
    public func localPosition(globalPosition: Int) -> Int? {
        globalPosition % world == 0 ? globalPosition / world : nil
    }
}
