import Foundation
import Host
import Train

/// The runs of `lockstep bench compare`, in the order they are launched: `repeats` rounds of
/// throughput runs, each round every world size in turn with Lockstep and the PyTorch DDP
/// reference alternating (A B A B …), then, with an accuracy target, as many rounds of
/// time-to-accuracy runs. Rounds rather than one world after another, so that a drift of a
/// shared host's speed reaches every world's median alike, and the scaling efficiency made of
/// two of them measures Lockstep rather than the drift. Every run is one
/// `mpirun -np W --bind-to core` of the same config.
///
/// Both systems time the same steps: Lockstep's summary leaves the first
/// `RunSummary.warmupSteps` steps out of samples_per_s, so Lockstep trains `steps` + that
/// many steps and the reference is told to time `steps` after as many untimed ones.
public struct ComparisonPlan: Sendable {
    public enum System: String, Codable, Sendable, CaseIterable {
        case lockstep, pytorch

        /// The name in tables and messages.
        public var title: String { self == .lockstep ? "Lockstep" : "PyTorch" }
    }

    public enum Kind: String, Codable, Sendable {
        /// A fixed number of steps: samples/s, step time, peak RSS.
        case throughput
        /// Train until the test accuracy reaches the target: the time it took.
        case accuracy
    }

    /// The time-to-accuracy settings, the same for both systems.
    public struct Target: Codable, Equatable, Sendable {
        /// Test accuracy in 0…1.
        public var accuracy: Double
        /// Evaluate every this many steps (0: at each epoch's end only); both also evaluate at epoch ends.
        public var evalEvery: Int
        /// Give up after this many epochs.
        public var maxEpochs: Int

        public init(accuracy: Double, evalEvery: Int, maxEpochs: Int) {
            self.accuracy = accuracy
            self.evalEvery = evalEvery
            self.maxEpochs = maxEpochs
        }

        enum CodingKeys: String, CodingKey {
            case accuracy, evalEvery = "eval_every", maxEpochs = "max_epochs"
        }
    }

    /// One run: a command line, and the file its result lands in.
    public struct Launch: Sendable, Equatable {
        public var system: System
        public var kind: Kind
        public var world: Int
        /// 1-based, per system, kind and world.
        public var repetition: Int
        public var oversubscribed: Bool
        /// mpirun and its arguments; the reference's `--port N` is added at launch.
        public var arguments: [String]
        /// Where the run writes its JSON (Lockstep's --summary, the reference's --json).
        public var resultPath: String
        /// A file-name stem for the run's stdout and stderr.
        public var label: String
        /// Whether `--port N` must be appended (the reference's rendezvous).
        public var needsPort: Bool

        /// The arguments with the rendezvous port, if the run needs one.
        public func arguments(port: Int) -> [String] { needsPort ? arguments + ["--port", String(port)] : arguments }

        /// e.g. "pytorch, world 2, throughput run 3".
        public var title: String { "\(system.title), world \(world), \(kind.rawValue) run \(repetition)" }
    }

    public var worlds: [Int]
    public var repeats: Int
    /// Timed steps per throughput run.
    public var steps: Int
    /// Untimed steps before them.
    public var warmupSteps: Int
    public var target: Target?
    public var launches: [Launch]

    /// - Parameters:
    ///   - worlds: world sizes, ascending, without repeats.
    ///   - cores: the machine's cores: more ranks than that are oversubscribed.
    ///   - lockstep: the Lockstep binary; `mpirun`, `python`, `reference`: absolute paths.
    ///   - directory: where the runs write their results.
    ///   - lockstepOverrides: `--set key=value` settings for Lockstep's runs only (e.g. no checkpoints).
    public init(config: String, worlds: [Int], repeats: Int, steps: Int, target: Target?, cores: Int, mpirun: String,
                lockstep: String, python: String, reference: String, directory: String, lockstepOverrides: [String] = []) {
        self.worlds = worlds
        self.repeats = repeats
        self.steps = steps
        self.target = target
        let warmup = Self.warmup(timedSteps: steps)
        warmupSteps = warmup
        var launches: [Launch] = []
        let kinds: [Kind] = target == nil ? [.throughput] : [.throughput, .accuracy]
        for kind in kinds {
            for repetition in 1...repeats {
                for world in worlds {
                    let oversubscribed = world > cores
                    let mpi = [mpirun, "-np", String(world)]
                        + (oversubscribed ? ["--bind-to", "core:overload-allowed", "--oversubscribe"] : ["--bind-to", "core"])
                    for system in System.allCases {
                        let label = "\(system.rawValue)-w\(world)-\(kind.rawValue)-\(repetition)"
                        let result = "\(directory)/\(label).json"
                        var command: [String]
                        switch (system, kind) {
                        case (.lockstep, .throughput):
                            command = [lockstep, "train", "--config", config, "--quiet", "--summary", result,
                                       "--set", "train.steps=\(steps + warmup)", "--set", "train.eval_every=0",
                                       "--set", "train.target_accuracy=0"]
                        case (.lockstep, .accuracy):
                            let t = target!
                            command = [lockstep, "train", "--config", config, "--quiet", "--summary", result,
                                       "--set", "train.steps=0", "--set", "train.epochs=\(t.maxEpochs)",
                                       "--set", "train.target_accuracy=\(t.accuracy)", "--set", "train.eval_every=\(t.evalEvery)"]
                        case (.pytorch, .throughput):
                            command = [python, reference, "--config", config, "--json", result,
                                       "--steps", String(steps), "--warmup", String(warmup)]
                        case (.pytorch, .accuracy):
                            let t = target!
                            command = [python, reference, "--config", config, "--json", result,
                                       "--target-accuracy", String(t.accuracy), "--eval-every", String(t.evalEvery),
                                       "--max-epochs", String(t.maxEpochs)]
                        }
                        if system == .lockstep { command += lockstepOverrides.flatMap { ["--set", $0] } }
                        launches.append(Launch(system: system, kind: kind, world: world, repetition: repetition,
                                               oversubscribed: oversubscribed, arguments: mpi + command, resultPath: result,
                                               label: label, needsPort: system == .pytorch))
                    }
                }
            }
        }
        self.launches = launches
    }

    /// The untimed steps that go with `timedSteps` timed ones: as many as Lockstep's summary
    /// leaves out of a run of `timedSteps` + that many steps (the largest such count).
    public static func warmup(timedSteps: Int) -> Int {
        (0...max(timedSteps, 0)).reversed().first { RunSummary.warmupSteps(steps: timedSteps + $0) == $0 } ?? 0
    }
}
