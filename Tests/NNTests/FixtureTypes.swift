import Foundation
import TestSupport

/// The layout of Fixtures/mlp.json and cnn.json (see scripts/fixtures/make_fixtures.py).
struct ModelFixture: Decodable {
    struct FormulaCheck: Decodable {
        let seed: UInt64
        let scale: Float
        let symmetric: [Float]
        let unit: [Float]
        let labels: [Int32]
    }

    struct Input: Decodable {
        let seed: UInt64
        /// (B, 1, 28, 28).
        let shape: [Int]
    }

    struct Labels: Decodable {
        let seed: UInt64
        let classes: Int
        let values: [Int32]
    }

    struct Parameter: Decodable {
        let name: String
        let shape: [Int]
        let seed: UInt64
        let scale: Float
        /// The whole gradient, or nil when it is sampled.
        let gradient: [Double]?
        let sampleIndices: [Int]?
        let sampleValues: [Double]?
        let sum: Double?
        let sumOfSquares: Double?

        enum CodingKeys: String, CodingKey {
            case name, shape, seed, scale, gradient, sum
            case sampleIndices = "sample_indices", sampleValues = "sample_values", sumOfSquares = "sum_of_squares"
        }
    }

    let formulaCheck: FormulaCheck
    let input: Input
    let labels: Labels
    let parameters: [Parameter]
    /// (B, 10), row-major.
    let logits: [Double]
    /// The mean cross-entropy over the batch.
    let loss: Double

    enum CodingKeys: String, CodingKey {
        case formulaCheck = "formula_check", input, labels, parameters, logits, loss
    }

    static func load(_ name: String) throws -> ModelFixture {
        try Fixtures.load(ModelFixture.self, name, in: .module)
    }
}

/// The layout of Fixtures/sgd.json.
struct SGDFixture: Decodable {
    struct Step: Decodable {
        let params: [Double]
        let momentumBuffer: [Double]
        enum CodingKeys: String, CodingKey { case params, momentumBuffer = "momentum_buffer" }
    }

    struct Run: Decodable {
        let nesterov: Bool
        let steps: [Step]
    }

    let count: Int
    let paramSeed: UInt64
    let gradSeeds: [UInt64]
    let scale: Float
    let lr: Float
    let momentum: Float
    let weightDecay: Float
    let runs: [Run]

    enum CodingKeys: String, CodingKey {
        case count, scale, lr, momentum, runs
        case paramSeed = "param_seed", gradSeeds = "grad_seeds", weightDecay = "weight_decay"
    }
}

/// The layout of Fixtures/adamw.json.
struct AdamWFixture: Decodable {
    struct Step: Decodable {
        let params: [Double]
        let expAvg: [Double]
        let expAvgSq: [Double]
        enum CodingKeys: String, CodingKey { case params, expAvg = "exp_avg", expAvgSq = "exp_avg_sq" }
    }

    let count: Int
    let paramSeed: UInt64
    let gradSeeds: [UInt64]
    let scale: Float
    let lr: Float
    let beta1: Double
    let beta2: Double
    let eps: Float
    let weightDecay: Float
    let steps: [Step]

    enum CodingKeys: String, CodingKey {
        case count, scale, lr, beta1, beta2, eps, steps
        case paramSeed = "param_seed", gradSeeds = "grad_seeds", weightDecay = "weight_decay"
    }
}

/// The layout of Fixtures/gpt.json and gpt.bin (see scripts/fixtures/make_gpt_fixtures.py).
struct GPTFixture: Decodable {
    struct Config: Decodable {
        let vocab: Int, context: Int, layers: Int, heads: Int, embed: Int
    }

    struct Seeded: Decodable {
        let seed: UInt64
    }

    struct Parameter: Decodable {
        let name: String
        let shape: [Int]
        let seed: UInt64
        let scale: Float
        let offset: Float
    }

    struct Optimizer: Decodable {
        let lr: Float, beta1: Double, beta2: Double, eps: Float
        let weightDecay: Float, maxNorm: Double
        enum CodingKeys: String, CodingKey { case lr, beta1, beta2, eps, weightDecay = "weight_decay", maxNorm = "max_norm" }
    }

    struct ArrayEntry: Decodable {
        let name: String
        let count: Int
    }

    let config: Config
    let batch: Int
    let tokens: Seeded
    let targets: Seeded
    let parameters: [Parameter]
    let optimizer: Optimizer
    /// The mean loss before each of the two steps.
    let losses: [Double]
    /// The total gradient norm clip_grad_norm_ returned at each step.
    let norms: [Double]
    let arrays: [ArrayEntry]
    /// The arrays of gpt.bin by name, as Doubles.
    var values: [String: [Double]] = [:]

    enum CodingKeys: String, CodingKey { case config, batch, tokens, targets, parameters, optimizer, losses, norms, arrays }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func load() throws -> GPTFixture {
        var fixture = try Fixtures.load(GPTFixture.self, "gpt.json", in: .module)
        let bytes = try Data(contentsOf: try Fixtures.url("gpt.bin", in: .module))
        var at = 0
        for entry in fixture.arrays {
            guard at + 4 * entry.count <= bytes.count else { throw Malformed(description: "gpt.bin is too short for \(entry.name)") }
            fixture.values[entry.name] = (0..<entry.count).map { i in
                let b = at + 4 * i
                let bits = UInt32(bytes[b]) | UInt32(bytes[b + 1]) << 8 | UInt32(bytes[b + 2]) << 16 | UInt32(bytes[b + 3]) << 24
                return Double(Float(bitPattern: bits))
            }
            at += 4 * entry.count
        }
        guard at == bytes.count else { throw Malformed(description: "gpt.bin has \(bytes.count) bytes, the arrays \(at)") }
        return fixture
    }
}
