import Foundation

/// The learning rate as a function of the optimizer step (0-based).
///
/// `base` is the configured rate, times `globalBatch / baseBatch` under linear scaling
/// (Goyal et al. 2017). A linear warmup from `base/warmupSteps` to `base` over the first
/// `warmupSteps` steps is followed by the decay: constant, step (× `gamma` every `stepSize`
/// steps) or cosine (from `base` to `minLR` at `totalSteps`).
public struct LRSchedule: Equatable, Sendable {
    public enum Decay: Equatable, Sendable {
        case constant
        case step(every: Int, gamma: Double)
        case cosine(minLR: Double)
    }

    public let base: Double
    public let decay: Decay
    public let warmupSteps: Int
    public let totalSteps: Int

    /// - Parameter scaling: `(globalBatch, baseBatch)` to scale `lr` linearly, or nil.
    public init(lr: Double, decay: Decay, warmupSteps: Int, totalSteps: Int, scaling: (globalBatch: Int, baseBatch: Int)?) {
        base = scaling.map { lr * Double($0.globalBatch) / Double($0.baseBatch) } ?? lr
        self.decay = decay
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The rate for optimizer step `step` (0-based).
    public func lr(at step: Int) -> Float {
        if step < warmupSteps { return Float(base * Double(step + 1) / Double(warmupSteps)) }
        switch decay {
        case .constant:
            return Float(base)
        case let .step(every, gamma):
            return Float(base * pow(gamma, Double(step / every)))
        case let .cosine(minLR):
            let span = max(totalSteps - warmupSteps, 1)
            let t = min(Double(step - warmupSteps) / Double(span), 1)
            return Float(minLR + (base - minLR) * 0.5 * (1 + cos(Double.pi * t)))
        }
    }
}
