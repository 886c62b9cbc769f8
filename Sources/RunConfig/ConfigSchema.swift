/// Every config key Lockstep knows, its type, default and allowed values. A key that is not
/// here is an error, so that a typo is never silently ignored.
struct ConfigKey: Sendable {
    enum Kind: Sendable {
        case int, double, bool, ints, layers
        case string(choices: [String])
    }

    enum Rule: Sendable {
        case any, positive, nonNegative
        case atMost(Double)
    }

    let path: String
    let kind: Kind
    /// nil: the key must be given.
    let defaultValue: ConfigValue?
    let rule: Rule

    init(_ path: String, _ kind: Kind, _ defaultValue: ConfigValue?, _ rule: Rule = .any) {
        self.path = path
        self.kind = kind
        self.defaultValue = defaultValue
        self.rule = rule
    }
}

enum ConfigSchema {
    static let keys: [ConfigKey] = [
        // The model. "sequential": a per-sample input shape and a chain of layers (model.layers
        // as tables, see LayerTable). "gpt": nanoGPT's layout, model.layers blocks of
        // model.heads heads over width model.embed, model.context tokens of model.vocab ids.
        ConfigKey("model.type", .string(choices: ["sequential", "gpt"]), .string("sequential")),
        ConfigKey("model.name", .string(choices: []), .string("model")),
        ConfigKey("model.input", .ints, .ints([])),
        ConfigKey("model.layers", .layers, nil),
        ConfigKey("model.vocab", .int, .int(256), .positive),
        ConfigKey("model.context", .int, .int(128), .positive),
        ConfigKey("model.heads", .int, .int(4), .positive),
        ConfigKey("model.embed", .int, .int(128), .positive),

        // The data. "fashion-mnist" reads IDX files from data.path; "synthetic" makes a seeded
        // learnable dataset of data.train_count + data.test_count images shaped as model.input.
        // "text" reads data.path (a file, or a folder of files) as bytes; "tokens" reads
        // pre-tokenized files (raw uint16, or llm.c's .bin), data.format telling which or "auto".
        // Validation comes from data.val_path, or else is the last data.val_fraction of the
        // corpus, in at most data.val_windows windows (0: all of it).
        ConfigKey("data.dataset", .string(choices: ["fashion-mnist", "synthetic", "text", "tokens"]), .string("fashion-mnist")),
        ConfigKey("data.path", .string(choices: []), .string("/usr/share/datasets/fashion-mnist")),
        ConfigKey("data.format", .string(choices: ["auto", "uint16", "llmc"]), .string("auto")),
        ConfigKey("data.val_path", .string(choices: []), .string("")),
        ConfigKey("data.val_fraction", .double, .double(0.1), .atMost(1)),
        ConfigKey("data.val_windows", .int, .int(0), .nonNegative),
        ConfigKey("data.train_count", .int, .int(4096), .positive),
        ConfigKey("data.test_count", .int, .int(1024), .positive),
        ConfigKey("data.classes", .int, .int(10), .positive),
        ConfigKey("data.noise", .int, .int(40), .nonNegative),
        ConfigKey("data.seed", .int, .int(7), .nonNegative),

        // The loop. train.steps > 0 overrides train.epochs; train.batch is per rank.
        ConfigKey("train.epochs", .int, .int(1), .positive),
        ConfigKey("train.steps", .int, .int(0), .nonNegative),
        ConfigKey("train.batch", .int, .int(128), .positive),
        ConfigKey("train.seed", .int, .int(0), .nonNegative),
        ConfigKey("train.accumulate", .int, .int(1), .positive),
        ConfigKey("train.shuffle", .bool, .bool(true)),
        ConfigKey("train.log_every", .int, .int(50), .positive),
        ConfigKey("train.eval_every", .int, .int(0), .nonNegative),
        ConfigKey("train.target_accuracy", .double, .double(0), .atMost(1)),
        ConfigKey("train.skip_nonfinite", .bool, .bool(false)),
        // Split each step's global batch across the ranks by their measured speed (BatchBalancer).
        ConfigKey("train.balance", .bool, .bool(false)),
        ConfigKey("train.deterministic", .bool, .bool(false)),
        ConfigKey("train.chunk", .int, .int(16), .positive),
        // The integers of deterministic mode's exact sums; "auto" takes int32 up to 64 chunks
        // per step (FixedPointWidth).
        ConfigKey("train.fixed_point", .string(choices: ["auto", "int32", "int64"]), .string("auto")),
        // Start from the weights of this safetensors file (a PyTorch state_dict, another run's
        // checkpoint): names and shapes as the model's; the optimizer starts fresh, at step 0.
        ConfigKey("train.init_from", .string(choices: []), .string("")),

        ConfigKey("optimizer.name", .string(choices: ["sgd", "adamw"]), .string("sgd")),
        ConfigKey("optimizer.lr", .double, .double(0.05), .positive),
        ConfigKey("optimizer.momentum", .double, .double(0), .nonNegative),
        ConfigKey("optimizer.nesterov", .bool, .bool(false)),
        ConfigKey("optimizer.weight_decay", .double, .double(0), .nonNegative),
        ConfigKey("optimizer.beta1", .double, .double(0.9), .nonNegative),
        ConfigKey("optimizer.beta2", .double, .double(0.999), .nonNegative),
        ConfigKey("optimizer.eps", .double, .double(1e-8), .positive),
        // AdamW's weight decay on every parameter ("all"), or, as nanoGPT groups them, on the
        // parameters of two or more dimensions only ("matrices": weights and embeddings).
        ConfigKey("optimizer.decay", .string(choices: ["all", "matrices"]), .string("all")),
        // Scale the step's averaged gradient down to this global norm when it is larger (0: never).
        ConfigKey("optimizer.clip_norm", .double, .double(0), .nonNegative),
        // Each rank updates only its shard of the parameters (ZeRO stage 1): gradients are
        // reduce-scattered, the shard updated, the parameters allgathered.
        ConfigKey("optimizer.sharded", .bool, .bool(false)),

        // The learning-rate schedule, in optimizer steps.
        ConfigKey("schedule.name", .string(choices: ["constant", "step", "cosine"]), .string("constant")),
        ConfigKey("schedule.warmup_steps", .int, .int(0), .nonNegative),
        ConfigKey("schedule.step_every", .int, .int(1000), .positive),
        ConfigKey("schedule.gamma", .double, .double(0.1), .positive),
        ConfigKey("schedule.min_lr", .double, .double(0), .nonNegative),
        ConfigKey("schedule.linear_scaling", .bool, .bool(false)),
        ConfigKey("schedule.base_batch", .int, .int(256), .positive),

        // Communication.
        ConfigKey("comm.algorithm", .string(choices: ["auto", "mpi", "ring", "rhd", "hierarchical"]), .string("auto")),
        ConfigKey("comm.bucket_mb", .double, .double(25), .positive),
        ConfigKey("comm.compression", .string(choices: ["none", "fp16", "bf16"]), .string("none")),
        ConfigKey("comm.ranks_per_node", .int, .int(0), .nonNegative),
        ConfigKey("comm.progress", .string(choices: ["thread", "test"]), .string("thread")),
        ConfigKey("comm.poll_us", .int, .int(10), .nonNegative),
        ConfigKey("comm.timeout_s", .double, .double(300), .positive),
        ConfigKey("comm.shared_memory", .bool, .bool(true)),

        // Checkpoints; an empty checkpoint.dir writes none.
        ConfigKey("checkpoint.dir", .string(choices: []), .string("")),
        ConfigKey("checkpoint.every_steps", .int, .int(0), .nonNegative),
        ConfigKey("checkpoint.every_epoch", .bool, .bool(false)),
        ConfigKey("checkpoint.keep", .int, .int(3), .positive),
    ]

    static let byPath: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.path, $0) })

    /// The known key closest to `path`, if it is a likely typo.
    static func suggestion(for path: String, among candidates: [String] = keys.map(\.path)) -> String? {
        let scored = candidates.map { ($0, editDistance($0, path)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, path.count / 4) else { return nil }
        return best
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// The keys of one entry of model.layers, by layer type. Required keys have no default.
enum LayerTable {
    static let types = ["linear", "conv2d", "maxpool2d", "relu", "flatten"]
    static func keys(for type: String) -> [(key: String, defaultValue: Int?)] {
        switch type {
        case "linear": [("in", nil), ("out", nil)]
        case "conv2d": [("in", nil), ("out", nil), ("kernel", nil), ("stride", 1), ("padding", 0)]
        case "maxpool2d": [("kernel", nil), ("stride", 0), ("padding", 0)]  // stride 0: the kernel size
        default: []
        }
    }
}
