import Comm
import Foundation
import Host
import Metrics

/// What rank 0 reports while a run trains, and what the summary keeps of it. It decides when
/// it logs: every train.log_every steps, at each epoch's end and at the last step. A progress
/// line reads, e.g.
/// `step   50/468  epoch 1/1  loss 0.6321  12,840 samples/s  MFU 54%  ETA 0:04`, and for a
/// language model `step  100/2000  epoch 1/1  loss 1.8312  val 1.9020  4,210 tokens/s  MFU 61%  ETA 7:31`
/// (MFU: model FLOPs utilisation, when the core's peak is known).
final class MetricsLog {
    struct LossPoint: Sendable, Equatable {
        var step: Int
        var loss: Double
    }

    /// What a run's examples are, for the lines' wording.
    enum Examples {
        /// Labelled images: throughput in samples/s, evaluation as test accuracy and loss.
        case images
        /// Token windows of `context` tokens: throughput in tokens/s, evaluation as validation
        /// loss in nats and bits per token.
        case tokens(context: Int)
    }

    private let examples: Examples
    /// The latest validation loss of a language model, for the progress line.
    private var validationLoss: Double?
    private let every: Int
    private let totalSteps: Int
    private let totalEpochs: Int
    private let globalBatch: Int
    private let printing: Bool
    private let utilisation: Utilisation?
    /// The losses and predictions summed since the last log, and when that was.
    private var lossSum = 0.0, lossCount = 0.0
    private var lastLogTime: UInt64, lastLogStep: Int
    private let startTime: UInt64, startStep: Int
    private(set) var losses: [LossPoint] = []
    /// Where records go (rank 0 with --metrics or --tensorboard), and the Unix time of `startTime`.
    private let sinks: MetricsSinks?
    private let startUnixTime: Double

    /// - Parameters:
    ///   - startStep: the step the run starts from (a resumed run's).
    ///   - printing: whether this rank prints (rank 0, unless quiet).
    ///   - utilisation: what turns samples/s into MFU, or nil.
    ///   - sinks: the files records go to, or nil.
    init(examples: Examples, every: Int, totalSteps: Int, stepsPerEpoch: Int, globalBatch: Int, startStep: Int, startTime: UInt64,
         utilisation: Utilisation? = nil, printing: Bool, sinks: MetricsSinks? = nil) {
        self.utilisation = utilisation
        self.sinks = sinks
        startUnixTime = Date().timeIntervalSince1970
        self.examples = examples
        self.every = every
        self.totalSteps = totalSteps
        totalEpochs = (totalSteps + stepsPerEpoch - 1) / stepsPerEpoch
        self.globalBatch = globalBatch
        self.printing = printing
        lastLogTime = startTime
        lastLogStep = startStep
        self.startTime = startTime
        self.startStep = startStep
    }

    /// The mean loss of the last logging interval.
    var lastLoss: Double { losses.last?.loss ?? .nan }

    /// Takes the world's loss of step `step` (1-based), and logs if it is due; `lr` is the
    /// step's learning rate and `gradientNorm` the global norm of its averaged gradient.
    /// - Throws: `TrainingError` when a metrics file cannot be written.
    func step(_ step: Int, epoch: Int, lossSum: Double, lossCount: Double, lr: Double = .nan, gradientNorm: Double = .nan,
              epochEnds: Bool, now: UInt64) throws {
        self.lossSum += lossSum
        self.lossCount += lossCount
        guard step % every == 0 || epochEnds || step == totalSteps else { return }
        let loss = self.lossSum / self.lossCount
        losses.append(LossPoint(step: step, loss: loss))
        let rate = Double((step - lastLogStep) * globalBatch) / (Double(now - lastLogTime) / 1e9)
        if let sinks {
            var values = [MetricRecord.Value("loss", loss), .init("lr", lr), .init("grad_norm", gradientNorm),
                          .init("samples_per_s", rate)]
            if case let .tokens(context) = examples { values.append(.init("tokens_per_s", rate * Double(context))) }
            if let utilisation { values.append(.init("mfu", utilisation.mfu(examplesPerSecond: rate))) }
            try write(sinks, MetricRecord(kind: .train, step: step, epoch: epoch, wallSeconds: seconds(now), time: 0, values: values))
        }
        if printing {
            let secondsPerStep = Double(now - startTime) / 1e9 / Double(step - startStep)
            let width = String(totalSteps).count
            let stepText = String(repeating: " ", count: max(width - String(step).count, 0)) + String(step)
            let throughput = switch examples {
            case .images: "\(NumberText.grouped(rate)) samples/s"
            case let .tokens(context): (validationLoss.map { "val \(NumberText.fixed($0, 4))  " } ?? "")
                + "\(NumberText.grouped(rate * Double(context))) tokens/s"
            }
            let mfu = utilisation.map { "  MFU \(NumberText.fixed($0.mfu(examplesPerSecond: rate) * 100, 0))%" } ?? ""
            Console.line("step \(stepText)/\(totalSteps)  epoch \(epoch)/\(totalEpochs)  loss \(NumberText.fixed(loss, 4))  "
                         + "\(throughput)\(mfu)  ETA \(NumberText.duration(secondsPerStep * Double(totalSteps - step)))")
        }
        self.lossSum = 0
        self.lossCount = 0
        lastLogTime = now
        lastLogStep = step
    }

    /// Reports an evaluation after step `step`, in epoch `epoch` (1-based).
    /// - Throws: `TrainingError` when a metrics file cannot be written.
    func evaluation(step: Int, epoch: Int = 0, _ result: Evaluator.Result, now: UInt64 = MonotonicClock.nanoseconds()) throws {
        if case .tokens = examples { validationLoss = result.loss }
        if let sinks {
            var values = [MetricRecord.Value("val_loss", result.loss), .init("val_accuracy", result.accuracy)]
            if case .tokens = examples { values.append(.init("val_bits_per_token", result.bitsPerPrediction)) }
            try write(sinks, MetricRecord(kind: .eval, step: step, epoch: epoch, wallSeconds: seconds(now), time: 0, values: values))
        }
        guard printing else { return }
        switch examples {
        case .images:
            Console.line("eval at step \(step): test accuracy \(NumberText.fixed(result.accuracy * 100, 2))%  test loss \(NumberText.fixed(result.loss, 4))")
        case .tokens:
            Console.line("eval at step \(step): val loss \(NumberText.fixed(result.loss, 4)) (\(NumberText.fixed(result.bitsPerPrediction, 4)) bits/token)  next-token accuracy \(NumberText.fixed(result.accuracy * 100, 2))%")
        }
    }

    private func seconds(_ now: UInt64) -> Double { Double(now &- startTime) / 1e9 }

    private func write(_ sinks: MetricsSinks, _ record: MetricRecord) throws {
        var record = record
        record.time = startUnixTime + record.wallSeconds
        let outcome = Result { () throws(MetricsError) in try sinks.write(record) }
        if case let .failure(error) = outcome { throw TrainingError(error.description) }
    }

    /// A line about the run (a skipped step, say).
    func note(_ text: String) {
        guard printing else { return }
        Console.line(text)
    }
}
