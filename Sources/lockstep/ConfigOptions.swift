import ArgumentParser
import RunConfig

/// `--config FILE` and `--set key=value`, as every command that reads a config takes them.
struct ConfigOptions: ParsableArguments {
    @Option(help: "The TOML config.")
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key, e.g. --set train.batch=64 (repeatable).",
                                                          valueName: "key=value"))
    var overrides: [String] = []

    /// The config with its overrides, checked.
    /// - Throws: `ConfigError` naming the file or the --set and what is wrong.
    func load() throws(ConfigError) -> TrainingConfig {
        try TrainingConfig(Config.load(path: config, overrides: overrides))
    }
}
