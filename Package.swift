// swift-tools-version:6.0
import PackageDescription

/// The hot kernels (Tensor, and Comm's reductions and wire formats) are compiled with
/// -Ounchecked in release builds, and on x86-64 for x86-64-v3 (AVX2, FMA, F16C), so that their
/// loops vectorise 8 wide; `lockstep` checks the CPU for these before anything runs.
/// Everything else keeps Swift's checks and the baseline instruction set.
#if arch(x86_64)
let kernelFlags = ["-Ounchecked", "-Xcc", "-march=x86-64-v3"]
#else
let kernelFlags = ["-Ounchecked"]
#endif
let kernelSettings: [SwiftSetting] = [.unsafeFlags(kernelFlags, .when(configuration: .release))]

let package = Package(
    name: "Lockstep",
    products: [
        .executable(name: "lockstep", targets: ["lockstep"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // System libraries, each behind a small shim header.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // oneDNN 2.6 (no pkg-config file in Debian): matmul and direct convolutions.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),

        // The register-resident FMA loop that measures a core's peak: optimised in every build,
        // so that its accumulators stay in registers.
        .target(name: "CPeak", cSettings: [.unsafeFlags(["-O2"])]),

        // The compute core, the models and the data: they know nothing of MPI.
        .target(name: "Tensor", dependencies: ["CBLAS", "CDNNL"], swiftSettings: kernelSettings),
        .target(name: "NN", dependencies: ["Tensor"]),
        .target(name: "Data", dependencies: ["Tensor", "CZlib"]),

        // Communication: the protocol and a world of one; the MPI backend apart.
        .target(name: "Comm", swiftSettings: kernelSettings),
        .target(name: "CommMPI", dependencies: ["Comm", "CMPI"], swiftSettings: kernelSettings),

        // The machine and its processes: console lines, child processes, ports, machine facts.
        .target(name: "Host", dependencies: ["Tensor", "CPeak", .product(name: "Crypto", package: "swift-crypto")]),
        // One phase recorder: the timeline, the phase times and what the watchdog sees.
        .target(name: "Trace", dependencies: ["Comm"]),
        // The TOML reader: pure Swift, no dependencies; never traps, keeps every key's position.
        .target(name: "TOML"),
        // Configs: TOML, the schema of every key, one typed section per component.
        .target(name: "RunConfig", dependencies: ["Tensor", "NN", "Comm", "TOML"]),
        // How a step's gradients become the world's sum: one type per strategy.
        .target(name: "GradSync", dependencies: ["Tensor", "NN", "Comm", "Trace", "RunConfig"]),
        // Checkpoints: safetensors, durable writes, typed metadata, resume.
        .target(name: "Checkpoint", dependencies: [
            "Tensor", "NN", "Comm", "Host", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Metrics where people look at them: JSON Lines and TensorBoard event files.
        .target(name: "Metrics"),
        // Other frameworks: models exported for PyTorch, Keras, JAX and numpy; weights made
        // elsewhere checked and imported (train.init_from).
        .target(name: "Interop", dependencies: ["Tensor", "NN", "Data", "RunConfig", "Checkpoint"]),
        // The trainer: it sees the Comm protocol only.
        .target(name: "Train", dependencies: [
            "Tensor", "NN", "Data", "Comm", "Host", "Trace", "RunConfig", "GradSync", "Checkpoint", "Metrics", "Interop",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Step and all-reduce benchmarks.
        .target(name: "Bench", dependencies: ["Tensor", "Comm", "CommMPI", "Host", "RunConfig", "Train"]),
        // What people read: charts, the scaling study, the comparison harness, the cost model.
        .target(name: "Reports", dependencies: ["Host", "RunConfig", "Train", "Bench", "Metrics"]),
        // The CLI: it picks the communication backend.
        .executableTarget(name: "lockstep", dependencies: [
            "Tensor", "Data", "Comm", "CommMPI", "Host", "Trace", "RunConfig", "Checkpoint", "Train", "Bench", "Reports",
            "Interop", "Metrics",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Test helpers: tolerance asserts, fixtures, and the launcher for the real binary under mpirun.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DataTests", dependencies: ["Data", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "RunConfigTests", dependencies: ["RunConfig", "NN", "TestSupport"]),
        .testTarget(name: "GradSyncTests", dependencies: ["GradSync", "NN", "TestSupport"]),
        .testTarget(name: "CheckpointTests", dependencies: [
            "Checkpoint", "Host", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "TrainTests", dependencies: ["Train", "TestSupport"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Bench", "Train", "GradSync", "Host", "NN", "TestSupport"]),
        .testTarget(name: "lockstepTests", dependencies: ["Data", "TestSupport"]),
        .testTarget(name: "TOMLTests", dependencies: ["TOML"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
        .testTarget(name: "InteropTests", dependencies: ["Interop", "NN", "Checkpoint", "TestSupport"]),

        // Fuzz targets, one executable per reader: built by scripts/fuzz with libFuzzer and
        // -D FUZZING; in an ordinary build each replays its seed corpus and regression inputs.
        .target(name: "FuzzSupport", path: "Fuzz/Support"),
        .executableTarget(name: "FuzzTOML", dependencies: ["TOML", "FuzzSupport"], path: "Fuzz/TOML"),
        .executableTarget(name: "FuzzConfig", dependencies: ["RunConfig", "FuzzSupport"], path: "Fuzz/Config"),
        .executableTarget(name: "FuzzCheckpoint", dependencies: ["Checkpoint", "FuzzSupport"], path: "Fuzz/Checkpoint"),
        .executableTarget(name: "FuzzIDX", dependencies: ["Data", "FuzzSupport"], path: "Fuzz/IDX"),
        .executableTarget(name: "FuzzTokens", dependencies: ["Data", "FuzzSupport"], path: "Fuzz/Tokens"),
    ],
    swiftLanguageModes: [.v6]
)
