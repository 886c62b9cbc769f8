import Comm
import NN
import Tensor

/// The typed settings of a run, read from a validated `Config`, with the checks that span
/// several keys (the model against the data, the optimizer against its options).
public struct TrainingConfig: Sendable {
    public struct TrainSettings: Sendable, Equatable {
        public var epochs: Int
        /// 0: run `epochs` epochs.
        public var steps: Int
        /// Per rank, per micro-batch.
        public var batch: Int
        public var seed: UInt64
        public var accumulate: Int
        public var shuffle: Bool
        public var logEvery: Int
        /// 0: evaluate at each epoch end only.
        public var evalEvery: Int
        /// Stop once test accuracy reaches this (0: never).
        public var targetAccuracy: Double
        public var skipNonFinite: Bool
        /// Split each step's global batch by the ranks' measured speed (`BatchBalancer`).
        public var balance: Bool
        public var deterministic: Bool
        public var chunk: Int
        /// Deterministic mode's integers; nil: "auto" (`FixedPointWidth.auto(chunks:)`).
        public var fixedPoint: FixedPointWidth?
        /// train.init_from: a safetensors file of first weights; empty: initialise from the seed.
        public var initFrom: String = ""
    }

    public enum OptimizerSettings: Sendable, Equatable {
        case sgd(momentum: Double, nesterov: Bool, weightDecay: Double)
        /// `decayMatricesOnly`: weight decay on parameters of two or more dimensions only.
        case adamW(beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double, decayMatricesOnly: Bool)

        /// optimizer.name.
        public var name: String {
            switch self {
            case .sgd: "sgd"
            case .adamW: "adamw"
            }
        }
    }

    public struct CommSettings: Sendable, Equatable {
        public var allReduce: AllReduceOptions
        public var bucketMB: Double
        public var progress: ProgressMode
        public var timeoutSeconds: Double
        /// Whether the sharded optimizer of a one-node world keeps the parameters and gradients
        /// in memory the ranks share (comm.shared_memory; see NodeSharedMemory).
        public var sharedMemory: Bool
    }

    /// How gradients are summed across ranks: the keys of train, optimizer and comm that
    /// choose the strategy (see GradSync).
    public struct SyncSettings: Sendable, Equatable {
        public enum Strategy: Sendable, Equatable {
            /// Buckets all-reduced while backward runs (the default).
            case bucketed
            /// optimizer.sharded: reduce-scatter, update a shard, allgather; on one node in
            /// memory the ranks share when `sharedMemory`.
            case sharded(sharedMemory: Bool)
            /// train.deterministic: exact fixed-point sums; nil width: "auto".
            case exact(chunk: Int, width: FixedPointWidth?)
        }

        public var strategy: Strategy
        /// comm.bucket_mb in bytes.
        public var bucketBytes: Int
        /// comm.progress = "test": started sums advance only when tested between layers.
        public var testsProgress: Bool
    }

    public struct CheckpointSettings: Sendable, Equatable {
        /// Empty: no checkpoints.
        public var directory: String
        public var everySteps: Int
        public var everyEpoch: Bool
        public var keep: Int
    }

    public let config: Config
    public let model: ModelSettings
    public let data: DataSettings
    public let train: TrainSettings
    public let lr: Double
    public let optimizer: OptimizerSettings
    /// optimizer.clip_norm: the largest global norm of a step's averaged gradient; 0: no clipping.
    public let clipNorm: Double
    /// Whether each rank updates only its shard of the parameters (optimizer.sharded).
    public let shardedOptimizer: Bool
    public let schedule: LRScheduleSettings
    public let comm: CommSettings
    public let sync: SyncSettings
    public let checkpoint: CheckpointSettings
    public let tensor: TensorSettings

    /// The learning-rate schedule as configured; the trainer resolves it against the run's
    /// step count and global batch.
    public struct LRScheduleSettings: Sendable, Equatable {
        public var decay: LRSchedule.Decay
        public var warmupSteps: Int
        public var linearScaling: Bool
        public var baseBatch: Int
    }

    public init(_ c: Config) throws(ConfigError) {
        config = c
        data = DataSettings(c)
        train = TrainSettings(
            epochs: c.int("train.epochs"), steps: c.int("train.steps"), batch: c.int("train.batch"),
            seed: UInt64(c.int("train.seed")), accumulate: c.int("train.accumulate"), shuffle: c.bool("train.shuffle"),
            logEvery: c.int("train.log_every"), evalEvery: c.int("train.eval_every"),
            targetAccuracy: c.double("train.target_accuracy"), skipNonFinite: c.bool("train.skip_nonfinite"),
            balance: c.bool("train.balance"), deterministic: c.bool("train.deterministic"), chunk: c.int("train.chunk"),
            fixedPoint: FixedPointWidth(rawValue: c.string("train.fixed_point")), initFrom: c.string("train.init_from"))
        lr = c.double("optimizer.lr")
        switch c.string("optimizer.name") {
        case "adamw":
            optimizer = .adamW(beta1: c.double("optimizer.beta1"), beta2: c.double("optimizer.beta2"),
                               epsilon: c.double("optimizer.eps"), weightDecay: c.double("optimizer.weight_decay"),
                               decayMatricesOnly: c.string("optimizer.decay") == "matrices")
        default:
            let momentum = c.double("optimizer.momentum")
            if c.bool("optimizer.nesterov") && momentum <= 0 {
                throw ConfigError("\(c.origin(of: "optimizer.nesterov", "optimizer.momentum")): optimizer.nesterov needs optimizer.momentum > 0, got \(momentum)")
            }
            optimizer = .sgd(momentum: momentum, nesterov: c.bool("optimizer.nesterov"),
                             weightDecay: c.double("optimizer.weight_decay"))
        }
        shardedOptimizer = c.bool("optimizer.sharded")
        clipNorm = c.double("optimizer.clip_norm")
        for key in ["optimizer.beta1", "optimizer.beta2"] where c.double(key) >= 1 {
            throw ConfigError("\(c.origin(of: key)): \(key) must be below 1, got \(c.double(key))")
        }
        let decay: LRSchedule.Decay = switch c.string("schedule.name") {
        case "step": .step(every: c.int("schedule.step_every"), gamma: c.double("schedule.gamma"))
        case "cosine": .cosine(minLR: c.double("schedule.min_lr"))
        default: .constant
        }
        schedule = LRScheduleSettings(decay: decay, warmupSteps: c.int("schedule.warmup_steps"),
                                      linearScaling: c.bool("schedule.linear_scaling"), baseBatch: c.int("schedule.base_batch"))

        let algorithm = AllReduceAlgorithm(rawValue: c.string("comm.algorithm"))!
        let compression = Compression(rawValue: c.string("comm.compression"))!
        let progress = ProgressMode(rawValue: c.string("comm.progress"))!
        if compression != .none && algorithm == .mpi {
            throw ConfigError("\(c.origin(of: "comm.compression", "comm.algorithm")): comm.compression = \"\(compression.rawValue)\" needs one of Lockstep's algorithms (ring, rhd, hierarchical or auto); MPI_Allreduce sums fp32 only")
        }
        if progress == .test && algorithm != .mpi {
            throw ConfigError("\(c.origin(of: "comm.progress", "comm.algorithm")): comm.progress = \"test\" drives MPI_Iallreduce, so it needs comm.algorithm = \"mpi\", got \"\(algorithm.rawValue)\"")
        }
        if train.deterministic && compression != .none {
            throw ConfigError("\(c.origin(of: "train.deterministic", "comm.compression")): train.deterministic = true sums gradients exactly, so it refuses comm.compression = \"\(compression.rawValue)\"; set comm.compression = \"none\"")
        }
        if train.deterministic && train.balance {
            throw ConfigError("\(c.origin(of: "train.deterministic", "train.balance")): train.deterministic = true gives every rank the same number of whole chunks, so it refuses train.balance = true; set one of them false")
        }
        if train.deterministic && shardedOptimizer {
            throw ConfigError("\(c.origin(of: "train.deterministic", "optimizer.sharded")): train.deterministic = true sums whole gradient buffers exactly, so it refuses optimizer.sharded = true; set one of them false")
        }
        comm = CommSettings(
            allReduce: AllReduceOptions(algorithm: algorithm, compression: compression,
                                        ranksPerNode: c.int("comm.ranks_per_node"), pollMicroseconds: c.int("comm.poll_us")),
            bucketMB: c.double("comm.bucket_mb"), progress: progress, timeoutSeconds: c.double("comm.timeout_s"),
            sharedMemory: c.bool("comm.shared_memory"))
        let strategy: SyncSettings.Strategy = train.deterministic ? .exact(chunk: train.chunk, width: train.fixedPoint)
            // Compression is a choice of what travels, so it keeps the ring.
            : shardedOptimizer ? .sharded(sharedMemory: comm.sharedMemory && compression == .none) : .bucketed
        sync = SyncSettings(strategy: strategy, bucketBytes: Int(comm.bucketMB * 1_048_576), testsProgress: progress == .test)
        checkpoint = CheckpointSettings(directory: c.string("checkpoint.dir"), everySteps: c.int("checkpoint.every_steps"),
                                        everyEpoch: c.bool("checkpoint.every_epoch"), keep: c.int("checkpoint.keep"))
        tensor = TensorSettings(c)
        model = try ModelSettings(c, data: data)
    }

    /// The model's name, model.name.
    public var modelName: String { config.string("model.name") }

    /// Samples per optimizer step across the world: batch × world × accumulate.
    public func globalBatch(world: Int) -> Int { train.batch * world * train.accumulate }
}
