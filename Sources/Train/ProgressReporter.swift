import Foundation

/// Rank 0's progress lines: step/total, epoch, loss, samples/s and ETA, e.g.
/// `step   50/468  epoch 1/1  loss 0.6321  12,840 samples/s  ETA 0:04`.
struct ProgressReporter {
    let totalSteps: Int
    let totalEpochs: Int
    let globalBatch: Int
    let enabled: Bool

    func step(_ step: Int, epoch: Int, loss: Double, samplesPerSecond: Double, secondsLeft: Double) {
        guard enabled else { return }
        let width = String(totalSteps).count
        let stepText = String(repeating: " ", count: max(width - String(step).count, 0)) + String(step)
        Console.line("step \(stepText)/\(totalSteps)  epoch \(epoch)/\(totalEpochs)  loss \(format(loss, 4))  "
              + "\(grouped(samplesPerSecond)) samples/s  ETA \(duration(secondsLeft))")
    }

    func evaluation(step: Int, accuracy: Double, loss: Double) {
        guard enabled else { return }
        Console.line("eval at step \(step): test accuracy \(format(accuracy * 100, 2))%  test loss \(format(loss, 4))")
    }

    func note(_ text: String) {
        guard enabled else { return }
        Console.line(text)
    }
}

func format(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    return String(format: "%.\(decimals)f", value)
}

/// 12345.6 -> "12,346".
func grouped(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    let digits = String(Int(value.rounded()))
    var out = ""
    for (i, c) in digits.reversed().enumerated() {
        if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
        out.append(c)
    }
    return String(out.reversed())
}

/// 75 -> "1:15"; 3700 -> "1:01:40".
func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    let pad = { (n: Int) in n < 10 ? "0\(n)" : "\(n)" }
    return s >= 3600 ? "\(s / 3600):\(pad(s / 60 % 60)):\(pad(s % 60))" : "\(s / 60):\(pad(s % 60))"
}
