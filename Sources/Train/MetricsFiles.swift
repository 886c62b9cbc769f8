import Foundation
import Metrics

extension Trainer {
    /// The files rank 0 writes the run's metrics to (--metrics, --tensorboard), or nil. A
    /// resumed run appends to its JSON Lines file; TensorBoard reads every event file in the
    /// folder, so a resumed run adds one.
    /// - Throws: `TrainingError` naming a file that cannot be opened.
    func metricsSinks() throws -> MetricsSinks? {
        guard comm.rank == 0, options.metricsPath != nil || options.tensorboardDirectory != nil else { return nil }
        let opened = Result { () throws(MetricsError) in
            MetricsSinks(lines: try options.metricsPath.map { (path) throws(MetricsError) in
                            try JSONLinesWriter(path: path, append: options.resume != nil)
                         },
                         board: try options.tensorboardDirectory.map { (directory) throws(MetricsError) in
                             try TensorBoardWriter(directory: directory, time: Date().timeIntervalSince1970)
                         })
        }
        switch opened {
        case let .success(sinks): return sinks
        case let .failure(error): throw TrainingError(error.description)
        }
    }
}
