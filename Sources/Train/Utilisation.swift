import Host

/// Model FLOPs utilisation (MFU): the model FLOPs a run's examples cost (forward and backward,
/// counted from the layer shapes: `TrainableModel.modelFlopsPerExample`) per second, over what
/// the world's cores can do at their peak FMA rate (`CorePeak`).
struct Utilisation: Sendable {
    /// Model FLOPs of one example, forward and backward.
    let flopsPerExample: Double
    /// World size × one core's peak, in FLOP/s.
    let peakFlopsPerSecond: Double

    init(flopsPerExample: Double, world: Int, peak: CorePeak) {
        self.flopsPerExample = flopsPerExample
        peakFlopsPerSecond = Double(world) * peak.gflops * 1e9
    }

    /// The fraction of the peak that `examplesPerSecond` examples per second use.
    func mfu(examplesPerSecond: Double) -> Double { examplesPerSecond * flopsPerExample / peakFlopsPerSecond }
}

extension Trainer {
    /// The run's MFU at a rate, or nil without a measured peak.
    var utilisation: Utilisation? {
        options.corePeak.map { Utilisation(flopsPerExample: model.modelFlopsPerExample, world: comm.size, peak: $0.peak) }
    }
}
