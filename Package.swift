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
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // System libraries, each behind a small shim header.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Libraries; dependencies point one way: Tensor <- NN, Data; Comm stands alone; Train joins them.
        .target(name: "Tensor", dependencies: ["CBLAS"], swiftSettings: kernelSettings),
        .target(name: "NN", dependencies: ["Tensor"]),
        .target(name: "Data", dependencies: ["Tensor", "CZlib"]),
        .target(name: "Comm", dependencies: ["CMPI"], swiftSettings: kernelSettings),
        // The TOML reader: pure Swift, no dependencies; never traps, keeps every key's position.
        .target(name: "TOML"),
        .target(name: "Train", dependencies: [
            "Tensor", "NN", "Data", "Comm",
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        .executableTarget(name: "lockstep", dependencies: [
            "Train", "Comm", "Data", "Tensor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Test helpers: tolerance asserts, fixtures, and the launcher for the real binary under mpirun.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TrainTests", dependencies: ["Train", "NN", "TestSupport"]),
        .testTarget(name: "lockstepTests", dependencies: ["TestSupport"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DataTests", dependencies: ["Data", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TOMLTests", dependencies: ["TOML"]),

        // Fuzz targets, one executable per reader: built by scripts/fuzz with libFuzzer and
        // -D FUZZING; in an ordinary build each replays its seed corpus and regression inputs.
        .target(name: "FuzzSupport", path: "Fuzz/Support"),
        .executableTarget(name: "FuzzTOML", dependencies: ["TOML", "FuzzSupport"], path: "Fuzz/TOML"),
    ],
    swiftLanguageModes: [.v6]
)
