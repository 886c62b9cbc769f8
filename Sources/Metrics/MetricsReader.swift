import Foundation

/// Reads a `--metrics` JSON Lines file back into records.
public enum MetricsReader {
    /// - Throws: `MetricsError` naming the file and the line that is not a record.
    public static func read(path: String) throws(MetricsError) -> [MetricRecord] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MetricsError("\(path): \(FileManager.default.fileExists(atPath: path) ? "cannot read it" : "no such file")")
        }
        var records: [MetricRecord] = []
        for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let kindText = object["kind"] as? String, let kind = MetricRecord.Kind(rawValue: kindText),
                  let step = (object["step"] as? NSNumber)?.intValue
            else {
                throw MetricsError("\(path):\(i + 1): not a metrics record (a JSON object with kind \"train\" or \"eval\" and a step)")
            }
            func double(_ key: String) -> Double { (object[key] as? NSNumber)?.doubleValue ?? .nan }
            let fixed: Set<String> = ["kind", "step", "epoch", "wall_s", "time"]
            // The values in the order the line has them is lost to JSONSerialization; sorted keys are stable.
            let values = object.keys.filter { !fixed.contains($0) }.sorted().map { MetricRecord.Value($0, double($0)) }
            records.append(MetricRecord(kind: kind, step: step, epoch: (object["epoch"] as? NSNumber)?.intValue ?? 0,
                                        wallSeconds: double("wall_s"), time: double("time"), values: values))
        }
        return records
    }
}
