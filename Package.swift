// swift-tools-version:6.0
import PackageDescription

/// The hot kernels (Tensor) are compiled with -Ounchecked in release builds; everything
/// else keeps Swift's checks.
let kernelSettings: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

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
        .target(name: "Train", dependencies: [
            "Tensor", "NN", "Data", "Comm",
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        .executableTarget(name: "lockstep", dependencies: [
            "Train", "Comm", "Data",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Test helpers: tolerance asserts, fixtures, and the launcher for the real binary under mpirun.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TrainTests", dependencies: ["Train", "NN", "TestSupport"]),
        .testTarget(name: "lockstepTests", dependencies: ["TestSupport"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DataTests", dependencies: ["Data", "TestSupport"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
