import RunConfig

/// The config loader's fuzz target. An input is a TOML config, then `--set` overrides, each
/// after a NUL byte: `[train]\nbatch = 8\0train.steps=1e12\0comm.bucket_mb=4`. Any input
/// must give a config or a `ConfigError`, never a trap, through `Config.parse`, `TrainingConfig`
/// and the start-up resource check; and every error must start with where it is: the file
/// (`c.toml`, with a line inside the input) or a `--set` that was given.
func readConfig(_ bytes: [UInt8]) {
    let parts = bytes.split(separator: 0, omittingEmptySubsequences: false)
    let toml = Array(parts[0])
    let overrides = parts.dropFirst().map { String(decoding: $0, as: UTF8.self) }
    let lines = toml.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }

    // Compared as bytes: as Characters, an override starting with a combining mark would merge
    // with the space before it.
    func check(_ error: ConfigError) {
        let text = Array(error.description.utf8)
        if text.starts(with: "--set ".utf8) {
            precondition(overrides.contains { text.starts(with: "--set \($0):".utf8) }, "an error names a --set that was not given: \(error)")
            return
        }
        precondition(text.starts(with: "c.toml:".utf8), "an error without its source: \(error)")
        let digits = text.dropFirst("c.toml:".count).prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard let line = Int(String(decoding: digits, as: UTF8.self)) else { return }  // "c.toml: …", the file as a whole
        precondition((1...lines).contains(line), "an error at line \(line) of a \(lines)-line input: \(error)")
    }

    let config: Config
    switch Result(catching: { () throws(ConfigError) in try Config.parse(bytes: toml, source: "c.toml", overrides: overrides) }) {
    case let .success(parsed): config = parsed
    case let .failure(error): return check(error)
    }
    _ = config.canonicalText
    let settings: TrainingConfig
    switch Result(catching: { () throws(ConfigError) in try TrainingConfig(config) }) {
    case let .success(typed): settings = typed
    case let .failure(error): return check(error)
    }
    for world in [1, 7, 1 << 20] {
        for maxBatch in [1, settings.train.batch, settings.train.batch + settings.train.batch / 2] {
            if case let .failure(error) = Result(catching: { () throws(ConfigError) in
                try settings.checkResources(world: world, maxBatch: maxBatch, memoryBytes: 64e9)
            }) {
                check(error)
            }
        }
    }
    _ = settings.globalBatch(world: 1)
    _ = settings.sync.bucketBytes
}

#if FUZZING
/// libFuzzer's entry point: one input per call.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    readConfig(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
import FuzzSupport

/// Without libFuzzer: replays the seed corpus and the regression inputs, or the files named.
@main
enum FuzzConfig {
    static func main() {
        replayInputs(defaultFolders: ["Fuzz/Corpus/config", "Fuzz/Regressions/config"], body: readConfig)
    }
}
#endif
