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
