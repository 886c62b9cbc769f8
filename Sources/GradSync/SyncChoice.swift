import Comm
import NN
import RunConfig
import Tensor
import Trace

/// Picks a run's `GradientSync` from its settings and its world. The choice comes in two
/// parts because the node-shared strategy decides where the model's buffers live: first
/// `memory` gives the model its buffers (mapping node memory where the strategy keeps them
/// there), then `make` builds the strategy over the model's store.
public final class SyncChoice {
    private let settings: TrainingConfig.SyncSettings
    private let comm: Communicator
    private var nodeMemory: NodeMemory?

    public init(_ settings: TrainingConfig.SyncSettings, comm: Communicator) {
        self.settings = settings
        self.comm = comm
    }

    /// Whether each rank updates only its shard of the parameters.
    public var sharded: Bool {
        if case .sharded = settings.strategy { return comm.size > 1 }
        return false
    }

    /// Where the model's parameters and gradients live: one copy of the parameters for the
    /// node when the sharded optimizer runs on one node over shared memory, else each rank's
    /// own. Collective when it maps shared memory.
    public var memory: ParameterMemory {
        { [self] count in
            guard case .sharded(sharedMemory: true) = settings.strategy, comm.size > 1,
                  let shared = try comm.makeNodeMemory(count: count) else {
                return ParameterStore.privateMemory(count)
            }
            nodeMemory = shared
            return (TensorStorage(borrowing: shared.parameters, from: shared),
                    TensorStorage(borrowing: shared.gradients[shared.rank], from: shared))
        }
    }

    /// The parameters' one copy on the node, which one rank writes, or nil where each rank has its own.
    public var sharedParameters: NodeMemory? { nodeMemory }

    /// The strategy over `store` (built with `memory`).
    /// - Parameters:
    ///   - chunksPerRank: deterministic mode's chunks per rank and step.
    ///   - width: deterministic mode's integers.
    public func make(store: ParameterStore, recorder: PhaseRecorder, chunksPerRank: Int,
                     width: FixedPointWidth) -> GradientSync {
        let plan = BucketPlan(slices: store.slices, capBytes: settings.bucketBytes)
        switch settings.strategy {
        case .exact:
            return ExactSum(store: store, comm: comm, plan: plan, chunksPerRank: chunksPerRank, width: width,
                            testsProgress: settings.testsProgress, recorder: recorder)
        case .sharded where comm.size > 1:
            if let nodeMemory {
                return NodeSharedSum(store: store, memory: nodeMemory, comm: comm, plan: plan, recorder: recorder)
            }
            return ShardedRing(store: store, comm: comm)
        case .sharded, .bucketed:
            return BucketedAllReduce(store: store, comm: comm, plan: plan, testsProgress: settings.testsProgress,
                                     recorder: recorder)
        }
    }
}
