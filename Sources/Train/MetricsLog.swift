import Host

/// What rank 0 reports while a run trains, and what the summary keeps of it. It decides when
/// it logs: every train.log_every steps, at each epoch's end and at the last step. A progress
/// line reads, e.g.
/// `step   50/468  epoch 1/1  loss 0.6321  12,840 samples/s  ETA 0:04`, and for a language
/// model `step  100/2000  epoch 1/1  loss 1.8312  val 1.9020  4,210 tokens/s  ETA 7:31`.
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
    /// The losses and predictions summed since the last log, and when that was.
    private var lossSum = 0.0, lossCount = 0.0
    private var lastLogTime: UInt64, lastLogStep: Int
    private let startTime: UInt64, startStep: Int
    private(set) var losses: [LossPoint] = []

    /// - Parameters:
    ///   - startStep: the step the run starts from (a resumed run's).
    ///   - printing: whether this rank prints (rank 0, unless quiet).
    init(examples: Examples, every: Int, totalSteps: Int, stepsPerEpoch: Int, globalBatch: Int, startStep: Int, startTime: UInt64,
         printing: Bool) {
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

    /// Takes the world's loss of step `step` (1-based), and logs if it is due.
    func step(_ step: Int, epoch: Int, lossSum: Double, lossCount: Double, epochEnds: Bool, now: UInt64) {
        self.lossSum += lossSum
        self.lossCount += lossCount
        guard step % every == 0 || epochEnds || step == totalSteps else { return }
        let loss = self.lossSum / self.lossCount
        losses.append(LossPoint(step: step, loss: loss))
        if printing {
            let rate = Double((step - lastLogStep) * globalBatch) / (Double(now - lastLogTime) / 1e9)
            let secondsPerStep = Double(now - startTime) / 1e9 / Double(step - startStep)
            let width = String(totalSteps).count
            let stepText = String(repeating: " ", count: max(width - String(step).count, 0)) + String(step)
            let throughput = switch examples {
            case .images: "\(NumberText.grouped(rate)) samples/s"
            case let .tokens(context): (validationLoss.map { "val \(NumberText.fixed($0, 4))  " } ?? "")
                + "\(NumberText.grouped(rate * Double(context))) tokens/s"
            }
            Console.line("step \(stepText)/\(totalSteps)  epoch \(epoch)/\(totalEpochs)  loss \(NumberText.fixed(loss, 4))  "
                         + "\(throughput)  ETA \(NumberText.duration(secondsPerStep * Double(totalSteps - step)))")
        }
        self.lossSum = 0
        self.lossCount = 0
        lastLogTime = now
        lastLogStep = step
    }

    /// Reports an evaluation after step `step`.
    func evaluation(step: Int, _ result: Evaluator.Result) {
        if case .tokens = examples { validationLoss = result.loss }
        guard printing else { return }
        switch examples {
        case .images:
            Console.line("eval at step \(step): test accuracy \(NumberText.fixed(result.accuracy * 100, 2))%  test loss \(NumberText.fixed(result.loss, 4))")
        case .tokens:
            Console.line("eval at step \(step): val loss \(NumberText.fixed(result.loss, 4)) (\(NumberText.fixed(result.bitsPerPrediction, 4)) bits/token)  next-token accuracy \(NumberText.fixed(result.accuracy * 100, 2))%")
        }
    }

    /// A line about the run (a skipped step, say).
    func note(_ text: String) {
        guard printing else { return }
        Console.line(text)
    }
}
