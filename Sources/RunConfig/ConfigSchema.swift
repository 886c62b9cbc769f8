import NN

/// Every config key Lockstep knows, its type, default and allowed values. A key that is not
/// here is an error, so that a typo is never silently ignored.
struct ConfigKey: Sendable {
    enum Kind: Sendable {
        case int, double, bool, ints, layers
        case string(choices: [String])
    }

    /// The lower end of a number's range. (`atMost(limit)`: between 0 and `limit`.)
    enum Rule: Sendable {
        case any, positive, nonNegative
        case atMost(Double)
    }

    let path: String
    let kind: Kind
    /// nil: the key must be given.
    let defaultValue: ConfigValue?
    let rule: Rule
    /// The largest value a number may take (`ConfigLimits`); every integer key has one, so that
    /// nothing the run computes from it can overflow. A float must also be finite.
    let maximum: Double?

    init(_ path: String, _ kind: Kind, _ defaultValue: ConfigValue?, _ rule: Rule = .any, max maximum: Int? = nil) {
        self.path = path
        self.kind = kind
        self.defaultValue = defaultValue
        self.rule = rule
        self.maximum = maximum.map(Double.init)
    }

    init(_ path: String, _ kind: Kind, _ defaultValue: ConfigValue?, _ rule: Rule = .any, max maximum: Double) {
        self.path = path
        self.kind = kind
        self.defaultValue = defaultValue
        self.rule = rule
        self.maximum = maximum
    }
}

/// The largest values config keys may take: far beyond any real run, and small enough that the
/// sizes, counts and products the run computes from them fit in 64 bits. Limits that depend on
/// the data or the machine (a batch larger than the training set, buffers larger than memory)
/// are checked at start-up, before anything is allocated (`TrainingConfig.checkResources`).
public enum ConfigLimits {
    /// train.steps, and every count of steps (train.log_every, checkpoint.every_steps, …): 2⁴⁰.
    public static let steps = 1 << 40
    /// train.epochs: 2²⁰.
    public static let epochs = 1 << 20
    /// train.batch and train.chunk, samples per rank and micro-batch: 2²⁰.
    public static let batch = 1 << 20
    /// train.accumulate: 2¹⁶.
    public static let accumulate = 1 << 16
    /// data.train_count and data.test_count, synthetic images: 2³¹.
    public static let samples = 1 << 31
    /// data.classes: 2²⁰.
    public static let classes = 1 << 20
    /// data.noise, in pixel levels: 255.
    public static let noise = 255
    /// model.vocab: 2³¹ (token ids are 32-bit).
    public static let vocab = 1 << 31
    /// model.context: 2²⁰ tokens.
    public static let context = 1 << 20
    /// model.embed: 2²⁰.
    public static let embed = 1 << 20
    /// model.heads: 2¹⁶.
    public static let heads = 1 << 16
    /// model.layers of a GPT, its blocks: 2¹⁶.
    public static let blocks = 1 << 16
    /// Each dimension of model.input: 2²⁰.
    public static let dimension = 1 << 20
    /// The values of one sample: model.input's product, and each layer's output: 2³¹.
    public static let sampleValues = ModelSpec.maximumValuesPerSample
    /// A layer's `in` and `out`: 2²⁴.
    public static let features = 1 << 24
    /// A layer's `kernel`, `stride` and `padding`: 2¹⁶.
    public static let window = 1 << 16
    /// comm.bucket_mb: 4096 (4 GiB).
    public static let bucketMB = 4096.0
    /// comm.timeout_s: 10⁶ s (11.6 days).
    public static let timeoutSeconds = 1_000_000.0
    /// comm.poll_us: 10⁶ µs.
    public static let pollMicroseconds = 1_000_000
    /// comm.ranks_per_node and checkpoint.keep: 2²⁰.
    public static let count = 1 << 20
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
        ConfigKey("model.vocab", .int, .int(256), .positive, max: ConfigLimits.vocab),
        ConfigKey("model.context", .int, .int(128), .positive, max: ConfigLimits.context),
        ConfigKey("model.heads", .int, .int(4), .positive, max: ConfigLimits.heads),
        ConfigKey("model.embed", .int, .int(128), .positive, max: ConfigLimits.embed),

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
        ConfigKey("data.val_windows", .int, .int(0), .nonNegative, max: ConfigLimits.steps),
        ConfigKey("data.train_count", .int, .int(4096), .positive, max: ConfigLimits.samples),
        ConfigKey("data.test_count", .int, .int(1024), .positive, max: ConfigLimits.samples),
        ConfigKey("data.classes", .int, .int(10), .positive, max: ConfigLimits.classes),
        ConfigKey("data.noise", .int, .int(40), .nonNegative, max: ConfigLimits.noise),
        ConfigKey("data.seed", .int, .int(7), .nonNegative, max: Int.max),

        // The loop. train.steps > 0 overrides train.epochs; train.batch is per rank.
        ConfigKey("train.epochs", .int, .int(1), .positive, max: ConfigLimits.epochs),
        ConfigKey("train.steps", .int, .int(0), .nonNegative, max: ConfigLimits.steps),
        ConfigKey("train.batch", .int, .int(128), .positive, max: ConfigLimits.batch),
        ConfigKey("train.seed", .int, .int(0), .nonNegative, max: Int.max),
        ConfigKey("train.accumulate", .int, .int(1), .positive, max: ConfigLimits.accumulate),
        ConfigKey("train.shuffle", .bool, .bool(true)),
        ConfigKey("train.log_every", .int, .int(50), .positive, max: ConfigLimits.steps),
        ConfigKey("train.eval_every", .int, .int(0), .nonNegative, max: ConfigLimits.steps),
        ConfigKey("train.target_accuracy", .double, .double(0), .atMost(1)),
        ConfigKey("train.skip_nonfinite", .bool, .bool(false)),
        // Split each step's global batch across the ranks by their measured speed (BatchBalancer).
        ConfigKey("train.balance", .bool, .bool(false)),
        ConfigKey("train.deterministic", .bool, .bool(false)),
        ConfigKey("train.chunk", .int, .int(16), .positive, max: ConfigLimits.batch),
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
        ConfigKey("schedule.warmup_steps", .int, .int(0), .nonNegative, max: ConfigLimits.steps),
        ConfigKey("schedule.step_every", .int, .int(1000), .positive, max: ConfigLimits.steps),
        ConfigKey("schedule.gamma", .double, .double(0.1), .positive),
        ConfigKey("schedule.min_lr", .double, .double(0), .nonNegative),
        ConfigKey("schedule.linear_scaling", .bool, .bool(false)),
        ConfigKey("schedule.base_batch", .int, .int(256), .positive, max: ConfigLimits.steps),

        // Communication.
        ConfigKey("comm.algorithm", .string(choices: ["auto", "mpi", "ring", "rhd", "hierarchical"]), .string("auto")),
        ConfigKey("comm.bucket_mb", .double, .double(25), .positive, max: ConfigLimits.bucketMB),
        ConfigKey("comm.compression", .string(choices: ["none", "fp16", "bf16"]), .string("none")),
        ConfigKey("comm.ranks_per_node", .int, .int(0), .nonNegative, max: ConfigLimits.count),
        ConfigKey("comm.progress", .string(choices: ["thread", "test"]), .string("thread")),
        ConfigKey("comm.poll_us", .int, .int(10), .nonNegative, max: ConfigLimits.pollMicroseconds),
        ConfigKey("comm.timeout_s", .double, .double(300), .positive, max: ConfigLimits.timeoutSeconds),
        ConfigKey("comm.shared_memory", .bool, .bool(true)),

        // The kernels' libraries. tensor.gemm: "auto" picks OpenBLAS or oneDNN per GEMM shape by
        // timing both at start-up (cached per machine); deterministic mode pins OpenBLAS unless
        // one is named. tensor.conv: how Conv2d convolves; "auto" takes oneDNN's direct
        // convolution where oneDNN creates the layer's primitives, else im2col and OpenBLAS.
        ConfigKey("tensor.gemm", .string(choices: TensorSettings.GEMMChoice.allCases.map(\.rawValue)), .string("auto")),
        ConfigKey("tensor.conv", .string(choices: ConvAlgorithm.allCases.map(\.rawValue)), .string("auto")),

        // Checkpoints; an empty checkpoint.dir writes none.
        ConfigKey("checkpoint.dir", .string(choices: []), .string("")),
        ConfigKey("checkpoint.every_steps", .int, .int(0), .nonNegative, max: ConfigLimits.steps),
        ConfigKey("checkpoint.every_epoch", .bool, .bool(false)),
        ConfigKey("checkpoint.keep", .int, .int(3), .positive, max: ConfigLimits.count),
    ]

    static let byPath: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.path, $0) })

    /// The tables the keys live in: "model", "data", "train", ….
    static let sections: Set<String> = Set(keys.compactMap { $0.path.split(separator: ".").first.map(String.init) })

    /// The known key closest to `path`, if it is a likely typo.
    static func suggestion(for path: String, among candidates: [String] = keys.map(\.path)) -> String? {
        Suggestion.closest(to: path, among: candidates)
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

    /// The largest value of a layer's integer key.
    static func maximum(of key: String) -> Int {
        key == "in" || key == "out" ? ConfigLimits.features : ConfigLimits.window
    }
}
